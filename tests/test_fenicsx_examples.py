"""The FEniCSx examples (examples/fenicsx/) through the command line, as a user types them:
nirom's own solvers agree with the dolfinx programs on the same meshes, hrom and pod-gp
from the plasticity time series, rb from the program's PETSc matrices in both forms equal
to rb from nirom's own matrices. Slow (a few minutes); skipped without FEniCSx's venv."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nirom.dataset import Dataset
from nirom.mesh import match_points

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fenicsx"
VENV = Path(os.environ.get("NIROM_FENICSX_VENV", Path.home() / ".venvs" / "nirom-fenicsx"))
THERMAL = "thermal-block -s nx_blocks=2 -s ny_blocks=2 -s resolution=48"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not (VENV / "bin" / "python").is_file(),
        reason=f"no FEniCSx venv at {VENV} (bash examples/fenicsx/setup.sh makes it)",
    ),
]


def nirom(workdir: Path, line: str) -> str:
    """``nirom LINE`` run in ``workdir``; its stdout (the test fails with its output)."""
    exe = shutil.which("nirom") or str(Path(sys.executable).with_name("nirom"))
    done = subprocess.run(
        [exe, *shlex.split(line)], cwd=workdir, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"nirom {line}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


def evaluate(workdir: Path, line: str) -> dict[str, Any]:
    return json.loads(nirom(workdir, f"evaluate {line} --json"))


def largest_difference(ours: Path, reference: Path) -> dict[str, float]:
    """Largest relative difference (over samples; a sample's whole series) of u and p of two
    datasets of the same parameter sets, nodes matched by coordinates, a zero z dropped."""
    a, b = Dataset(ours), Dataset(reference)
    np.testing.assert_array_equal(a.parameters(), b.parameters())
    order = match_points(b.mesh.points, a.mesh.points)
    assert not np.array_equal(order, np.arange(order.size))  # dolfinx's order is not nirom's
    out = {}
    for name in ("u", "p"):
        if name not in b.fields:
            continue
        fa, fb = a.field(name), b.field(name)
        fa = fa[:, :, order] if a.field_spec(name).times is not None else fa[:, order]
        if fa.shape != fb.shape:  # dolfinx writes a 2D displacement with a zero z
            assert np.all(fa[..., fb.shape[-1] :] == 0)
            fa = fa[..., : fb.shape[-1]]
        fa, fb = fa.reshape(len(fa), -1), fb.reshape(len(fb), -1)
        out[name] = float(np.max(np.linalg.norm(fa - fb, axis=1) / np.linalg.norm(fb, axis=1)))
    return out


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of examples/fenicsx in tmp_path (the programs' run folders go beside the
    TOML files), the commands' working folder."""
    shutil.copytree(EXAMPLE, tmp_path / "fenicsx", ignore=shutil.ignore_patterns("*-runs"))
    return tmp_path


def test_plasticity_plate_time_series_to_hrom_and_pod_gp(workdir: Path) -> None:
    solver, case = "fenicsx/plate_hole/solver.toml", "fenicsx/plate_hole/case.toml"
    # 6 training loads on a grid (124-216 MPa), 2 held-out between them (142.5, 197.5 MPa)
    nirom(workdir, f"generate {solver} -n 6 --design grid -o fx.nirom")
    nirom(workdir, f"generate {solver} -n 2 --design grid -o fx-test.nirom")
    nirom(workdir, f"generate {case} -n 2 --design grid -o nirom-test.nirom")

    test = Dataset(workdir / "fx-test.nirom")
    np.testing.assert_allclose(test.field_spec("u").times, np.arange(21) / 20, atol=1e-15)
    for sample_id in test.sample_ids():
        info = test.read_meta(sample_id)["info"]
        assert info["solve_time_source"] == "reported"  # the program's own time-stepping
        assert info["reported_solve_time_s"] < info["wall_time_s"]
    agree = largest_difference(workdir / "fx-test.nirom", workdir / "nirom-test.nirom")
    assert agree["u"] < 1e-8 and agree["p"] < 1e-8, agree

    nirom(workdir, f"fit fx.nirom --model hrom --case {case} -o hrom")
    hrom = evaluate(workdir, "hrom fx-test.nirom")["fields"]
    assert hrom["u"]["relative_l2"]["mean"] < 1e-3, hrom["u"]
    assert hrom["p"]["relative_l2"]["mean"] < 5e-2, hrom["p"]
    # nirom's own histories, in nirom's node order: the same figures
    reordered = evaluate(workdir, "hrom nirom-test.nirom -f p")["fields"]["p"]["relative_l2"]
    np.testing.assert_allclose(reordered["mean"], hrom["p"]["relative_l2"]["mean"], rtol=1e-6)

    nirom(workdir, "fit fx.nirom --model pod-gp -o gp")
    gp = evaluate(workdir, "gp fx-test.nirom")["fields"]
    assert gp["u"]["relative_l2"]["mean"] < 0.1, gp["u"]


def test_thermal_block_rb_from_the_program_matrices_equals_rb_from_nirom(workdir: Path) -> None:
    fx = "fenicsx/thermal_block"
    nirom(workdir, f"generate {fx}/solver_operators.toml -n 10 --operators -o fx-free.nirom")
    nirom(workdir, f"generate {fx}/solver_operators_full.toml -n 10 --operators -o fx-full.nirom")
    nirom(workdir, f"generate {THERMAL} -n 10 --operators -o nirom.nirom")
    nirom(workdir, f"generate {fx}/solver.toml -n 4 --design random --seed 1 -o fx-test.nirom")
    nirom(workdir, f"generate {THERMAL} -n 4 --design random --seed 1 -o nirom-test.nirom")
    for ours, reference in (("fx-free", "nirom"), ("fx-full", "nirom"), ("fx-test", "nirom-test")):
        agree = largest_difference(workdir / f"{ours}.nirom", workdir / f"{reference}.nirom")
        assert agree["u"] < 1e-8, (ours, agree)
    assert Dataset(workdir / "fx-test.nirom").field_spec("u").times is None  # steady XDMF

    fits = {
        "rb-free": "fx-free.nirom --model rb -O operator=eim",
        "rb-full": "fx-full.nirom --model rb -O operator=eim",
        "rb-nirom": "nirom.nirom --model rb",
    }
    figures = {}
    for name, fit in fits.items():
        nirom(workdir, f"fit {fit} -o {name}")
        for test in ("fx-test", "nirom-test"):
            u = evaluate(workdir, f"{name} {test}.nirom")["fields"]["u"]
            assert u["bound"]["bounded_fraction"] == 1.0
            figures[name, test] = [
                u["relative_l2"]["mean"],
                u["relative_l2"]["max"],
                u["bound"]["effectivity"]["median"],
                u["bound"]["effectivity"]["max"],
            ]
    reference = figures["rb-nirom", "nirom-test"]
    assert reference[0] < 0.05 and reference[2] >= 1.0, reference
    for key, values in figures.items():  # both matrix forms, both node orders: round-off
        np.testing.assert_allclose(values, reference, rtol=1e-6, err_msg=str(key))

    nirom(workdir, "fit fx-free.nirom --model pod-gp -o gp")
    gp = evaluate(workdir, "gp fx-test.nirom")["fields"]["u"]["relative_l2"]
    assert np.isfinite(gp["mean"])


def test_the_guide_your_own_solver_runs_as_pasted(tmp_path: Path) -> None:
    """Every shell block of the guide page "Your own solver" (docs/guide/own-solver.md), in
    order, in one shell, from a fresh folder beside the examples (as from the repository
    root)."""
    import re

    page = (EXAMPLE.parents[1] / "docs" / "guide" / "own-solver.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", page, flags=re.S)
    assert len(blocks) >= 5
    (tmp_path / "examples").symlink_to(EXAMPLE.parent)
    script = "set -euo pipefail\n" + "\n".join(blocks)
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (tmp_path / "own-solver" / "plate-fx-hrom" / "model.json").is_file()
