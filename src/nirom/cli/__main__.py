"""``python -m nirom.cli``."""

import sys

from nirom.cli.app import main

sys.exit(main())
