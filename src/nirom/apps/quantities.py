"""Scalar quantities of interest computed from predicted fields.

A quantity is written as text (CLI, studies, the HTTP service, observation
files)::

    max(u)  min(u)  mean(u)              over every value of field u
    mean(u, 0:0.5, 0.5:1)                over the mesh entities inside a box,
                                         one lo:hi range per coordinate
    u[17]                                one value: an index per axis of the
                                         field's array ([time,] entity[, comp]),
                                         negative indices count from the end
    at(u, 0.25, 0.75)                    the node nearest to a point
    g                                    a global scalar field

Conventions: ``mean`` of a point field on a mesh is the integral mean
(weights: the lumped finite-element mass matrix, so nodes stand for their
share of the domain's area or volume); of cell fields and meshless fields,
the plain mean. Reductions of vector fields act on the magnitude (Euclidean
norm over the components) and those of time series on all output times.

Standard deviations (:meth:`Quantity.std`). From the predictive covariance of a
model that has one (``capabilities.covariance``: a
:class:`~nirom.surrogates.base.LowRankCovariance` per field, ``cov=``), through
the quantity's linearisation at the predicted fields (:meth:`Quantity.linearisation`):
``w^T Cov w`` with ``w`` the mean's weights (exact), the value's unit row (exact),
or for ``max``/``min`` the unit row of the value that attains it at the predicted
mean (an approximation: it ignores that the argmax may move); magnitudes of vector
fields are linearised too (weights ``v / |v|``). :func:`quantity_covariance` gives
the covariance between several quantities (sensors at nearby nodes are correlated
through the modes). From per-value standard deviations only: exact for one value;
for ``mean``, the weighted mean of the standard deviations (the value for errors
perfectly correlated over the region, an upper bound otherwise); for
``max``/``min``, the standard deviation at the value that attains it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nirom.dataset import FieldSpec
from nirom.errors import FieldError, MeshError
from nirom.mesh import Mesh

REDUCTIONS = ("max", "min", "mean")
_CALL = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$")
_INDEX = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[(.*)\]\s*$")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


class QuantityError(FieldError):
    """A quantity of interest is malformed or names a field or node the model lacks."""


@dataclass
class Quantity:
    """A scalar quantity of a model's fields (build it with :func:`parse_quantity`).

    ``op`` is "max", "min", "mean" or "value"; ``select`` the flat indices
    (into one sample's field array) it reads; ``weights`` the weight of each
    selected value for "mean" (summing to 1) or None.
    """

    text: str
    field: str
    op: str
    select: np.ndarray | None  # flat indices into the field's per-sample values
    weights: np.ndarray | None
    components: int
    shape: tuple[int, ...]

    def _values(self, fields: Mapping[str, np.ndarray]) -> np.ndarray:
        """(n, n_selected) values this quantity reduces (magnitudes for vector fields)."""
        values = np.asarray(fields[self.field])
        n = values.shape[0]
        if self.components > 1 and self.op != "value":
            values = np.linalg.norm(values, axis=-1)
        flat = values.reshape(n, -1)
        return flat if self.select is None else flat[:, self.select]

    def evaluate(self, fields: Mapping[str, np.ndarray]) -> np.ndarray:
        """The quantity for a batch of predicted fields {name: (n, *shape)}: shape (n,)."""
        values = self._values(fields)
        if self.op == "max":
            return values.max(axis=1)
        if self.op == "min":
            return values.min(axis=1)
        if self.op == "mean":
            return values @ self.weights
        return values[:, 0]

    def linearisation(self, mean: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Flat value indices and weights such that, near the predicted fields ``mean``
        {name: (n, *shape)}, the quantity is ``sum_j w_j * values[idx_j]`` of one sample's
        flat field array: ``idx`` and ``w`` of shape (k,) when the same for every sample,
        (n, k) otherwise (``max``/``min``: the value attaining it; magnitudes: ``v/|v|``)."""
        n = np.asarray(mean[self.field]).shape[0]
        magnitude = self.components > 1 and self.op != "value"
        if self.op in ("max", "min"):
            values = self._values(mean)
            at = values.argmax(axis=1) if self.op == "max" else values.argmin(axis=1)
            idx = (at if self.select is None else self.select[at])[:, None]
            w = np.ones((n, 1))
        elif self.op == "mean":
            size = int(np.prod(self.shape[:-1] if magnitude else self.shape))
            idx = np.arange(size) if self.select is None else self.select
            w = self.weights
        else:
            idx = np.array([0]) if self.select is None else self.select[:1]
            w = np.ones(1)
        if not magnitude:
            return idx, w
        return self._magnitude_rows(mean, idx, w)

    def _magnitude_rows(
        self, mean: Mapping[str, np.ndarray], idx: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of a reduction of magnitudes: each entity value ``f`` becomes its components
        ``f * C + c`` weighted by ``w * v_c / |v|`` at the predicted field (n, k * C)."""
        c = self.components
        vectors = np.asarray(mean[self.field]).reshape(-1, int(np.prod(self.shape[:-1])), c)
        rows = np.arange(len(vectors))[:, None] if idx.ndim == 2 else slice(None)
        v = vectors[rows, idx] if idx.ndim == 2 else vectors[:, idx]  # (n, k, C)
        norm = np.linalg.norm(v, axis=-1, keepdims=True)
        unit = np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)
        weights = (np.broadcast_to(w, unit.shape[:2])[..., None] * unit).reshape(len(v), -1)
        flat = (idx[..., None] * c + np.arange(c)).reshape(*idx.shape[:-1], -1)
        return flat, weights

    def variance(self, mean: Mapping[str, np.ndarray], cov: Mapping[str, Any]) -> np.ndarray:
        """Predictive variance (n,) of the quantity from the low-rank covariance ``cov``
        ({field: LowRankCovariance} of every value, as ``predict_covariance`` returns)."""
        c = cov[self.field]
        idx, w = self.linearisation(mean)
        basis = c.basis[idx]  # (k, r) or (n, k, r)
        a = w @ basis if idx.ndim == 1 else np.einsum("nk,nkr->nr", w, basis)
        a = np.broadcast_to(a, (len(c), basis.shape[-1]))
        low = (
            np.sum(a**2 * c.coefficient, axis=1)
            if c.independent
            else (np.einsum("nr,nrs,ns->n", a, c.coefficient, a))
        )
        residual = np.sum(np.asarray(w) ** 2 * c.residual[idx], axis=-1)
        return low + residual

    def std(
        self,
        mean: Mapping[str, np.ndarray],
        std: Mapping[str, np.ndarray] | None = None,
        cov: Mapping[str, Any] | None = None,
    ) -> np.ndarray:
        """Standard deviation (n,) of the quantity: from the covariance ``cov`` when
        given, else from the per-value ones ``std`` (see module notes)."""
        if cov is not None:
            return np.sqrt(np.maximum(self.variance(mean, cov), 0.0))
        m, s = self._values(mean), self._values(std)
        if self.op in ("max", "min"):
            at = m.argmax(axis=1) if self.op == "max" else m.argmin(axis=1)
            return s[np.arange(len(s)), at]
        if self.op == "mean":
            return s @ self.weights
        return s[:, 0]


def quantity_covariance(
    quantities: Sequence[Quantity], mean: Mapping[str, np.ndarray], cov: Mapping[str, Any]
) -> np.ndarray:
    """Predictive covariance (n, m, m) of ``m`` quantities from the low-rank covariance
    ``cov`` of their fields (every value): quantities of one field are correlated through
    its modes and share its residual variance where they read the same values; those of
    different fields are independent (one regressor per field)."""
    n = len(next(iter(cov.values())))
    out = np.zeros((n, len(quantities), len(quantities)))
    by_field: dict[str, list[int]] = {}
    for j, q in enumerate(quantities):
        by_field.setdefault(q.field, []).append(j)
    for name, members in by_field.items():
        c = cov[name]
        weights = np.zeros((n, len(members), c.basis.shape[0]))
        for i, j in enumerate(members):
            idx, w = quantities[j].linearisation(mean)
            if idx.ndim == 1:
                weights[:, i, idx] = w
            else:
                np.put_along_axis(weights[:, i, :], idx, w, axis=1)
        out[np.ix_(range(n), members, members)] = c.project(weights)
    return out


def parse_quantity(text: str, fields: Mapping[str, FieldSpec], mesh: Mesh | None) -> Quantity:
    """Parse ``text`` for a model with ``fields`` on ``mesh``; raise :class:`QuantityError`."""
    if not isinstance(text, str):
        raise QuantityError(f"quantity {text!r}: expected text such as 'max(u)'")
    text = text.strip()
    call, index, name = _CALL.match(text), _INDEX.match(text), _NAME.match(text)
    if call:
        op, args = call.group(1), [a.strip() for a in call.group(2).split(",")]
        if op not in (*REDUCTIONS, "at"):
            raise QuantityError(
                f"quantity {text!r}: unknown function {op!r}; use max, min, mean or at"
            )
        spec = _field(text, args[0], fields)
        shape = _shape(spec, mesh)
        if op == "at":
            return _at(text, spec, shape, mesh, args[1:])
        select = _box(text, spec, mesh, args[1:]) if len(args) > 1 else None
        weights = _weights(spec, mesh, select, shape) if op == "mean" else None
        return Quantity(text, spec.name, op, select, weights, spec.components, shape)
    if index:
        spec = _field(text, index.group(1), fields)
        shape = _shape(spec, mesh)
        flat = _flat_index(text, shape, index.group(2))
        return Quantity(text, spec.name, "value", np.array([flat]), None, spec.components, shape)
    if name:
        spec = _field(text, name.group(1), fields)
        shape = _shape(spec, mesh)
        if int(np.prod(shape)) != 1:
            raise QuantityError(
                f"quantity {text!r}: field {spec.name!r} has {int(np.prod(shape))} values; "
                f"say which: max({spec.name}), mean({spec.name}), {spec.name}[i] or at(...)"
            )
        return Quantity(text, spec.name, "value", None, None, spec.components, shape)
    raise QuantityError(
        f"quantity {text!r}: not understood; write max(u), mean(u), mean(u, 0:0.5, 0:1), "
        "u[17] or at(u, x, y)"
    )


def parse_quantities(
    texts: Sequence[str], fields: Mapping[str, FieldSpec], mesh: Mesh | None
) -> list[Quantity]:
    """Parse several quantities; duplicates are refused (they would overwrite results)."""
    out = [parse_quantity(t, fields, mesh) for t in texts]
    seen = [q.text for q in out]
    twice = sorted({t for t in seen if seen.count(t) > 1})
    if twice:
        raise QuantityError(f"quantity {twice[0]!r} is given twice")
    return out


def default_quantities(fields: Mapping[str, FieldSpec]) -> list[str]:
    """Each field's mean and max (its value for a global scalar field)."""
    out = []
    for name, spec in fields.items():
        if spec.location == "global" and spec.times is None and spec.components == 1:
            out.append(name)
        else:
            out += [f"mean({name})", f"max({name})"]
    return out


def _field(text: str, name: str, fields: Mapping[str, FieldSpec]) -> FieldSpec:
    if name not in fields:
        raise QuantityError(
            f"quantity {text!r}: unknown field {name!r}; the model has {', '.join(fields)}"
        )
    return fields[name]


def _shape(spec: FieldSpec, mesh: Mesh | None) -> tuple[int, ...]:
    return spec.shape(mesh.n_points if mesh else 0, mesh.n_cells if mesh else 0)


def _number(text: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise QuantityError(f"quantity {text!r}: {value!r} is not a number") from None


def _flat_index(text: str, shape: tuple[int, ...], body: str) -> int:
    parts = [p.strip() for p in body.split(",")]
    if len(parts) != len(shape):
        raise QuantityError(
            f"quantity {text!r}: the field's values have shape {shape}; give {len(shape)} index(es)"
        )
    index = []
    for part, size in zip(parts, shape, strict=True):
        try:
            i = int(part)
        except ValueError:
            raise QuantityError(f"quantity {text!r}: index {part!r} is not an integer") from None
        if not -size <= i < size:
            raise QuantityError(f"quantity {text!r}: index {i} is out of range for size {size}")
        index.append(i % size)
    return int(np.ravel_multi_index(index, shape))


def _entity_axis(spec: FieldSpec) -> int:
    return 1 if spec.times is not None else 0


def _entity_points(text: str, spec: FieldSpec, mesh: Mesh | None) -> np.ndarray:
    """Coordinates of the points (or cell centroids) the field's values live on."""
    if spec.location == "global" or mesh is None:
        raise QuantityError(f"quantity {text!r}: field {spec.name!r} has no mesh locations")
    if spec.location == "point":
        return mesh.points
    return np.vstack([mesh.points[conn].mean(axis=1) for _, conn in mesh.cells])


def _box(text: str, spec: FieldSpec, mesh: Mesh | None, ranges: list[str]) -> np.ndarray:
    """Flat indices of the values whose entity lies in the box ``lo:hi, lo:hi, ...``."""
    points = _entity_points(text, spec, mesh)
    if len(ranges) > points.shape[1]:
        raise QuantityError(
            f"quantity {text!r}: {len(ranges)} ranges for a {points.shape[1]}-D mesh"
        )
    inside = np.ones(len(points), dtype=bool)
    for axis, rng in enumerate(ranges):
        lo, sep, hi = rng.partition(":")
        if not sep:
            raise QuantityError(f"quantity {text!r}: range {rng!r} is not lo:hi")
        low = _number(text, lo) if lo.strip() else -np.inf
        high = _number(text, hi) if hi.strip() else np.inf
        inside &= (points[:, axis] >= low) & (points[:, axis] <= high)
    entities = np.flatnonzero(inside)
    if entities.size == 0:
        raise QuantityError(f"quantity {text!r}: no {spec.location} of the mesh is in the box")
    return _entity_values(spec, len(points), entities)


def _entity_values(spec: FieldSpec, n_entities: int, entities: np.ndarray) -> np.ndarray:
    """Flat value indices of the given entities at every time (after magnitudes)."""
    if spec.times is None:
        return entities
    steps = np.arange(len(spec.times))[:, None] * n_entities
    return (steps + entities[None, :]).ravel()


def _weights(
    spec: FieldSpec, mesh: Mesh | None, select: np.ndarray | None, shape: tuple[int, ...]
) -> np.ndarray:
    """Weights of a mean: lumped mass for point fields on a mesh, equal otherwise."""
    n_values = int(np.prod(shape[:-1] if spec.components > 1 else shape))
    w = np.ones(n_values)
    if spec.location == "point" and mesh is not None:
        try:
            lumped = np.asarray(mesh.mass_matrix().sum(axis=1)).ravel()
            w = np.tile(lumped, len(spec.times) if spec.times is not None else 1)
        except MeshError:
            pass  # not a finite-element mesh: plain mean
    if select is not None:
        w = w[select]
    return w / w.sum()


def _at(
    text: str, spec: FieldSpec, shape: tuple[int, ...], mesh: Mesh | None, coords: list[str]
) -> Quantity:
    if spec.location != "point":
        raise QuantityError(f"quantity {text!r}: at() needs a point field, {spec.name!r} is not")
    points = _entity_points(text, spec, mesh)
    if spec.times is not None or spec.components > 1:
        raise QuantityError(
            f"quantity {text!r}: {spec.name!r} has several values per node; index it as "
            f"{spec.name}[...] with the node at(...) finds"
        )
    if len(coords) != points.shape[1]:
        raise QuantityError(f"quantity {text!r}: give {points.shape[1]} coordinates")
    x = np.array([_number(text, c) for c in coords])
    node = int(np.argmin(np.sum((points - x) ** 2, axis=1)))
    return Quantity(text, spec.name, "value", np.array([node]), None, 1, shape)


def sensor_location(q: Quantity, spec: FieldSpec, mesh: Mesh | None) -> list[float] | None:
    """Coordinates of the node (or cell centroid) a one-value quantity reads, else None.

    ``u[17]`` and ``at(u, x, y)`` have one; reductions (``max``, ``mean``)
    and global fields have none.
    """
    if q.op != "value" or q.select is None or mesh is None:
        return None
    if spec.location not in ("point", "cell"):
        return None
    index = np.unravel_index(int(q.select[0]), q.shape)
    entity = int(index[_entity_axis(spec)])
    return [float(v) for v in _entity_points(q.text, spec, mesh)[entity]]


def describe_quantity(q: Quantity) -> dict[str, Any]:
    """JSON-compatible description: text, field, operation, number of values read."""
    n = None if q.select is None else len(q.select)
    return {"text": q.text, "field": q.field, "op": q.op, "n_values": n}
