"""Start-up time of `nirom serve`: from process start to the first 200 on GET /health.

Each start runs ``python -m nirom.cli serve MODEL --port P`` as a new
process and polls ``/health`` every 20 ms; the time counted is from just
before the process is spawned to the first successful answer (Python start,
imports, model load, model card, uvicorn bind). The figure printed is the
median of ``--starts`` starts (and their range), with the 1-minute load
average read before and after, and the median time of a bare
``import nirom.cli, nirom.serve`` in a new process (which imports every
surrogate kind, SciPy, scikit-learn, numba, zarr, FastAPI and uvicorn), which
shows how much of the start-up is imports.

Models: the demo's pod-gp (``nirom demo`` in ``--workdir``: 3 x 3 thermal
block at resolution 48, 2,401 nodes, 64 samples), made on the first run and
reused; with ``--fno``, a small FNO (Darcy at 29 x 29, 16 samples, 2 epochs:
its start-up does not depend on how well it is trained) which also imports
PyTorch. ``--busy N`` runs N CPU-bound processes during the measurement,
to see the start-up under load.

Run::

    python benchmarks/serve_startup.py --workdir /tmp/serve-startup
    python benchmarks/serve_startup.py --workdir /tmp/serve-startup --fno --busy 2
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_S = 0.02


def demo_model(workdir: Path) -> Path:
    """The demo's pod-gp model, made by ``nirom demo`` in ``workdir`` on the first run."""
    path = workdir / "nirom-demo" / "pod-gp.model"
    if not (path / "model.json").is_file():
        subprocess.run(
            [sys.executable, "-m", "nirom.cli", "demo"],
            cwd=workdir,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def fno_model(workdir: Path) -> Path:
    """A small Darcy FNO (29 x 29 grid, 16 samples, 2 epochs), fitted once into ``workdir``."""
    path = workdir / "darcy-fno.model"
    if not (path / "model.json").is_file():
        from rich.console import Console

        from nirom import generate
        from nirom.surrogates.neural import FNOSurrogate

        train = generate(
            "darcy",
            workdir / "darcy.nirom",
            16,
            workers=0,
            solver_options={"resolution": 29, "solve_resolution": 85},
            console=Console(quiet=True),
        ).dataset
        model = FNOSurrogate(modes=8, width=16, n_layers=2, epochs=2, progress=False)
        model.fit(train).save(path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    """Whether GET /health answers 200 now."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def startup_seconds(model: Path, timeout_s: float = 180.0) -> float:
    """Seconds from spawning ``nirom serve MODEL`` to its first 200 on /health."""
    port = free_port()
    command = [sys.executable, "-m", "nirom.cli", "serve", str(model), "--port", str(port)]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not healthy(port):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
            if time.perf_counter() - start > timeout_s:
                raise RuntimeError(f"no answer on /health within {timeout_s} s")
            time.sleep(POLL_S)
        return time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def import_seconds() -> float:
    """Seconds a new Python process takes to import what ``nirom serve`` imports."""
    start = time.perf_counter()
    code = "import nirom.cli, nirom.serve, fastapi, uvicorn"
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


@contextmanager
def busy(n: int) -> Iterator[None]:
    """``n`` CPU-bound processes running for the duration (stopped by their ids)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def load_average() -> float:
    return os.getloadavg()[0]


def report(label: str, times: list[float], load: tuple[float, float]) -> None:
    print(
        f"{label:28s} median {statistics.median(times):5.2f} s  "
        f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} starts)  "
        f"load {load[0]:.2f} -> {load[1]:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--fno", action="store_true", help="an FNO model too (imports torch)")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes beside")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nirom-serve-startup-"))
    workdir.mkdir(parents=True, exist_ok=True)
    models = {"pod-gp (demo thermal block)": demo_model(workdir)}
    if args.fno:
        models["fno (darcy 29 x 29)"] = fno_model(workdir)
    print(f"{os.cpu_count()} CPUs, {args.busy} busy process(es) beside", flush=True)
    with busy(args.busy):
        before = load_average()
        times = [import_seconds() for _ in range(args.starts)]
        report("imports only (nirom.serve)", times, (before, load_average()))
        for label, path in models.items():
            before = load_average()
            times = [startup_seconds(path) for _ in range(args.starts)]
            report(f"nirom serve {label}", times, (before, load_average()))


if __name__ == "__main__":
    main()
