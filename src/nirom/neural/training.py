"""Training loop shared by the neural operators: AdamW on the relative L2 loss.

:func:`train` fits any ``nn.Module`` to samples with a leading sample axis: shuffled
mini-batches from a seeded ``torch.Generator``, AdamW, a learning-rate schedule, the
mean relative L2 error per sample as the loss, validation error each epoch, and the
weights of the best validation epoch restored at the end (optionally stopping early).
Model and data move to the chosen device for training and the model returns to the
CPU afterwards, in eval mode. Seeded runs on one device with one thread count are
bitwise reproducible.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from nirom.progress import ProgressDisplay, progress_bar

SCHEDULERS = ("cosine", "step", "onecycle", "none")
# The FNO reference code halves the learning rate every 100 epochs.
STEP_EPOCHS, STEP_FACTOR = 100, 0.5

Inputs = Tensor | tuple[Tensor, ...]
Forward = Callable[..., Tensor]


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's global and PyTorch's (all devices) random generators.

    Call it before building a model so that its initial weights are reproducible.
    """
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the global generator is what third-party code uses
    torch.manual_seed(seed)


def relative_l2_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean over the batch of ``||pred_i - target_i||_2 / ||target_i||_2``.

    Parameters
    ----------
    pred, target : Tensor of shape (batch, ...)
        Same shape; the norms run over all non-batch axes (grid points and channels).
        A sample with a zero target gives inf or NaN.

    Returns
    -------
    Tensor of shape ()
        Dimensionless.
    """
    if pred.shape != target.shape:
        raise ValueError(
            f"prediction shape {tuple(pred.shape)} differs from target shape {tuple(target.shape)}"
        )
    diff = torch.linalg.vector_norm((pred - target).reshape(len(pred), -1), dim=1)
    return torch.mean(diff / torch.linalg.vector_norm(target.reshape(len(target), -1), dim=1))


@dataclass
class TrainingConfig:
    """Settings of :func:`train`.

    Attributes
    ----------
    epochs : int
        Maximum number of passes over the training samples.
    batch_size : int
        Samples per optimiser step (the last batch of an epoch may be smaller).
    learning_rate : float
        Initial (for "onecycle": peak) AdamW learning rate.
    weight_decay : float
        AdamW's decoupled weight decay.
    scheduler : str
        "cosine" (annealed to 0 over ``epochs``), "step" (halved every 100 epochs, as
        in the FNO reference code), "onecycle" (stepped per batch) or "none".
    patience : int or None
        Stop after this many epochs without a new best validation error (needs
        validation data); None trains all ``epochs``.
    seed : int
        Seed of the global PyTorch generator (set at the start of training) and of the
        mini-batch order.
    device : str
        "auto" (CUDA if available, else CPU) or a PyTorch device such as "cpu", "cuda:0".
    progress : bool
        Show a rich progress bar (epoch, train loss, validation error) on stderr, or
        plain lines with the elapsed time where stderr is not a terminal.
    """

    epochs: int = 500
    batch_size: int = 20
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    scheduler: str = "cosine"
    patience: int | None = None
    seed: int = 0
    device: str = "auto"
    progress: bool = True


@dataclass
class TrainingHistory:
    """What :func:`train` measured.

    Attributes
    ----------
    train_loss : list of float
        Mean relative L2 loss over the training samples per epoch, accumulated over the
        epoch's steps (the weights change during the epoch).
    val_error : list of float
        Mean relative L2 error over the validation samples after each epoch; empty
        without validation data.
    best_epoch : int
        Epoch (1-based) whose weights the model holds: the best validation epoch, or
        the last epoch without validation data.
    epochs_run : int
        Epochs run (fewer than ``config.epochs`` after an early stop).
    time_s : float
        Wall time of the training loop, seconds.
    device : str
        Device the model trained on.
    """

    train_loss: list[float] = field(default_factory=list)
    val_error: list[float] = field(default_factory=list)
    best_epoch: int = 0
    epochs_run: int = 0
    time_s: float = 0.0
    device: str = "cpu"


def _default_forward(model: nn.Module, *inputs: Tensor) -> Tensor:
    return model(*inputs)


def check_config(config: TrainingConfig, has_validation: bool) -> None:
    """Raise ValueError naming the first setting of ``config`` that cannot work."""
    for name in ("epochs", "batch_size"):
        value = getattr(config, name)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise ValueError(f"TrainingConfig.{name} must be an int >= 1, got {value!r}")
    if not config.learning_rate > 0:
        raise ValueError(f"TrainingConfig.learning_rate must be > 0, got {config.learning_rate}")
    if not config.weight_decay >= 0:
        raise ValueError(f"TrainingConfig.weight_decay must be >= 0, got {config.weight_decay}")
    if config.scheduler not in SCHEDULERS:
        raise ValueError(
            f"unknown TrainingConfig.scheduler {config.scheduler!r}; choose from {SCHEDULERS}"
        )
    device = _resolve_device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"TrainingConfig.device {config.device!r}: no CUDA GPU is available")
    if config.patience is not None:
        if not (isinstance(config.patience, int) and config.patience >= 1):
            raise ValueError(f"TrainingConfig.patience must be None or >= 1, got {config.patience}")
        if not has_validation:
            raise ValueError("TrainingConfig.patience needs validation data (val_inputs/targets)")


def _check_data(inputs: Inputs, targets: Tensor, what: str) -> tuple[Tensor, ...]:
    """``inputs`` as a tuple, after checking types, sample counts and finiteness."""
    tensors = inputs if isinstance(inputs, tuple) else (inputs,)
    if not tensors:
        raise ValueError(f"{what} inputs: got an empty tuple")
    named = [(f"{what} inputs[{i}]", t) for i, t in enumerate(tensors)]
    named.append((f"{what} targets", targets))
    for name, t in named:
        if not isinstance(t, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim == 0:
            raise ValueError(f"{name} needs a leading sample axis, got a scalar")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} holds NaN or infinite values")
    counts = {name: len(t) for name, t in named}
    if len(set(counts.values())) > 1:
        raise ValueError(f"{what} sample counts differ: {counts}")
    if len(targets) == 0:
        raise ValueError(f"{what} data hold no samples")
    if not bool((targets.reshape(len(targets), -1) != 0).any(dim=1).all()):
        raise ValueError(f"{what} targets include an all-zero sample (relative error undefined)")
    return tensors


def _to(t: Tensor, device: torch.device, dtype: torch.dtype) -> Tensor:
    """``t`` on ``device``; floating tensors also cast to the model's ``dtype``."""
    return t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown TrainingConfig.device {name!r}: {error}") from error


