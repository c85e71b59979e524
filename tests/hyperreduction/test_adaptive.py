"""Adaptive mode: a load past the training range is flagged, enriched, and the error falls."""

from __future__ import annotations

import numpy as np

from nirom.hyperreduction.adaptive import adaptive_simulate
from nirom.hyperreduction.snapshots import mechanics_case
from nirom.mechanics.solver import QuasiStaticSolver


def test_enrichment_brings_the_error_of_a_doubled_load_down(plate_dataset) -> None:
    ds, surrogate = plate_dataset.dataset, plate_dataset.model
    rom, case = surrogate.model, mechanics_case(ds)
    mu = ds.parameter_sets([plate_dataset.ids[0]])[0]
    load = {**mu, "load": 2 * mu["load"]}
    history = rom.history(load)
    hf = QuasiStaticSolver(case.fe_space, rom.law(mu), history).run(case.times)
    plain = rom.simulate(mu, history=history)
    fields, enriched, at = adaptive_simulate(rom, case, mu, history=history, tolerance=0.02)
    assert at, "the indicator should have asked for an enrichment"
    assert enriched.n_modes > rom.n_modes
    assert fields["u"].shape == plain["u"].shape
    assert fields["indicator"].shape == plain["indicator"].shape

    def error(out):
        return np.linalg.norm(out["u"].reshape(len(case.times), -1) - hf.u) / np.linalg.norm(hf.u)

    assert error(fields) < 0.2 * error(plain)
    assert fields["indicator"].max() <= 0.02 < plain["indicator"].max()
