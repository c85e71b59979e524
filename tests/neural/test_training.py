"""Tests for nirom.neural.training: loss, reproducibility, early stopping, input errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

# After the skip: importing nirom.neural needs PyTorch.
from nirom.neural import (  # noqa: E402
    FNO,
    TrainingConfig,
    relative_l2_loss,
    seed_everything,
    train,
)


def smooth_pairs(n: int, seed: int) -> tuple[Any, Any]:
    """Inputs (n, 1, 16) and targets (n, 1, 16): random waves and their squares plus one."""
    rng = np.random.default_rng(seed)
    x = np.arange(16) / 16
    u = rng.standard_normal((n, 1)) * np.sin(2 * np.pi * (x + rng.random((n, 1))))
    return torch.tensor(u[:, None], dtype=torch.float32), torch.tensor(
        1.0 + u[:, None] ** 2, dtype=torch.float32
    )


def quiet(**settings: Any) -> Any:
    """TrainingConfig without the progress bar."""
    return TrainingConfig(progress=False, **settings)


def small_fno(seed: int) -> Any:
    seed_everything(seed)
    return FNO(1, 1, 1, modes=4, width=8, n_layers=2, projection_channels=8)


def run(seed: int) -> tuple[Any, Any]:
    """A short seeded training with validation and shuffled mini-batches."""
    model = small_fno(seed)
    config = quiet(epochs=4, batch_size=7, learning_rate=1e-2, seed=seed)
    history = train(model, *smooth_pairs(30, 0), config, *smooth_pairs(10, 1))
    return model, history


def test_relative_l2_loss_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((2, 4, 3, 5))
    per_sample = np.linalg.norm((pred - target).reshape(4, -1), axis=1) / np.linalg.norm(
        target.reshape(4, -1), axis=1
    )
    loss = relative_l2_loss(torch.tensor(pred), torch.tensor(target))
    assert loss.shape == ()
    assert float(loss) == pytest.approx(per_sample.mean(), rel=1e-12)
    with pytest.raises(ValueError, match=r"prediction shape \(4, 3, 5\) differs"):
        relative_l2_loss(torch.tensor(pred), torch.tensor(target[:, :2]))


def test_seeded_runs_are_bitwise_reproducible() -> None:
    model_a, history_a = run(seed=3)
    model_b, history_b = run(seed=3)
    assert history_a.train_loss == history_b.train_loss
    assert history_a.val_error == history_b.val_error
    assert history_a.best_epoch == history_b.best_epoch
    state_b = model_b.state_dict()
    for name, tensor in model_a.state_dict().items():
        assert torch.equal(tensor, state_b[name]), name
    _, history_c = run(seed=4)
    assert history_c.train_loss != history_a.train_loss


def test_history_and_model_after_training() -> None:
    model, history = run(seed=0)
    assert history.epochs_run == 4 == len(history.train_loss) == len(history.val_error)
    assert history.best_epoch == 1 + int(np.argmin(history.val_error))
    assert history.device == "cpu"
    assert history.time_s > 0
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert not model.training


def linear_case(val_slope: float) -> tuple[Any, tuple[Any, Any], tuple[Any, Any]]:
    """A one-weight model from 0 towards slope 3 (training), scored against ``val_slope``."""
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.zero_()
    x = torch.linspace(1.0, 2.0, 10)[:, None]
    return model, (x, 3.0 * x), (x, val_slope * x)


def test_early_stopping_restores_the_best_epoch() -> None:
    """Adam moves the weight by 0.1 an epoch, past the validation slope 1.47 (nearest at
    1.5, epoch 15): the validation error falls, then rises."""
    model, (x, y), (xv, yv) = linear_case(val_slope=1.47)
    config = quiet(
        epochs=200, batch_size=10, learning_rate=0.1, weight_decay=0.0, scheduler="none", patience=5
    )
    history = train(model, x, y, config, xv, yv)
    best = min(history.val_error)
    assert 1 < history.best_epoch == 1 + history.val_error.index(best)
    assert history.epochs_run == history.best_epoch + 5 < 200
    assert history.val_error[-1] > best
    with torch.no_grad():
        assert float(relative_l2_loss(model(xv), yv)) == pytest.approx(best, rel=1e-6)
    assert float(model.weight.detach()) == pytest.approx(1.5, abs=0.05)


def test_without_validation_the_last_weights_are_kept() -> None:
    model, (x, y), _ = linear_case(val_slope=1.5)
    config = quiet(epochs=6, batch_size=4, scheduler="none")
    history = train(model, x, y, config)
    assert history.val_error == []
    assert history.best_epoch == history.epochs_run == 6


@pytest.mark.parametrize("scheduler", ["cosine", "step", "onecycle", "none"])
def test_schedulers_train(scheduler) -> None:
    model = small_fno(0)
    config = quiet(epochs=3, batch_size=8, scheduler=scheduler)
    history = train(model, *smooth_pairs(20, 0), config)
    assert len(history.train_loss) == 3
    assert all(math.isfinite(v) for v in history.train_loss)


def test_tuple_inputs_with_a_custom_forward_and_float64_data() -> None:
    """Tuple inputs are batched together; float64 data are cast to the float32 model."""
    rng = np.random.default_rng(0)
    a, b = (torch.tensor(rng.standard_normal((24, 3))) for _ in range(2))
    target = (2.0 * a - b).sum(dim=1, keepdim=True) + 1.0
    model = torch.nn.Linear(3, 1)
    config = quiet(epochs=100, batch_size=6, learning_rate=0.1)
    history = train(model, (a, b), target, config, forward=lambda m, p, q: m(p) - m(q) / 2)
    assert history.train_loss[-1] < 0.01 * history.train_loss[0]


def test_progress_off_a_terminal_is_plain_lines_with_the_elapsed_time(monkeypatch, capsys) -> None:
    """A long fit with stderr to a file or a pipe prints its progress (it printed nothing)."""
    from nirom import progress

    model, (x, y), (xv, yv) = linear_case(val_slope=1.5)
    ticks = iter(np.arange(0.0, 1e6, 4.0))  # each reading of the clock: 4 s later
    monkeypatch.setattr(progress, "monotonic", lambda: float(next(ticks)))
    history = train(model, x, y, TrainingConfig(epochs=12, progress=True), xv, yv)
    lines = capsys.readouterr().err.splitlines()  # stderr is not a terminal under pytest
    assert len(lines) > 2 and all(line.startswith("training: ") for line in lines)
    assert "/12 epochs, " in lines[0] and "s elapsed, ETA " in lines[0]
    assert lines[-1].startswith("training: 12/12 epochs, done in ")
    assert lines[-1].endswith(
        f"loss {history.train_loss[-1]:.3e}, validation {history.val_error[-1]:.3e}"
    )
    assert not any("\x1b" in line for line in lines)  # no ANSI escape codes


def test_a_short_fit_off_a_terminal_prints_nothing(capsys) -> None:
    model, (x, y), (xv, yv) = linear_case(val_slope=1.5)
    history = train(model, x, y, TrainingConfig(epochs=2, progress=True), xv, yv)
    assert history.epochs_run == 2
    assert capsys.readouterr().err == ""  # under 10 s: not even a final line
    train(model, x, y, TrainingConfig(epochs=2, progress=False), xv, yv)
    assert capsys.readouterr().err == ""  # progress=False: nothing


def test_nan_loss_raises_and_returns_the_model_to_the_cpu() -> None:
    model, (x, y), _ = linear_case(val_slope=1.5)
    config = quiet(epochs=5, scheduler="none")
    with pytest.raises(FloatingPointError, match="loss became nan in epoch 1"):
        train(model, x, y, config, forward=lambda m, x_batch: torch.sqrt(m(x_batch) - 10.0))
    assert model.weight.device.type == "cpu"


def _bad(kind: str) -> dict[str, Any]:
    """Arguments of ``train`` with one thing wrong."""
    x, y = torch.ones(8, 2), torch.ones(8, 1)
    args: dict[str, Any] = {"inputs": x, "targets": y, "config": quiet()}
    if kind == "counts":
        args["targets"] = torch.ones(7, 1)
    elif kind == "tuple counts":
        args["inputs"] = (x, torch.ones(9, 2))
    elif kind == "nan inputs":
        args["inputs"] = x.clone().index_fill_(0, torch.tensor([3]), math.nan)
    elif kind == "nan targets":
        args["targets"] = y.clone().index_fill_(0, torch.tensor([0]), math.nan)
    elif kind == "zero target":
        args["targets"] = y.clone().index_fill_(0, torch.tensor([2]), 0.0)
    elif kind == "epochs":
        args["config"] = quiet(epochs=0)
    elif kind == "scheduler":
        args["config"] = quiet(scheduler="linear")
    elif kind == "patience without validation":
        args["config"] = quiet(patience=3)
    elif kind == "validation without targets":
        args["val_inputs"] = x
    elif kind == "validation counts":
        args.update(val_inputs=x, val_targets=torch.ones(3, 1))
    elif kind == "not a tensor":
        args["inputs"] = x.numpy()
    elif kind == "device":
        args["config"] = quiet(device="abacus")
    return args


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("counts", r"training sample counts differ: .*8.*7"),
        ("tuple counts", r"training sample counts differ"),
        ("nan inputs", r"training inputs\[0\] holds NaN"),
        ("nan targets", r"training targets holds NaN"),
        ("zero target", r"all-zero sample"),
        ("epochs", r"epochs must be an int >= 1, got 0"),
        ("scheduler", r"unknown TrainingConfig.scheduler 'linear'"),
        ("patience without validation", r"patience needs validation data"),
        ("validation without targets", r"both val_inputs and val_targets"),
        ("validation counts", r"validation sample counts differ"),
        ("not a tensor", r"must be a torch.Tensor, got ndarray"),
        ("device", r"unknown TrainingConfig.device 'abacus'"),
    ],
)
def test_bad_input_raises(kind, message) -> None:
    with pytest.raises(ValueError, match=message):
        train(torch.nn.Linear(2, 1), **_bad(kind))
