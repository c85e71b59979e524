"""Built-in high-fidelity solvers (scikit-fem, NumPy/SciPy)."""

from nirom.solvers.thermal_block import ThermalBlock

__all__ = ["ThermalBlock"]
