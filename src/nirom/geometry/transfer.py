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

With elasticity morphing instead (:meth:`Transfer.by_elasticity`), the common
mesh is a reference sample's own mesh, deformed onto each sample's outline; the
deformed node positions are the geometry's encoding and the operators
interpolate between the two meshes in physical space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import skfem

from nirom.geometry.floater import floater_map
from nirom.geometry.interpolation import interpolation_matrix
from nirom.geometry.morphing import morph_elastic
from nirom.geometry.triangles import planar_triangles, single_loop
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
        morphing: str = "floater",
    ) -> CommonMesh:
        """The common mesh made of ``mesh`` mapped onto ``shape`` ("floater"), or ``mesh``
        itself ("elasticity": the reference deformed onto every sample), refined
        ``refine`` times (each triangle split into four), so that the round trip of a
        sample's fields through it loses less."""
        points, triangles = planar_triangles(mesh, "common mesh")
        morphed = floater_map(mesh, shape, corners) if morphing == "floater" else points
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
    common_points: np.ndarray | None = None  # the common nodes' physical positions, if known

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

    @classmethod
    def by_elasticity(
        cls,
        mesh: Mesh,
        common: CommonMesh,
        corners: str | Sequence[Sequence[float]] | None,
        steps: int = 4,
    ) -> Transfer:
        """Operators of ``mesh`` when the common (reference) mesh is deformed onto its outline
        by :func:`~nirom.geometry.morphing.morph_elastic`: the deformed common nodes are
        where the common mesh's values live in this sample."""
        points, triangles = planar_triangles(mesh, "sample mesh")
        outline = points[single_loop(triangles, "sample mesh")]
        moved = morph_elastic(common.mesh, outline, corners=corners, steps=steps)
        to_common = interpolation_matrix(mesh, moved)
        from_common = interpolation_matrix(common.mesh, points, points=moved)
        return cls(to_common, from_common, points, moved)

    def geometry(self) -> np.ndarray:
        """Physical coordinates of the common nodes in this sample, flattened (2 n_common,)."""
        if self.common_points is not None:
            return self.common_points.ravel()
        return np.asarray(self.to_common @ self.points).ravel()
