"""``/health`` of `nirom serve` while 16 clients keep a hyper-reduced model busy.

Target (issue 21): ``/health`` answers in 50 ms or less with 16 concurrent clients on an
hrom model (a liveness probe must not restart a working server); before predictions ran
off the event loop it took 2.4-3.0 s.

The model: ``hrom`` with default settings on ``--samples`` plate-hole histories (the
built-in case at its default resolution, 2,090 unknowns), made in ``--workdir`` on the
first run and reused. The server is a real ``nirom serve`` process on a loopback port;
16 client threads post one parameter set each, again and again (each prediction is a
whole load history), while one more thread asks ``/health`` every 0.1 s. Printed: the
median, 95th percentile and largest ``/health`` time, and the predictions answered per
second, with the load average.

Run::

    python benchmarks/serve_health.py --workdir /tmp/serve-health [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from nirom import Dataset, generate
from nirom.surrogates import make_surrogate

sys.path.insert(0, str(Path(__file__).parent))
from serve import free_port, start_server  # the throughput benchmark's helpers


def model_path(workdir: Path, samples: int) -> Path:
    path = workdir / "hrom.model"
    if not path.exists():
        data = generate(
            "plate-hole", workdir / "plate.nirom", samples, workers=0, console=Console(quiet=True)
        ).dataset
        make_surrogate("hrom").fit(data).save(path)
    return path


def post_loop(port: int, mus: list[dict], stop: threading.Event, done: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    k = 0
    while not stop.is_set():
        body = json.dumps({"parameters": mus[k % len(mus)], "fields": ["indicator"]})
        conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            done.append(1)
        k += 1
    conn.close()


def health_loop(port: int, stop: threading.Event, times: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while not stop.is_set():
        start = time.perf_counter()
        conn.request("GET", "/health")
        conn.getresponse().read()
        times.append(time.perf_counter() - start)
        time.sleep(0.1)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nirom-health-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = model_path(workdir, args.samples)
    data = Dataset(workdir / "plate.nirom")
    mus = [{k: float(v) for k, v in mu.items()} for mu in data.parameter_sets()]
    port = free_port()
    server = start_server(path, port)
    try:
        stop, done, health = threading.Event(), [], []
        threads = [
            threading.Thread(target=post_loop, args=(port, mus, stop, done))
            for _ in range(args.clients)
        ]
        threads.append(threading.Thread(target=health_loop, args=(port, stop, health)))
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait()
    ms = 1e3 * np.asarray(health)
    print(
        f"2 cores, load average {os.getloadavg()[0]:.1f}; {args.clients} clients on hrom "
        f"({len(done) / args.seconds:.1f} predictions/s)"
    )
    print(
        f"/health: median {statistics.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
        f"max {ms.max():.1f} ms over {len(ms)} calls (target <= 50 ms)"
    )


if __name__ == "__main__":
    main()
