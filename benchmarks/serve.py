"""Throughput and latency of `nirom serve` under concurrent clients, on loopback.

Target (issue 13): at least 500 single predictions per second for the
thermal-block pod-gp model, p99 latency under 20 ms, with 8 concurrent
clients, on this 2-core machine (clients and server share the cores).

The model is the example study's: 3 x 3 thermal block at resolution 48
(2,401 nodes), pod-gp (energy 1e-4) on 128 Sobol samples, made in
``--workdir`` on the first run and reused. The server runs as a real
``nirom serve`` process on a free loopback port; each client thread keeps
one HTTP/1.1 connection and sends a bounded number of requests, each one
parameter set drawn at random in the space. Three kinds of request are
measured: the whole field, 10 sensor nodes, and two quantities (max, mean).

Run::

    python benchmarks/serve.py --workdir /tmp/serve-bench
    python benchmarks/serve.py --requests 200 --kinds field   # quicker
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from nirom import Dataset, generate
from nirom.surrogates import PODSurrogate, Surrogate

KINDS = {
    "field": {},
    "nodes": {"nodes": list(range(1200, 1210))},
    "quantities": {"quantities": ["max(u)", "mean(u)"]},
}


def model_path(workdir: Path) -> Path:
    """The thermal-block pod-gp model, fitted once into ``workdir``."""
    path = workdir / "tb-gp.model"
    if not (path / "model.json").is_file():
        train = generate(
            "thermal-block",
            workdir / "train.nirom",
            128,
            workers=2,
            solver_options={"resolution": 48},
            console=Console(quiet=True),
        ).dataset
        model = PODSurrogate(regressor="gp", energy=1e-4, regressor_params={"n_restarts": 1})
        model.fit(Dataset(train.path)).save(path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: Path, port: int, batching: bool = True) -> subprocess.Popen:
    flag = "--batching" if batching else "--no-batching"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nirom.cli", "serve", str(model), "--port", str(port), flag],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server did not start: {proc.stderr.read().decode()[-2000:]}")


def client(port: int, bodies: list[bytes], latencies: list[float], failures: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    for body in bodies:
        start = time.perf_counter()
        conn.request("POST", "/predict", body, headers)
        response = conn.getresponse()
        data = response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            failures.append(f"{response.status}: {data[:200]!r}")
    conn.close()


def run(port: int, space, extra: dict, n_clients: int, n_requests: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    latencies: list[list[float]] = [[] for _ in range(n_clients)]
    failures: list[str] = []
    threads = []
    for c in range(n_clients):
        x = space.from_unit(rng.random((n_requests, space.dim)))
        bodies = [json.dumps({"parameters": space.as_dict(row), **extra}).encode() for row in x]
        threads.append(threading.Thread(target=client, args=(port, bodies, latencies[c], failures)))
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat = np.concatenate([np.array(v) for v in latencies])
    return {
        "requests": len(lat),
        "failed": len(failures),
        "throughput_per_s": len(lat) / wall,
        "p50_ms": 1e3 * float(np.percentile(lat, 50)),
        "p99_ms": 1e3 * float(np.percentile(lat, 99)),
        "max_ms": 1e3 * float(lat.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None, help="serve this model instead")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500, help="per client")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-batching", action="store_true", help="serve without batching")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nirom-serve-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = args.model or model_path(workdir)
    space = Surrogate.load(path).space_
    port = free_port()
    server = start_server(path, port, batching=not args.no_batching)
    try:
        run(port, space, {}, 2, 20, args.seed + 99)  # warm-up
        for kind in args.kinds:
            r = run(port, space, KINDS[kind], args.clients, args.requests, args.seed)
            print(
                f"{kind:10s} {args.clients} clients x {args.requests}: "
                f"{r['throughput_per_s']:7.1f} predictions/s  p50 {r['p50_ms']:.2f} ms  "
                f"p99 {r['p99_ms']:.2f} ms  max {r['max_ms']:.1f} ms  failed {r['failed']}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("target: >= 500 predictions/s, p99 < 20 ms with 8 clients (thermal-block pod-gp)")


if __name__ == "__main__":
    main()
