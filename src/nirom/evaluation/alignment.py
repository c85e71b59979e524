"""Where a model's mesh meets another one: a dataset's (evaluation, report) or a mesh file's
(``nirom predict --mesh``).

A model predicts on the mesh it was fitted on (``model.mesh_``). Before its
predictions meet a dataset's fields, or are written on a given mesh, the two
meshes are compared (points, cells): the same points and cells in another
order are matched (:func:`nirom.mesh_matching.match_meshes`), and the predictions
are put in the other mesh's order before any metric; any other mesh is a
one-line :class:`~nirom.errors.MeshError` naming both meshes' sizes.
Datasets with a mesh per sample (mmgp) are not compared here: each sample is
predicted on its own mesh (:mod:`nirom.evaluation.meshes`).
"""

from __future__ import annotations

from nirom.dataset import Dataset
from nirom.mesh_matching import MeshMatch, match_meshes
from nirom.surrogates.base import Surrogate


def match_dataset(model: Surrogate, dataset: Dataset) -> MeshMatch:
    """The match of the model's mesh onto the dataset's reference mesh.

    The identity when either has no mesh, for datasets with a mesh per sample,
    and when the dataset's field inputs lie on another grid than the model's
    (a neural operator predicts on the grid of its inputs).
    """
    if model.mesh_ is None or dataset.mesh is None or dataset.per_sample_mesh:
        return MeshMatch()
    ours = {p.name: p.shape for p in model.space_.field_inputs}
    theirs = {p.name: p.shape for p in dataset.space.field_inputs}
    if ours != theirs:
        return MeshMatch()
    return match_meshes(
        model.mesh_, dataset.mesh, what=f"{dataset.path} does not match the model's mesh"
    )


def field_input_names(model: Surrogate) -> list[str]:
    """The model's field inputs (what :meth:`MeshMatch.inputs` reorders)."""
    return [p.name for p in model.space_.field_inputs]
