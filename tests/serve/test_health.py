"""Predictions run off the event loop: ``/health`` answers at once while a slow model works
(a liveness probe must not restart a server that is busy computing)."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

from nirom.serve import create_app
from nirom.surrogates import Surrogate

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

MU = {"k_0": 0.5, "k_1": 2.0, "k_2": 1.0, "k_3": 0.3}
SLOW_S = 1.5  # each model call, as an hrom simulating a long history


def _request(port: int, method: str, path: str, body: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, None if body is None else json.dumps(body))
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.parametrize("batching", [True, False])
def test_health_answers_while_slow_predictions_run(small_block, served, batching: bool) -> None:
    model = Surrogate.load(small_block.gp_path)
    compute = model._predict_batch

    def slow(*args, **kwargs):
        time.sleep(SLOW_S)
        return compute(*args, **kwargs)

    model._predict_batch = slow  # the instance's own: the class is untouched
    with served(create_app(model, batching=batching)) as port:
        statuses: list[int] = []
        clients = [
            threading.Thread(
                target=lambda: statuses.append(
                    _request(port, "POST", "/predict", {"parameters": MU})
                )
            )
            for _ in range(4)
        ]
        for client in clients:
            client.start()
        time.sleep(0.3)  # the predictions are computing now
        start = time.monotonic()
        assert _request(port, "GET", "/health") == 200
        waited = time.monotonic() - start
        for client in clients:
            client.join()
        assert statuses == [200] * 4
        assert waited < SLOW_S / 3, f"/health waited {waited:.2f} s behind the predictions"
