"""Varying geometry: outlines, meshing, mapping meshes onto a fixed shape, morphing, transfer.

- :mod:`~nirom.geometry.outline`: random plate outlines (spline sides) of shape families;
- :mod:`~nirom.geometry.gmsh_mesh`: triangle meshes of an outline with gmsh;
- :mod:`~nirom.geometry.triangles`: checked planar triangle meshes, boundary loops;
- :mod:`~nirom.geometry.floater`: Floater's mean-value mapping onto the unit square or disk;
- :mod:`~nirom.geometry.interpolation`: P1 interpolation operators, clamped outside;
- :mod:`~nirom.geometry.morphing`: elasticity-based morphing of a reference mesh.
"""

from nirom.geometry.floater import floater_map
from nirom.geometry.interpolation import interpolation_matrix
from nirom.geometry.morphing import morph_elastic
from nirom.geometry.triangles import boundary_loops, planar_triangles

__all__ = [
    "boundary_loops",
    "floater_map",
    "interpolation_matrix",
    "morph_elastic",
    "planar_triangles",
]
