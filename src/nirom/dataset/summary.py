"""A dataset's JSON-compatible overview (``nirom info``)."""

from __future__ import annotations

import contextlib
from typing import Any

from nirom.dataset.layout import disk_size, time_statistics
from nirom.errors import SampleMissingError


def dataset_summary(ds: Any) -> dict[str, Any]:
    """Parameters, fields, counts, failures, mesh, quadrature, operators, solve times, size
    of the open dataset ``ds`` (a :class:`~nirom.dataset.store.Dataset`, not imported: its
    ``summary`` calls this)."""
    metas = {}
    for i in ds._all_ids():
        with contextlib.suppress(SampleMissingError):  # being replaced right now
            metas[i] = ds.read_meta(i)
    counts = ds._counts([m["status"] for m in metas.values()])
    failures = [{"id": i, "error": m["error"]} for i, m in metas.items() if m["status"] == "failed"]
    times = [m["solve_time_s"] for m in metas.values() if m["status"] == "done"]
    mesh = ds.mesh
    return {
        "path": str(ds.path),
        "format_version": ds.format_version,
        "description": ds.description,
        "parameters": ds.space.to_dict()["parameters"],
        "fields": [f.to_dict() for f in ds.fields.values()],
        "samples": counts,
        "failures": failures,
        "mesh": None
        if mesh is None
        else {"points": mesh.n_points, "cells": mesh.cell_counts(), "dim": mesh.dim},
        "per_sample_mesh": ds.per_sample_mesh,
        "quadrature": None
        if ds.quadrature is None
        else {
            "cell_type": ds.quadrature.cell_type,
            "element": ds.quadrature.element,
            "points_per_cell": ds.quadrature.n_points,
            "points": None if mesh is None else mesh.n_cells * ds.quadrature.n_points,
        },
        "provenance": ds.provenance,
        "operators": ds.operators,
        "solve_time_s": time_statistics(times),
        "disk_bytes": disk_size(ds.path),
    }
