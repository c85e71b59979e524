"""Neural operators in PyTorch: Fourier neural operator, DeepONet, and their training loop.

- :class:`FNO` (with :class:`SpectralConv`): functions on a uniform 1-D/2-D grid to
  functions on the same grid, at any resolution with enough points for its modes.
- :class:`DeepONet`: functions sampled at fixed sensors to values at any query points.
- :func:`train` with :class:`TrainingConfig` / :class:`TrainingHistory`: AdamW on the
  relative L2 loss (:func:`relative_l2_loss`, :func:`evaluate_error`), seeded,
  best-validation weights kept.

Importing this package imports PyTorch (TorchMissingError, with the install command,
if it is missing), so ``import nirom`` never imports it; import it where a neural model
is used. Weights are float32; ``{k: v.cpu().numpy() for k, v in
model.state_dict().items()}`` gives them as numpy arrays for saving.
"""

from nirom.errors import TorchMissingError

TORCH_HINT = "the neural operators need PyTorch: pip install torch==2.13.0"

try:
    import torch  # noqa: F401
except ImportError as error:
    raise TorchMissingError(TORCH_HINT) from error

# Imported after the check, so that a missing PyTorch raises TorchMissingError.
from nirom.neural.deeponet import DeepONet  # noqa: E402
from nirom.neural.fno import FNO, SpectralConv  # noqa: E402
from nirom.neural.training import (  # noqa: E402
    TrainingConfig,
    TrainingHistory,
    check_config,
    evaluate_error,
    relative_l2_loss,
    seed_everything,
    train,
)

__all__ = [
    "FNO",
    "DeepONet",
    "SpectralConv",
    "TrainingConfig",
    "TrainingHistory",
    "check_config",
    "evaluate_error",
    "relative_l2_loss",
    "seed_everything",
    "train",
]
