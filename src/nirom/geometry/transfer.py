"""Transfer between a sample's mesh and a common mesh through their Floater maps.

Both meshes are mapped onto the same fixed shape (:func:`floater_map`); there,
the common mesh's nodes are located in the sample's morphed mesh and the
sample's nodes in the common mesh, which gives two P1 interpolation operators
(:func:`interpolation_matrix`, clamped outside):

- ``to_common`` (n_common, n_nodes): sample fields to the common mesh, and the
  sample's physical coordinates to the common nodes (the geometry's encoding:
  where each common node lies in this sample's domain);
- ``from_common`` (n_nodes, n_common): fields predicted on the common mesh back
  to the sample's nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import skfem

from nirom.geometry.floater import floater_map
from nirom.geometry.interpolation import interpolation_matrix
from nirom.geometry.triangles import planar_triangles
from nirom.mesh import Mesh


@dataclass(frozen=True)
class CommonMesh:
    """The common mesh: its triangles and node coordinates on the fixed shape."""

    morphed: np.ndarray  # (n_common, 2)
    triangles: np.ndarray  # (m, 3)

    @classmethod
    def of(
        cls,
        mesh: Mesh,
        shape: str,
        corners: str | Sequence[Sequence[float]],
        refine: int = 0,
    ) -> CommonMesh:
        """The common mesh made of ``mesh`` mapped onto ``shape``, refined ``refine`` times
        (each triangle split into four), so that the round trip of a sample's fields
        through it loses less."""
        _, triangles = planar_triangles(mesh, "common mesh")
        morphed = floater_map(mesh, shape, corners)
        if refine:
            fem = skfem.MeshTri(morphed.T.copy(), triangles.T.copy()).refined(int(refine))
            morphed, triangles = fem.p.T.copy(), fem.t.T.copy()
        return cls(morphed, triangles)

    @property
    def mesh(self) -> Mesh:
        """The common mesh on the fixed shape, as a nirom mesh."""
        return Mesh(self.morphed, [("triangle", self.triangles)])


@dataclass(frozen=True)
class Transfer:
    """Operators between one sample's mesh and the common mesh, and its physical points."""

    to_common: sp.csr_matrix
    from_common: sp.csr_matrix
    points: np.ndarray  # (n_nodes, 2), physical

    @classmethod
    def between(
        cls,
        mesh: Mesh,
        common: CommonMesh,
        shape: str,
        corners: str | Sequence[Sequence[float]],
    ) -> Transfer:
        """Both operators of ``mesh`` (what the sample's mesh is morphed with: Floater)."""
        points, _ = planar_triangles(mesh, "sample mesh")
        morphed = floater_map(mesh, shape, corners)
        to_common = interpolation_matrix(mesh, common.morphed, points=morphed)
        from_common = interpolation_matrix(common.mesh, morphed)
        return cls(to_common, from_common, points)

    def geometry(self) -> np.ndarray:
        """Physical coordinates of the common nodes in this sample, flattened (2 n_common,)."""
        return np.asarray(self.to_common @ self.points).ravel()