def _scheduler(
    optimiser: torch.optim.Optimizer, config: TrainingConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    if config.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimiser, STEP_EPOCHS, gamma=STEP_FACTOR)
    if config.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch
        )
    return None


def _progress_bar(config: TrainingConfig, has_val: bool) -> ProgressDisplay:
    """Epochs, training loss and validation error: a bar on a terminal, else plain lines."""
    fields = ("loss {task.fields[loss]}",) + (("validation {task.fields[val]}",) if has_val else ())
    return progress_bar("training", *fields, unit="epochs", disable=not config.progress)


@torch.no_grad()
def evaluate_error(
    model: nn.Module,
    inputs: tuple[Tensor, ...],
    targets: Tensor,
    batch_size: int,
    forward: Forward = _default_forward,
) -> float:
    """Mean relative L2 error of ``model`` over samples, evaluated ``batch_size`` at a time.

    Inputs and targets must already be on the model's device. Dimensionless.
    """
    model.eval()
    total = torch.zeros((), device=targets.device, dtype=torch.float64)
    for start in range(0, len(targets), batch_size):
        rows = slice(start, start + batch_size)
        pred = forward(model, *(t[rows] for t in inputs))
        total += relative_l2_loss(pred, targets[rows]).double() * len(targets[rows])
    return float(total) / len(targets)


