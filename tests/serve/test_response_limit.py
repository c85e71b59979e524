"""The service refuses, before predicting, answers estimated over its response size limit."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import orjson
import pytest

from nirom.serve import Predictor, RequestError, create_app

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

MU = {"k_0": 0.5, "k_1": 2.0, "k_2": 1.0, "k_3": 0.3}
LIMIT = 50_000  # bytes: 7 sets of the 169-node field with std (~6.8 kB a set), 14 without


@pytest.fixture(scope="module")
def limited(small_block, served) -> Iterator[int]:
    """A server of the small block's pod-gp with a 50 kB response limit, in a thread."""
    with served(create_app(small_block.gp_path, max_response_bytes=LIMIT)) as port:
        yield port


def _post(port: int, payload: dict) -> tuple[int, bytes]:
    """Status and raw body of POST /predict."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/predict", json.dumps(payload), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_answer_over_the_limit_is_refused_with_413_naming_it(limited) -> None:
    status, raw = _post(limited, {"parameters": [MU] * 10, "std": True})
    detail = orjson.loads(raw)["detail"]
    assert status == 413, detail
    assert detail.splitlines()[0] == (
        "response would be about 0.068 MB, over the limit of 0.05 MB (--max-response-mb): "
        "ask for at most 7 parameter sets per request, or fewer fields, "
        "values at 'nodes' or 'quantities' only, or no 'std'"
    )
    for payload in (  # under the limit: fewer sets, no std, a few nodes
        {"parameters": [MU] * 7, "std": True},
        {"parameters": [MU] * 10},
        {"parameters": [MU] * 10, "std": True, "nodes": [0, 5, 80]},
    ):
        status, raw = _post(limited, payload)
        assert status == 200 and "fields" in orjson.loads(raw), payload


def test_single_requests_over_the_limit_are_refused_one_by_one(small_block) -> None:
    predictor = Predictor(small_block.gp, max_response_bytes=5_000)
    with pytest.raises(RequestError, match=r"^response would be about 0.0068 MB") as info:
        predictor.predict(predictor.check({"parameters": MU, "std": True}))
    assert info.value.status == 413 and "parameter sets" not in info.value.detail
    out = predictor.predict_many([{"parameters": MU, "std": True}, {"parameters": MU}])
    assert isinstance(out[0], RequestError) and out[0].status == 413
    assert set(out[1]) == {"fields"}  # the other request of the batch is answered


@pytest.mark.parametrize(
    "extra",
    [{}, {"std": True}, {"nodes": list(range(0, 169, 3)), "std": True}, {"quantities": ["max(u)"]}],
)
def test_estimate_is_within_a_factor_2_of_the_real_answer(limited, small_block, extra) -> None:
    payload = {"parameters": [MU, {**MU, "k_0": 3.0}, {**MU, "k_3": 0.1}], **extra}
    predictor = Predictor(small_block.gp)
    names, quantities, std = predictor._plan(predictor.check(payload))
    estimate = predictor.response_bytes(payload, names, len(quantities), std)
    status, raw = _post(limited, payload)
    assert status == 200
    assert 0.5 < estimate / len(raw) < 2, (estimate, len(raw))
