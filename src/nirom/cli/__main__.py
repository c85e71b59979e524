"""``python -m nirom.cli``."""

import sys

from nirom.cli.app import main

if __name__ == "__main__":  # workers started by Dask import this module again
    sys.exit(main())