def _epoch(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler | None,
    inputs: tuple[Tensor, ...],
    targets: Tensor,
    batch_size: int,
    generator: torch.Generator,
    forward: Forward,
) -> float:
    """One pass over shuffled mini-batches; the sample-weighted mean of the batch losses."""
    model.train()
    order = torch.randperm(len(targets), generator=generator).to(targets.device)
    total = torch.zeros((), device=targets.device, dtype=torch.float64)
    per_batch = isinstance(schedule, torch.optim.lr_scheduler.OneCycleLR)
    for start in range(0, len(targets), batch_size):
        rows = order[start : start + batch_size]
        optimiser.zero_grad(set_to_none=True)
        loss = relative_l2_loss(forward(model, *(t[rows] for t in inputs)), targets[rows])
        loss.backward()
        optimiser.step()
        if per_batch:
            schedule.step()
        total += loss.detach().double() * len(rows)
    if schedule is not None and not per_batch:
        schedule.step()
    return float(total) / len(targets)


def train(
    model: nn.Module,
    inputs: Inputs,
    targets: Tensor,
    config: TrainingConfig,
    val_inputs: Inputs | None = None,
    val_targets: Tensor | None = None,
    forward: Forward | None = None,
) -> TrainingHistory:
    """Train ``model`` in place on the mean relative L2 loss; return what was measured.

    Parameters
    ----------
    model : nn.Module
        Built by the caller (after :func:`seed_everything` for reproducible weights).
        Returned on the CPU, in eval mode, holding the best-validation (or last) weights.
    inputs : Tensor or tuple of Tensor
        Training inputs, each with a leading sample axis of length n; a tuple is
        batched together (the same rows of each). Floating tensors are cast to the
        model's dtype (float32 for the operators here).
    targets : Tensor of shape (n, ...)
        What ``forward`` should return for each sample, in its shape.
    config : TrainingConfig
    val_inputs, val_targets : as ``inputs``, ``targets``, optional
        Validation samples (both or neither), evaluated after every epoch.
    forward : callable, optional
        ``forward(model, *batch_inputs) -> predictions``; defaults to
        ``model(*batch_inputs)``. For a DeepONet, supply the query points, e.g.
        ``lambda m, u: m(u, y.to(u.device))``.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    ValueError
        Bad settings, mismatched sample counts, NaN/infinite data, all-zero targets.
    FloatingPointError
        The training loss became NaN or infinite (lower the learning rate).
    """
    if (val_inputs is None) != (val_targets is None):
        raise ValueError("give both val_inputs and val_targets, or neither")
    has_val = val_targets is not None
    check_config(config, has_val)
    train_data = _check_data(inputs, targets, "training")
    val_data = _check_data(val_inputs, val_targets, "validation") if has_val else ()
    forward = forward or _default_forward
    device = _resolve_device(config.device)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    torch.manual_seed(config.seed)
    x = tuple(_to(t, device, dtype) for t in train_data)
    y = _to(targets, device, dtype)
    val = None
    if has_val:
        val = (tuple(_to(t, device, dtype) for t in val_data), _to(val_targets, device, dtype))
    model.to(device)
    try:
        history = _fit(model, x, y, val, config, forward)
    finally:
        model.to("cpu").eval()
    history.device = str(device)
    return history


def _fit(
    model: nn.Module,
    x: tuple[Tensor, ...],
    y: Tensor,
    val: tuple[tuple[Tensor, ...], Tensor] | None,
    config: TrainingConfig,
    forward: Forward,
) -> TrainingHistory:
    """The epochs of :func:`train` on data already on the model's device."""
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = _scheduler(optimiser, config, math.ceil(len(y) / config.batch_size))
    history = TrainingHistory()
    best, best_state = math.inf, None
    start = time.perf_counter()
    with _progress_bar(config, val is not None) as bar:
        task = bar.add_task("train", total=config.epochs, loss="-", val="-")
        for epoch in range(1, config.epochs + 1):
            loss = _epoch(model, optimiser, schedule, x, y, config.batch_size, generator, forward)
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"training loss became {loss} in epoch {epoch}; lower the learning rate"
                )
            history.train_loss.append(loss)
            history.epochs_run = epoch
            if val is None:
                history.best_epoch = epoch
            else:
                history.val_error.append(evaluate_error(model, *val, config.batch_size, forward))
                if history.val_error[-1] < best:
                    best, history.best_epoch = history.val_error[-1], epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            shown = f"{history.val_error[-1]:.3e}" if val is not None else "-"
            bar.update(task, advance=1, loss=f"{loss:.3e}", val=shown)
            if config.patience is not None and epoch - history.best_epoch >= config.patience:
                break
    history.time_s = time.perf_counter() - start
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
