"""The HTTP prediction service: FastAPI, one model loaded once and shared by every request.

Endpoints::

    GET  /health    {"status": "ok", "kind": ...}
    GET  /model     the model card (nirom.report.card)
    POST /predict   {"parameters": {NAME: VALUE, ...} | [{...}, ...],
                     "fields": [NAME, ...],          optional, default all
                     "nodes": [i, ...],              optional: these entities only
                     "quantities": [TEXT, ...],      optional: scalar quantities
                     "std": false,                   standard deviations too
                     CONTEXT: VALUE}                 what the model's kind declares:
                                                     "mesh" (mmgp: {"points", "cells"}),
                                                     "history" and "times" (hrom)

The answer of ``/predict`` is ``{"fields": {name: values}}`` (``"std"`` beside
it on request; ``"quantities"`` and ``"quantities_std"`` when asked), with a
leading batch axis when ``parameters`` is a list. When quantities are asked
and neither fields nor nodes are, only the quantities come back. Errors are JSON
``{"detail": "one line naming the culprit"}``: 400 for a body that is not
JSON, 422 for a wrong key, parameter (name, value, bounds), field, node or
quantity, 413 for a body over ``max_body_bytes``, a batch over
``max_batch`` or an answer that would be over ``max_response_bytes`` of JSON
(estimated before predicting: :meth:`Predictor.response_bytes`). An
unexpected failure is a 500 with its reason; the server goes on.

Every prediction runs off the event loop, in a thread, so ``/health`` answers in
milliseconds while a slow model (an hrom simulating a load history) works.
Requests of one parameter set without context that arrive together are predicted
together in one model call (dynamic batching: one batch computes at a time while the
next gathers). BLAS runs on one thread in the server process (see :mod:`nirom.threads`).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request  # resolved by FastAPI at run time: not under TYPE_CHECKING

from nirom.apps.quantities import QuantityError, parse_quantities
from nirom.errors import NiromError
from nirom.report.card import model_card
from nirom.surrogates import Surrogate
from nirom.surrogates.base import Prepared

MAX_BODY_BYTES = 1_000_000
MAX_BATCH = 1000
MAX_RESPONSE_BYTES = 64_000_000
JSON_BYTES_PER_NUMBER = 20  # orjson: ~19-21 bytes a float64 with its comma (measured)
_KEYS = {"parameters", "fields", "nodes", "quantities", "std"}
log = logging.getLogger("nirom.serve")


class RequestError(Exception):
    """A request the service refuses: HTTP ``status`` and a one-line ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class Predictor:
    """Answers parsed prediction requests with one shared model (thread-safe: read-only)."""

    def __init__(
        self,
        model: Surrogate,
        max_batch: int = MAX_BATCH,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.model, self.max_batch = model, max_batch
        self.max_response_bytes = max_response_bytes
        self._quantities: dict[tuple[str, ...], list[Any]] = {}
        self._sizes, self._unknown_sizes = _field_sizes(model)

    def n_sets(self, body: Mapping[str, Any]) -> int:
        p = body.get("parameters")
        return len(p) if isinstance(p, list) else 1

    def check(self, body: Any) -> dict[str, Any]:
        """The request checked for shape (not yet the parameter values); raise RequestError."""
        if not isinstance(body, dict):
            raise RequestError(422, "the body must be a JSON object with 'parameters'")
        known = _KEYS | set(self.model.capabilities.context)
        unknown = sorted(set(body) - known)
        if unknown:
            raise RequestError(422, f"unknown key(s) {unknown}; known: {sorted(known)}")
        params = body.get("parameters")
        if isinstance(params, list):
            if not params:
                raise RequestError(422, "'parameters' is an empty list")
            if len(params) > self.max_batch:
                raise RequestError(
                    413, f"batch of {len(params)} parameter sets; at most {self.max_batch}"
                )
            if not all(isinstance(p, dict) for p in params):
                raise RequestError(422, "'parameters' must be a mapping or a list of mappings")
        elif not isinstance(params, dict):
            raise RequestError(422, "'parameters' must be a mapping NAME -> VALUE (or a list)")
        for key in ("fields", "nodes", "quantities"):
            value = body.get(key)
            if value is not None and not isinstance(value, list):
                raise RequestError(422, f"'{key}' must be a list")
        if not isinstance(body.get("std", False), bool):
            raise RequestError(422, "'std' must be true or false")
        return body

    def _plan(self, body: dict[str, Any]) -> tuple[list[str], list[Any], bool]:
        """Fields and quantities a checked request asks for, and whether with std."""
        model = self.model
        want_std = body.get("std", False)
        if want_std and not model.capabilities.std:
            raise RequestError(422, f"'std': a {model.label} model has no error bars")
        names = body.get("fields")
        quantities = self._parse_quantities(body.get("quantities"))
        if names is None:  # every field, unless only quantities are asked
            names = [] if quantities and body.get("nodes") is None else list(model.fields_)
        for name in names:
            if name not in model.fields_:
                raise RequestError(
                    422, f"unknown field {name!r}; the model has {', '.join(model.fields_)}"
                )
        self._check_size(body, names, quantities, want_std)
        return names, quantities, want_std

    def response_bytes(
        self, body: Mapping[str, Any], names: list[str], n_quantities: int, std: bool
    ) -> int:
        """Estimated size in bytes of the JSON answer: numbers x ``JSON_BYTES_PER_NUMBER``.

        Per parameter set: each asked field's values (at ``nodes`` only when
        given) and one number per quantity, twice with ``std``.
        """
        nodes = body.get("nodes")
        numbers = n_quantities
        for name in names:
            spec = self.model.fields_[name]
            size = self._sizes.get(name, 1)
            if nodes is not None and spec.location != "global":
                size = len(nodes) * (spec.n_times or 1) * spec.components
            numbers += size
        return self.n_sets(body) * numbers * (2 if std else 1) * JSON_BYTES_PER_NUMBER

    def _check_size(
        self, body: Mapping[str, Any], names: list[str], quantities: list[Any], std: bool
    ) -> None:
        """Refuse with 413 an answer estimated over ``max_response_bytes``."""
        size = self.response_bytes(body, names, len(quantities), std)
        limit = self.max_response_bytes
        if size <= limit:
            return
        n_sets = self.n_sets(body)
        fit = limit // math.ceil(size / n_sets)
        fewer = f"at most {fit} parameter sets per request, or " if n_sets > 1 and fit else ""
        raise RequestError(
            413,
            f"response would be about {_megabytes(size)}, over the limit of "
            f"{_megabytes(limit)} (--max-response-mb): ask for {fewer}fewer fields, "
            "values at 'nodes' or 'quantities' only" + (", or no 'std'" if std else ""),
        )

    def predict(self, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON-compatible answer to a checked request."""
        names, quantities, want_std = self._plan(body)
        params = body["parameters"]
        single = isinstance(params, dict)
        context = self.context(body)
        try:
            result = self.model.predict(params, return_std=want_std, **context)
        except NiromError as exc:
            raise RequestError(422, str(exc)) from None
        mean, std = result if want_std else (result, None)
        self._learn_sizes(mean, single)
        if single:  # the quantities work on batches
            mean = {k: v[None] for k, v in mean.items()}
            std = None if std is None else {k: v[None] for k, v in std.items()}
        cov = None
        if want_std and self._uses_covariance(quantities):
            cov = self.model.predict_covariance(params, _rows(quantities))
        return self._answer(body, names, quantities, mean, std, single, cov)

    def context(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The request's context entries (those the model declares) as ``predict`` takes
        them: a mesh from ``{"points": [[x, y], ...], "cells": [[TYPE, [[i, ...], ...]],
        ...]}``, output times as an array, a load history as its JSON form."""
        out = {}
        for name in self.model.capabilities.context:
            if body.get(name) is not None:
                out[name] = _context_value(name, body[name])
        return out

    def predict_many(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any] | RequestError]:
        """Answers to several checked single-set requests with one model call.

        Each request is planned and its parameters validated on its own, so
        a bad one gets its own error; the valid ones are predicted together
        (one call costs little more than one prediction) and answered from
        their row.
        """
        out: list[dict[str, Any] | RequestError] = [RequestError(500, "not answered")] * len(bodies)
        plans, prepared, rows = [], [], []
        for i, body in enumerate(bodies):
            try:
                plan = self._plan(body)
                prepared.append(self.model.prepare(body["parameters"]))  # as predict checks
                plans.append(plan)
                rows.append(i)
            except RequestError as exc:
                out[i] = exc
            except NiromError as exc:
                out[i] = RequestError(422, str(exc))
        want_std = any(plan[2] for plan in plans)
        # One model call per grid of field inputs (a neural operator takes any resolution).
        groups: dict[tuple[Any, ...], list[int]] = {}
        for k, batch in enumerate(prepared):
            groups.setdefault(tuple(v.shape for v in batch.inputs.values()), []).append(k)
        for ks in groups.values():
            batch = Prepared.concat([prepared[k] for k in ks])
            result = self.model.predict_prepared(batch, return_std=want_std)
            mean, std = result if want_std else (result, None)
            self._learn_sizes(mean, False)
            asked = [q for k in ks if plans[k][2] for q in plans[k][1]]
            cov = None
            if want_std and self._uses_covariance(asked):  # one call for the whole batch
                cov = self.model.predict_covariance_prepared(batch, _rows(asked))
            for j, k in enumerate(ks):
                names, quantities, with_std = plans[k]
                row_mean = {n: v[j : j + 1] for n, v in mean.items()}
                row_std = {n: v[j : j + 1] for n, v in std.items()} if with_std else None
                row_cov = None if cov is None else _row(cov, j)
                out[rows[k]] = self._answer(
                    bodies[rows[k]], names, quantities, row_mean, row_std, True, row_cov
                )
        return out

    def _answer(
        self,
        body: dict[str, Any],
        names: list[str],
        quantities: list[Any],
        mean: dict[str, np.ndarray],
        std: dict[str, np.ndarray] | None,
        single: bool,
        cov: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The response for batch-shaped predictions (a leading axis even for one set);
        ``cov``: the quantities' fields' low-rank covariance, when the model gives one."""
        out: dict[str, Any] = {}
        nodes = body.get("nodes")
        if names:
            out["fields"] = {n: self._select(n, mean[n], nodes, single) for n in names}
            if std is not None:
                out["std"] = {n: self._select(n, std[n], nodes, single) for n in names}
        if quantities:
            out["quantities"] = {q.text: _values(q.evaluate(mean), single) for q in quantities}
            if std is not None:
                out["quantities_std"] = {
                    q.text: _values(q.std(mean, std, cov), single) for q in quantities
                }
        return out

    def _uses_covariance(self, quantities: list[Any]) -> bool:
        """Whether the quantities' std comes from the model's covariance (models that give
        one: the correlations between the values a quantity reads then count)."""
        return bool(quantities) and self.model.capabilities.covariance

    def _learn_sizes(self, mean: Mapping[str, np.ndarray], single: bool) -> None:
        """Record the values per set of the fields whose size the mesh did not give."""
        if not self._unknown_sizes:
            return
        for name in list(self._unknown_sizes):
            values = mean[name] if single else mean[name][0]
            self._sizes[name] = int(np.size(values))
            self._unknown_sizes.discard(name)

    def _parse_quantities(self, texts: list[Any] | None) -> list[Any]:
        if not texts:
            return []
        key = tuple(map(str, texts))
        if key not in self._quantities:  # parsed once per distinct list
            try:
                parsed = parse_quantities(list(texts), self.model.fields_, self.model.mesh_)
            except QuantityError as exc:
                raise RequestError(422, str(exc)) from None
            if len(self._quantities) < 1024:
                self._quantities[key] = parsed
            return parsed
        return self._quantities[key]

    def _select(self, name: str, values: np.ndarray, nodes: list[Any] | None, single: bool) -> Any:
        if nodes is not None:
            spec = self.model.fields_[name]
            if spec.location == "global":
                raise RequestError(422, f"'nodes': field {name!r} is global (no nodes)")
            axis = 2 if spec.times is not None else 1
            size = values.shape[axis]
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in nodes):
                raise RequestError(422, "'nodes' must be integers")
            bad = [i for i in nodes if not 0 <= i < size]
            if bad:
                raise RequestError(422, f"node {bad[0]} is out of range for {name!r} ({size})")
            values = np.take(values, nodes, axis=axis)
        return _values(values, single)


class _Batcher:
    """Gathers the single-set requests that reach the event loop together into one prediction.

    A request's future is queued and a flush is scheduled for the loop's next
    turn; by then every request parsed in the same turn has joined, and one
    model call answers them all (up to ``max_size``). Under load this is
    what keeps latency flat: the per-call overhead is paid once per batch.
    """

    def __init__(self, predictor: Predictor, max_size: int = 64) -> None:
        self.predictor, self.max_size = predictor, max_size
        self.pending: list[tuple[dict[str, Any], Any]] = []
        self.running = False
        self.task: Any = None

    async def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((body, future))
        if not self.running:
            self.running = True
            self.task = loop.create_task(self._drain())  # held: the loop keeps weak refs
        return await future

    async def _drain(self) -> None:
        """Batches off the event loop, one at a time, until none is waiting."""
        from starlette.concurrency import run_in_threadpool

        try:
            while self.pending:
                items = self.pending[: self.max_size]
                self.pending = self.pending[self.max_size :]
                answers = await run_in_threadpool(self._answer, [body for body, _ in items])
                for (_, future), answer in zip(items, answers, strict=True):
                    if future.done():
                        continue
                    if isinstance(answer, BaseException):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        finally:
            self.running = False

    def _answer(self, bodies: list[dict[str, Any]]) -> list[Any]:
        """Answers to ``bodies`` in one model call; one by one if that fails, so that a
        failure stays with its request."""
        try:
            return self.predictor.predict_many(bodies)
        except Exception:
            answers: list[Any] = []
            for body in bodies:
                try:
                    answers.append(self.predictor.predict(body))
                except Exception as exc:
                    answers.append(exc)
            return answers


def _context_value(name: str, value: Any) -> Any:
    """A request's context entry as ``predict`` takes it (RequestError 422 if malformed)."""
    if name == "times":
        try:
            return np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise RequestError(422, "'times' must be a list of numbers (s)") from None
    if name != "mesh":
        return value
    from nirom.mesh import Mesh

    try:
        cells = [(str(kind), np.asarray(conn, dtype=np.int64)) for kind, conn in value["cells"]]
        return Mesh(np.asarray(value["points"], dtype=float), cells)
    except NiromError as exc:
        raise RequestError(422, f"'mesh': {exc}") from None
    except (KeyError, TypeError, ValueError):
        raise RequestError(
            422,
            '\'mesh\' must be {"points": [[x, y], ...], "cells": [[TYPE, [[i, j, k], ...]], ...]}',
        ) from None


def _field_sizes(model: Surrogate) -> tuple[dict[str, int], set[str]]:
    """Values per parameter set of each field of ``model`` on its mesh, and the unknown ones.

    Quadrature fields (the mesh does not say how many points) and fields
    of a model without a mesh count one value per cell (or per entity)
    until the first prediction gives their size (:meth:`Predictor._learn_sizes`).
    A model predicting on the grid of its field inputs (an FNO at another
    resolution) is estimated at its training grid.
    """
    mesh = getattr(model, "mesh_", None)
    n_points, n_cells = (mesh.n_points, mesh.n_cells) if mesh is not None else (1, 1)
    sizes = {
        name: math.prod(spec.shape(n_points, n_cells, n_cells))
        for name, spec in model.fields_.items()
    }
    unknown = {
        name
        for name, spec in model.fields_.items()
        if spec.location == "quadrature" or (mesh is None and spec.location != "global")
    }
    return sizes, unknown


def _megabytes(size: int) -> str:
    """``size`` bytes in MB (10^6 bytes) for a message: "380 MB", "0.034 MB"."""
    mb = size / 1e6
    return f"{mb:,.0f} MB" if mb >= 10 else f"{mb:.2g} MB"


def _values(values: np.ndarray, single: bool) -> np.ndarray | float:
    """One set's values (a number for a scalar) or a batch's, as orjson writes them."""
    v = values[0] if single else values
    return np.ascontiguousarray(v) if np.ndim(v) else float(v)


def create_app(
    model: Surrogate | str | os.PathLike[str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    batching: bool = True,
) -> Any:
    """The FastAPI application serving ``model`` (a Surrogate or a model directory).

    ``max_body_bytes``: request bodies at most (bytes); ``max_batch``:
    parameter sets per request at most; ``max_response_bytes``: JSON answers
    at most, estimated before predicting (bytes); all three refused with 413.
    ``batching``: predict together the single-set requests that arrive together.
    """
    from fastapi import FastAPI
    from fastapi.responses import Response
    from starlette.concurrency import run_in_threadpool

    path = None
    if not isinstance(model, Surrogate):
        path = Path(model)
        model = Surrogate.load(path)
    predictor = Predictor(model, max_batch, max_response_bytes)
    batcher = _Batcher(predictor)
    card = model_card(model, path)
    app = FastAPI(
        title="nirom prediction service", version=_version(), docs_url=None, redoc_url=None
    )
    app.state.predictor = predictor

    def respond(content: Any, status: int = 200) -> Response:
        # orjson writes NumPy arrays directly, ~20x faster than json on a full field
        body = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
        return Response(body, status_code=status, media_type="application/json")

    @app.get("/health")
    async def health() -> Response:
        return respond({"status": "ok", "kind": model.kind})

    @app.get("/model")
    async def model_info() -> Response:
        return respond(card)

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        try:
            body = predictor.check(await _read_json(request, max_body_bytes))
            alone = bool(set(body) & set(model.capabilities.context))  # its own context
            if batching and isinstance(body["parameters"], dict) and not alone:
                return respond(await batcher.submit(body))
            return respond(await run_in_threadpool(predictor.predict, body))
        except RequestError as exc:
            return respond({"detail": exc.detail}, exc.status)
        except Exception as exc:  # a bug or a model failure: answer it, keep serving
            log.exception("prediction failed")
            return respond({"detail": f"internal error: {type(exc).__name__}: {exc}"}, 500)

    return app


async def _read_json(request: Any, max_bytes: int) -> Any:
    """The body parsed as JSON, refused with 413 past ``max_bytes`` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, f"request body of {declared} bytes; at most {max_bytes}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestError(413, f"request body over {max_bytes} bytes")
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"the body is not valid JSON ({exc})") from None


def _version() -> str:
    from nirom._version import __version__

    return __version__


def serve(
    model: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    batching: bool = True,
    log_level: str = "warning",
) -> None:
    """Load ``model`` once and serve it with uvicorn until interrupted (localhost by default)."""
    import uvicorn

    from nirom.threads import one_blas_thread

    app = create_app(
        model,
        max_body_bytes=max_body_bytes,
        max_batch=max_batch,
        max_response_bytes=max_response_bytes,
        batching=batching,
    )
    with one_blas_thread():
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def _rows(quantities: list[Any]) -> dict[str, None]:
    """The fields the quantities read, for ``predict_covariance``: every value of each."""
    return {q.field: None for q in quantities}


def _row(cov: Mapping[str, Any], j: int) -> dict[str, Any]:
    """The covariance of parameter set ``j`` of a batch's, kept as a batch of one."""
    return {n: c.sets(slice(j, j + 1)) for n, c in cov.items()}
