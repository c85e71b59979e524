#!/usr/bin/env bash
# Run a script with FEniCSx's Python (made by setup.sh): bash run.sh script.py args...
# One thread per process: nirom runs one program per Dask worker.
set -euo pipefail
VENV="${NIROM_FENICSX_VENV:-$HOME/.venvs/nirom-fenicsx}"
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "run.sh: no FEniCSx environment at $VENV; run setup.sh (beside this file) first" >&2
    exit 127
fi
export LD_LIBRARY_PATH="$VENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
exec "$VENV/bin/python" "$@"
