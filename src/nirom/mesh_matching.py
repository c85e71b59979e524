"""Where a mesh meets another with the same points and cells, in any order.

:func:`match_meshes` compares a model's mesh with a target mesh (a dataset's in
:mod:`nirom.evaluation.alignment`, a mesh file's in ``nirom predict --mesh``,
:mod:`nirom.surrogates.export`): the same points and cells in another order are
matched (:meth:`nirom.mesh.Mesh.node_order`) and :class:`MeshMatch` puts fields in
the other mesh's order and back; any other mesh is a one-line
:class:`~nirom.errors.MeshError` naming both meshes' sizes.

It lies below both evaluation and surrogates, which build on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nirom.dataset.schema import FieldSpec
from nirom.errors import MeshError
from nirom.mesh import Mesh, match_points


@dataclass(frozen=True, eq=False)
class MeshMatch:
    """How a model's mesh maps onto a target mesh with the same points and cells.

    ``nodes[k]`` is the target's node at the model's node ``k`` and ``cells[k]``
    the target's cell at the model's cell ``k`` (None: the same order). The
    identity (``MeshMatch()``, without meshes) leaves every array as it is.
    """

    nodes: np.ndarray | None = None
    cells: np.ndarray | None = None
    model_mesh: Mesh | None = None
    target: Mesh | None = None

    @property
    def identity(self) -> bool:
        """Whether the meshes are the same, in the same order, each cell's nodes too."""
        return self.model_mesh is None

    def to_target(
        self,
        values: Mapping[str, np.ndarray],
        specs: Mapping[str, FieldSpec],
        *,
        batch: bool = True,
    ) -> dict[str, np.ndarray]:
        """Fields on the model's mesh (``batch``: stacked ``(n, *shape)``) in the target's order."""
        return {
            name: self._reorder(name, v, specs[name], batch, inverse=True)
            for name, v in values.items()
        }

    def to_model(
        self,
        values: Mapping[str, np.ndarray],
        specs: Mapping[str, FieldSpec],
        *,
        batch: bool = True,
    ) -> dict[str, np.ndarray]:
        """Fields on the target mesh (``batch``: stacked) in the model's order."""
        return {
            name: self._reorder(name, v, specs[name], batch, inverse=False)
            for name, v in values.items()
        }

    def inputs(self, x: Any, names: Sequence[str]) -> Any:
        """Parameter sets as ``predict`` takes them, their field inputs ``names`` (one value
        per target node, in its order) put in the model's node order; others pass as they are."""
        if self.nodes is None or not names or not isinstance(x, list):
            return x
        n = self.nodes.size
        out = []
        for mu in x:
            mu = dict(mu)
            for name in names:
                value = np.asarray(mu[name])
                if value.size != n:
                    raise MeshError(
                        f"field input {name!r} has {value.size} values, not one per mesh point "
                        f"({n}): it cannot follow the mesh's point order to the model's"
                    )
                mu[name] = value.reshape(-1)[self.nodes].reshape(value.shape)
            out.append(mu)
        return out

    def _reorder(
        self, name: str, v: np.ndarray, spec: FieldSpec, batch: bool, *, inverse: bool
    ) -> np.ndarray:
        if self.model_mesh is None or spec.location == "global":
            return v
        axis = int(batch) + int(spec.times is not None)
        if spec.location == "point":
            index = self.nodes
        elif spec.location == "cell":
            index = self.cells
        else:  # quadrature points, cell-major: they follow the cells and the nodes in each
            self._check_cell_nodes(name)
            cells = self._cells()
            n_q = v.shape[axis] // cells.size
            index = (cells[:, None] * n_q + np.arange(n_q)).ravel()
        if index is None:
            return v
        if inverse:
            index = np.argsort(index)
        return np.take(v, index, axis=axis)

    def _cells(self) -> np.ndarray:
        if self.cells is not None:
            return self.cells
        assert self.model_mesh is not None
        return np.arange(self.model_mesh.n_cells)

    def _check_cell_nodes(self, name: str) -> None:
        """MeshError unless every matched cell lists its nodes as the model's does (the
        quadrature points of a cell depend on that order)."""
        assert self.model_mesh is not None and self.target is not None
        model_conn = np.concatenate([conn for _, conn in self.model_mesh.cells])
        target_conn = np.concatenate([conn for _, conn in self.target.cells])
        mapped = target_conn[self._cells()]
        if self.nodes is not None:
            renumber = np.empty(self.nodes.size, dtype=np.int64)
            renumber[self.nodes] = np.arange(self.nodes.size)
            mapped = renumber[mapped]
        if not np.array_equal(mapped, model_conn):
            raise MeshError(
                f"field {name!r} at quadrature points: the cells list their nodes in another "
                "order than the model's, so their quadrature points differ"
            )


def match_meshes(model_mesh: Mesh, target: Mesh, *, what: str) -> MeshMatch:
    """The match of ``model_mesh`` onto ``target`` (the identity when they are equal).

    Raises a one-line :class:`MeshError` starting with ``what`` and naming both
    meshes' sizes when the points or cells differ beyond their order.
    """
    nodes: np.ndarray | None = match_points(model_mesh.points, target.points, what=what)
    if np.array_equal(nodes, np.arange(model_mesh.n_points)):
        nodes = None
    cells = model_mesh.cell_order(target, nodes, what=what)
    same_lists = len(model_mesh.cells) == len(target.cells) and all(
        a[0] == b[0] and np.array_equal(a[1], b[1])  # each cell's nodes as the model lists them
        for a, b in zip(model_mesh.cells, target.cells, strict=True)
    )
    if nodes is None and cells is None and same_lists:
        return MeshMatch()
    return MeshMatch(nodes, cells, model_mesh, target)
