#!/usr/bin/env bash
# Make FEniCSx's own virtual environment (dolfinx 0.11, PETSc, petsc4py, meshio) for the
# nirom examples in this folder. nirom itself is not installed there: nirom runs the
# FEniCSx programs as subprocesses (through run.sh), and they never import nirom.
#
#   bash examples/fenicsx/setup.sh        # idempotent; prints the line to use
#
# The dolfinx-solver-real wheel needs Python 3.12; its MPI library (MPICH) lives in
# VENV/lib, which must be on LD_LIBRARY_PATH (run.sh sets it).
# Environment: NIROM_FENICSX_VENV (default ~/.venvs/nirom-fenicsx),
#              NIROM_FENICSX_PYTHON (a python3.12 to build it with; default: found below).
set -euo pipefail

VENV="${NIROM_FENICSX_VENV:-$HOME/.venvs/nirom-fenicsx}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

find_python() {
    if [[ -n "${NIROM_FENICSX_PYTHON:-}" ]]; then
        echo "$NIROM_FENICSX_PYTHON"
        return
    fi
    local candidate
    for candidate in python3.12 "$HOME/.pyenv/versions/3.12"*/bin/python3.12; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        candidate="$(pyenv root)/versions/$(pyenv versions --bare | { grep -E '^3\.12' || true; } | tail -n 1)/bin/python3.12"
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return
        fi
    fi
    echo "setup.sh: no Python 3.12 found (dolfinx-solver-real needs it); install one" \
        "(e.g. 'pyenv install 3.12') or set NIROM_FENICSX_PYTHON" >&2
    exit 1
}

works() {
    LD_LIBRARY_PATH="$VENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$VENV/bin/python" -c \
        'import dolfinx, meshio, petsc4py.PETSc; assert dolfinx.__version__.startswith("0.11")' \
        >/dev/null 2>&1
}

if [[ -x "$VENV/bin/python" ]] && works; then
    echo "setup.sh: FEniCSx already set up in $VENV" >&2
else
    if [[ ! -x "$VENV/bin/python" ]]; then
        PYTHON="$(find_python)"
        echo "setup.sh: creating $VENV with $PYTHON" >&2
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # dolfinx 0.11 with PETSc (real scalars) and its MPI; meshio reads the examples' .msh files.
    "$VENV/bin/python" -m pip install --quiet "dolfinx-solver-real==0.11.*" "meshio>=5.3"
    works || {
        echo "setup.sh: dolfinx does not import from $VENV" >&2
        exit 1
    }
fi
echo "LD_LIBRARY_PATH=$VENV/lib $VENV/bin/python   # or: bash $HERE/run.sh script.py args..."
