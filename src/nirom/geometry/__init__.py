"""Varying geometry: outlines, meshing, mapping meshes onto a fixed shape, morphing, transfer.

- :mod:`~nirom.geometry.outline`: random plate outlines (spline sides) of shape families;
- :mod:`~nirom.geometry.gmsh_mesh`: triangle meshes of an outline with gmsh.
"""
