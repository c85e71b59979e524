"""Neural operators' defaults finish: epochs fitted to the data size, early stopping on."""

from __future__ import annotations

import pytest

from nirom.errors import HyperparameterError
from nirom.surrogates import make_surrogate
from nirom.surrogates.operator import (
    MAX_BATCH,
    MAX_EPOCHS,
    MIN_BATCH,
    MIN_EPOCHS,
    auto_batch_size,
    auto_epochs,
)


def test_default_epochs_shrink_with_the_data_size() -> None:
    assert auto_epochs(36, 85 * 85) == 15  # 40 Darcy samples, 4 held out for validation
    assert auto_epochs(230, 256) == 68  # the Burgers example study
    assert auto_epochs(900, 85 * 85) == MIN_EPOCHS
    assert auto_epochs(10, 64) == MAX_EPOCHS
    assert auto_epochs(None, None) == MAX_EPOCHS  # before the data is known


@pytest.mark.parametrize("kind", ["fno", "deeponet"])
def test_early_stopping_is_on_by_default_with_validation_data(kind: str) -> None:
    pytest.importorskip("torch")
    model = make_surrogate(kind)
    assert model.epochs is None and model.patience == "auto"
    model.grid_shape_ = (85, 85)
    config = model._training_config(36)
    assert (config.epochs, config.patience) == (15, 10)
    alone = make_surrogate(kind, validation_fraction=0.0)
    alone.grid_shape_ = (256,)
    assert alone._training_config(256).patience is None  # nothing to stop on
    assert make_surrogate(kind, epochs=7, patience=3)._training_config(36).epochs == 7


@pytest.mark.parametrize("kind", ["fno", "deeponet"])
def test_default_batch_size_gives_small_sets_several_steps_per_epoch(kind: str) -> None:
    pytest.importorskip("torch")
    model = make_surrogate(kind)
    assert model.batch_size == "auto"
    model.grid_shape_ = (85, 85)
    assert model._training_config(36).batch_size == 7  # 40 Darcy samples: 6 steps per epoch
    assert model._training_config(900).batch_size == MAX_BATCH
    assert model._training_config(10).batch_size == MIN_BATCH
    assert make_surrogate(kind, batch_size=3)._training_config(36).batch_size == 3
    with pytest.raises(HyperparameterError, match="batch_size"):
        make_surrogate(kind, batch_size="large")


def test_auto_batch_size_bounds() -> None:
    assert [auto_batch_size(n) for n in (None, 1, 36, 99, 100, 5000)] == [20, 4, 7, 19, 20, 20]
