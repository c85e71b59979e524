"""The prediction service as a real server process on loopback, with concurrent clients."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from nirom.apps.quantities import parse_quantities
from nirom.serve import Predictor, RequestError

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body, headers or {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _post(port: int, payload) -> tuple[int, dict]:
    return _call(port, "POST", "/predict", json.dumps(payload).encode())


@pytest.fixture(scope="module")
def server(small_block) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nirom.cli",
            "serve",
            str(small_block.gp_path),
            "--port",
            str(port),
            "--max-batch",
            "50",
            "--max-body",
            "20000",
            "--max-response-mb",
            "0.2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if _call(port, "GET", "/health")[0] == 200:
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"server did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=30)
    assert proc.returncode is not None


MU = {"k_0": 0.5, "k_1": 2.0, "k_2": 1.0, "k_3": 0.3}


def test_health_and_model_card(server, small_block) -> None:
    assert _call(server, "GET", "/health") == (200, {"status": "ok", "kind": "pod"})
    status, card = _call(server, "GET", "/model")
    assert status == 200 and card["error_bars"] is True
    assert [p["name"] for p in card["parameters"]] == ["k_0", "k_1", "k_2", "k_3"]
    assert card["mesh"]["n_points"] == 169 and card["training_samples"] == 64
    assert card["fit_s"] > 0 and card["dataset"] == str(small_block.train.path.resolve())


def test_predictions_equal_the_model_in_process(server, small_block) -> None:
    model = small_block.gp
    mean, std = model.predict(MU, return_std=True)
    status, out = _post(server, {"parameters": MU, "std": True})
    assert status == 200
    np.testing.assert_allclose(out["fields"]["u"], mean["u"], rtol=1e-12)
    np.testing.assert_allclose(out["std"]["u"], std["u"], rtol=1e-8)  # one BLAS thread there
    batch = [MU, {**MU, "k_0": 3.0}]
    status, out = _post(server, {"parameters": batch, "nodes": [5, 80], "quantities": ["max(u)"]})
    expected = model.predict(batch)["u"]
    assert status == 200 and np.shape(out["fields"]["u"]) == (2, 2)
    np.testing.assert_allclose(out["fields"]["u"], expected[:, [5, 80]], rtol=1e-12)
    np.testing.assert_allclose(out["quantities"]["max(u)"], expected.max(axis=1), rtol=1e-12)
    status, out = _post(server, {"parameters": MU, "quantities": ["mean(u)"], "std": True})
    assert set(out) == {"quantities", "quantities_std"}  # no whole field unless asked
    assert isinstance(out["quantities"]["mean(u)"], float)  # one set: a number, not a list
    assert isinstance(out["quantities_std"]["mean(u)"], float)
    # the domain mean's std counts the correlations between values (its covariance)
    cov = model.predict_covariance(MU, rows={"u": None})
    q = parse_quantities(["mean(u)"], model.fields_, model.mesh_)[0]
    mean1 = {"u": mean["u"][None]}
    expected_std = q.std(mean1, None, cov)[0]
    assert expected_std < 0.99 * q.std(mean1, {"u": std["u"][None]})[0]
    np.testing.assert_allclose(out["quantities_std"]["mean(u)"], expected_std, rtol=1e-8)


@pytest.mark.parametrize(
    ("payload", "status", "match"),
    [
        ({"parameters": {**MU, "k_1": 50.0}}, 422, "parameter 'k_1': value 50 is out of bounds"),
        ({"parameters": {"k_0": 1.0}}, 422, "missing parameter(s): 'k_1'"),
        ({"parameters": {**MU, "k_9": 1.0}}, 422, "unknown parameter(s) 'k_9'"),
        ({"parameters": {**MU, "k_0": "hot"}}, 422, "parameter 'k_0'"),
        ({"parameters": {**MU, "k_0": True}}, 422, "parameter 'k_0'"),
        ({"parameters": [MU] * 51}, 413, "batch of 51 parameter sets; at most 50"),
        ({"parameters": [MU] * 50, "std": True}, 413, "over the limit of 0.2 MB"),
        ({"parameters": []}, 422, "empty list"),
        ({"parameters": MU, "fields": ["T"]}, 422, "unknown field 'T'"),
        ({"parameters": MU, "quantities": ["max(T)"]}, 422, "unknown field 'T'"),
        ({"parameters": MU, "nodes": [9999]}, 422, "node 9999 is out of range"),
        ({"parameters": MU, "std": "yes"}, 422, "'std' must be true or false"),
        ({"parametres": MU}, 422, "unknown key(s) ['parametres']"),
        ([1, 2], 422, "JSON object"),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_culprit(
    server, payload, status: int, match: str
) -> None:
    got, body = _post(server, payload)
    assert got == status and match in body["detail"], body


def test_malformed_and_oversized_bodies(server) -> None:
    status, body = _call(server, "POST", "/predict", b'{"parameters": {"k_0": ')
    assert status == 400 and "not valid JSON" in body["detail"]
    big = json.dumps({"parameters": MU, "nodes": list(range(5000))}).encode()
    status, body = _call(server, "POST", "/predict", big)
    assert status == 413 and "at most 20000" in body["detail"]
    assert _call(server, "GET", "/health")[0] == 200  # still serving


def test_concurrent_clients_all_succeed(server, small_block) -> None:
    model = small_block.gp
    rng = np.random.default_rng(0)
    x = model.space_.from_unit(rng.random((8, 25, 4)).reshape(-1, 4)).reshape(8, 25, 4)
    failures: list[str] = []

    def client(rows: np.ndarray) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
        for row in rows:  # a bounded loop: 25 requests on one kept-alive connection
            mu = model.space_.as_dict(row)
            conn.request(
                "POST",
                "/predict",
                json.dumps({"parameters": mu, "quantities": ["max(u)"]}),
                {"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            out = json.loads(response.read())
            expected = model.predict(mu)["u"].max()
            value = out["quantities"]["max(u)"]
            if (
                response.status != 200
                or not isinstance(value, float)
                or not np.isclose(value, expected)
            ):
                failures.append(f"{response.status}: {out}")
        conn.close()

    threads = [threading.Thread(target=client, args=(x[c],)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures and not any(t.is_alive() for t in threads)


def test_predictor_refuses_std_without_error_bars(small_block) -> None:
    predictor = Predictor(small_block.rbf)
    with pytest.raises(RequestError, match="no error bars"):
        predictor.predict(predictor.check({"parameters": MU, "std": True}))


def test_a_batch_of_requests_answers_each_quantity_std_as_alone(small_block) -> None:
    """predict_many computes the quantities' covariance once for the batch; each row's
    std equals that of the same request answered alone."""
    predictor = Predictor(small_block.gp)
    bodies = [
        predictor.check({"parameters": {**MU, "k_0": k}, "quantities": ["mean(u)"], "std": True})
        for k in (0.5, 3.0)
    ]
    together = predictor.predict_many(bodies)
    for body, answer in zip(bodies, together, strict=True):
        alone = predictor.predict(body)
        np.testing.assert_allclose(
            answer["quantities_std"]["mean(u)"], alone["quantities_std"]["mean(u)"], rtol=1e-8
        )
