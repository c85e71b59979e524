"""Error, uncertainty and cost metrics of a surrogate on a test set.

The definitions are those of ``shared/METRICS.md``, so figures compare across
models, studies and published tables. Every function is pure NumPy/SciPy and
validates its inputs: mismatched shapes, NaN or infinite values and
references that make a relative error undefined raise a ``ValueError`` that
names the culprit.

Field layouts (``n`` samples, ``T`` output times, ``N`` mesh nodes, ``c``
components), as stored in a dataset:

=====================  ==================  ======================
field                  one sample          stacked test set
=====================  ==================  ======================
scalar                 ``(N,)``            ``(n, N)``
vector                 ``(N, c)``          ``(n, N, c)``
scalar time series     ``(T, N)``          ``(n, T, N)``
vector time series     ``(T, N, c)``       ``(n, T, N, c)``
=====================  ==================  ======================

A two-axis sample is a vector field unless ``time_series=True`` is passed (or,
for :func:`relative_l2`, the mass matrix's size tells the node axis).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.stats import norm as _normal

from nirom.errors import MetricError

__all__ = [
    "coverage",
    "interval_width",
    "l2_norms",
    "max_error",
    "norm_name",
    "r2_per_mode",
    "relative_l2",
    "rrmse_field",
    "rrmse_scalar",
    "speedup",
    "summarize",
]

Fields = ArrayLike | Sequence[ArrayLike]
"""A stacked array ``(n, ...)`` or a sequence of per-sample arrays (meshes may differ)."""

MassMatrix = sp.spmatrix | sp.sparray | np.ndarray


# ---------------------------------------------------------------- validation


def _finite(name: str, x: ArrayLike) -> np.ndarray:
    """``x`` as a float array; raise if it holds NaN or infinite values, saying how many."""
    x = np.asarray(x, dtype=float)
    n_nan = int(np.count_nonzero(np.isnan(x)))
    n_inf = int(np.count_nonzero(np.isinf(x)))
    if n_nan or n_inf:
        raise MetricError(
            f"{name} holds {n_nan} NaN and {n_inf} infinite value(s) out of {x.size}; "
            "metrics need finite values"
        )
    return x


def _pair(pred: ArrayLike, ref: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, ...]:
    """Finite float arrays of equal shape; raise naming both shapes otherwise."""
    p, r = _finite(names[0], pred), _finite(names[1], ref)
    if p.shape != r.shape:
        raise MetricError(f"{names[0]} has shape {p.shape} but {names[1]} has shape {r.shape}")
    return p, r


def _blocks(pred: Fields, ref: Fields) -> list[tuple[np.ndarray, np.ndarray]]:
    """Validated blocks of samples, each ``(pred, ref)`` of shape ``(m, ...)``.

    A sequence (list or tuple) gives one block per sample, so samples may live
    on different meshes; anything else is one stacked block.
    """
    if not isinstance(pred, list | tuple) and not isinstance(ref, list | tuple):
        return [_pair(pred, ref, ("pred", "ref"))]
    if len(pred) != len(ref):
        raise MetricError(f"pred has {len(pred)} samples but ref has {len(ref)}")
    pairs = enumerate(zip(pred, ref, strict=True))
    checked = (_pair(p, r, (f"pred[{i}]", f"ref[{i}]")) for i, (p, r) in pairs)
    return [(p[None], r[None]) for p, r in checked]


def _per_sample(
    fn: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]],
    pred: Fields,
    ref: Fields,
) -> tuple[np.ndarray, ...]:
    """Apply ``fn`` (stacked pred, ref -> per-sample arrays) to every block; concatenate."""
    parts = [fn(p, r) for p, r in _blocks(pred, ref)]
    if not parts or sum(len(part[0]) for part in parts) == 0:
        raise MetricError("no samples: pred and ref are empty")
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _check_positive(values: np.ndarray, what: str) -> None:
    """Raise naming the first sample whose reference ``what`` is zero."""
    zero = np.flatnonzero(values <= 0.0)
    if zero.size:
        raise MetricError(
            f"reference sample {zero[0]} has zero {what} ({zero.size} sample(s) in all), "
            "so its relative error is undefined"
        )


def _z(level: float) -> float:
    """Standard-normal quantile ``z`` of a central interval ``mean +- z std`` at ``level``."""
    if not 0.0 < level < 1.0:
        raise MetricError(f"level must lie strictly between 0 and 1, got {level}")
    return float(_normal.ppf(0.5 + level / 2.0))


def _std(std: ArrayLike) -> np.ndarray:
    """Finite, non-negative standard deviations."""
    s = _finite("std", std)
    n_negative = int(np.count_nonzero(s < 0.0))
    if n_negative:
        raise MetricError(f"std holds {n_negative} negative value(s); a std must be >= 0")
    return s


# ------------------------------------------------------------ field layouts


def _is_time_series(shape: tuple[int, ...], time_series: bool | None, n_nodes: int | None) -> bool:
    """Whether a two-axis sample of ``shape`` is ``(T, N)`` rather than ``(N, c)``."""
    if time_series is not None:
        return time_series
    if n_nodes is None:
        return False
    nodes_first, nodes_second = shape[0] == n_nodes, shape[1] == n_nodes
    if nodes_first and nodes_second:
        raise MetricError(
            f"samples of shape {shape} with a {n_nodes}-node mass matrix are ambiguous: "
            "pass time_series=True for (T, N) or False for (N, c)"
        )
    return nodes_second


def _layout(
    shape: tuple[int, ...], time_series: bool | None, n_nodes: int | None = None
) -> tuple[int, int, int]:
    """``(T, N, c)`` of one sample of ``shape`` (see the module's table of layouts)."""
    allowed = {True: (2, 3), False: (1, 2), None: (1, 2, 3)}[time_series]
    if len(shape) not in allowed:
        kind = {True: "(T, N[, c])", False: "(N[, c])", None: "(N,), (N, c) or (T, N, c)"}
        raise MetricError(f"a sample of shape {shape} is not a field of shape {kind[time_series]}")
    if 0 in shape:
        raise MetricError(f"a sample of shape {shape} holds no values")
    if len(shape) == 1:
        return 1, shape[0], 1
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    if _is_time_series(shape, time_series, n_nodes):
        return shape[0], shape[1], 1
    return 1, shape[0], shape[1]


def _canonical(x: np.ndarray, time_series: bool | None, n_nodes: int | None = None) -> np.ndarray:
    """Stacked fields ``(n, ...)`` reshaped to ``(n, T, N, c)``."""
    return x.reshape(x.shape[0], *_layout(x.shape[1:], time_series, n_nodes))


# ------------------------------------------------------------ field metrics


def norm_name(mass: MassMatrix | None) -> str:
    """Name of the norm :func:`relative_l2` uses with this ``mass`` argument, for reports."""
    return "Euclidean" if mass is None else "L2 (mass matrix)"


def _check_mass(mass: MassMatrix) -> int:
    """Number of nodes of a square mass matrix."""
    if mass.ndim != 2 or mass.shape[0] != mass.shape[1]:
        raise MetricError(f"mass must be a square (N, N) matrix, got shape {mass.shape}")
    return int(mass.shape[0])


def _squared_norms(x: np.ndarray, mass: MassMatrix | None) -> np.ndarray:
    """Per-sample squared norms of canonical fields ``(n, T, N, c)``: shape ``(n,)``.

    ``sum_{t, k} x_tk^T M x_tk`` with the mass matrix, ``sum x^2`` without.
    """
    n, n_times, n_nodes, n_comp = x.shape
    if mass is None:
        return np.einsum("itjk,itjk->i", x, x)
    columns = x.transpose(2, 0, 1, 3).reshape(n_nodes, n * n_times * n_comp)
    weighted = np.asarray(mass @ columns)
    per_sample = (columns * weighted).reshape(n_nodes, n, n_times * n_comp).sum(axis=(0, 2))
    return np.maximum(per_sample, 0.0)  # v^T M v >= 0 but for rounding


def l2_norms(
    x: np.ndarray, mass: MassMatrix | None = None, *, time_series: bool | None = None
) -> np.ndarray:
    """Norms (n,) of stacked fields ``x`` of shape (n, N[, c]) or (n, T, N[, c]).

    With ``mass`` (N, N): the finite-element L2 norm, ``sqrt(sum_k x_k^T M x_k)``
    over components and times ``k``; without it the Euclidean norm.
    """
    x = _finite("x", x)
    if mass is not None and not sp.issparse(mass):
        mass = np.asarray(mass, dtype=float)
    n_nodes = None if mass is None else _check_mass(mass)
    return np.sqrt(_squared_norms(_canonical(x, time_series, n_nodes), mass))


def relative_l2(
    pred: Fields,
    ref: Fields,
    mass: MassMatrix | None = None,
    *,
    time_series: bool | None = None,
) -> np.ndarray:
    """Relative error ``||p_i - u_i|| / ||u_i||`` of each test sample.

    Parameters
    ----------
    pred, ref : ndarray of shape (n, N), (n, N, c), (n, T, N) or (n, T, N, c)
        Predicted and reference fields on ``N`` nodes (``c`` components,
        ``T`` output times), or sequences of per-sample arrays (without
        ``mass``, samples may have different numbers of nodes).
    mass : sparse matrix or ndarray of shape (N, N), optional
        Finite-element mass matrix ``M``: the norm is then the L2 norm of the
        finite-element function, ``||v||^2 = sum v_k^T M v_k`` over components
        and times ``k``. Without it the norm is Euclidean (sum of squares of
        all entries), the convention of the FNO paper on uniform grids.
    time_series : bool, optional
        Whether a two-axis sample is ``(T, N)``; by default it is ``(N, c)``
        unless only its second axis matches the mass matrix's size.

    Returns
    -------
    ndarray of shape (n,)
        Dimensionless relative errors. Report them with :func:`norm_name`.

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/infinite values, a mass matrix of the wrong
        size, or a reference of zero norm (naming the sample).
    """
    if mass is not None and not sp.issparse(mass):
        mass = np.asarray(mass, dtype=float)
    n_nodes = None if mass is None else _check_mass(mass)

    def norms(p: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r4 = _canonical(r, time_series, n_nodes)
        if n_nodes is not None and r4.shape[2] != n_nodes:
            raise MetricError(
                f"fields of shape {r.shape[1:]} have {r4.shape[2]} nodes "
                f"but mass has shape {mass.shape}"
            )
        return _squared_norms(r4 - p.reshape(r4.shape), mass), _squared_norms(r4, mass)

    err_sq, ref_sq = _per_sample(norms, pred, ref)
    _check_positive(ref_sq, f"{norm_name(mass)} norm")
    return np.sqrt(err_sq / ref_sq)


def rrmse_field(pred: Fields, ref: Fields, *, time_series: bool | None = None) -> float:
    """Relative RMSE of fields, as in the PLAID benchmarks.

    ``RRMSE_f = sqrt( (1/n) sum_i (1/N_i) ||u_i - p_i||_2^2 / ||u_i||_inf^2 )``
    with ``N_i`` the number of mesh nodes of sample ``i``.

    Each sample is flattened: ``||.||_2^2`` sums the squares of all its
    entries and ``||u_i||_inf`` is its largest absolute entry. Components do
    not count as nodes, so for a vector field ``(1/N_i) ||e||_2^2`` is the
    mean over nodes of the squared length of the error vector (``c`` times
    the mean of PLAID's per-component values, which treat each component as a
    separate scalar field). Each output time counts as a snapshot of the
    ``N_i`` nodes, so for a time series ``N_i`` is replaced by ``T * N_i``:
    the figure is a mean over times, not a sum.

    Parameters
    ----------
    pred, ref : ndarray of shape (n, N[, c]) or (n, T, N[, c]), or sequences
        Predicted and reference fields; a sequence holds one array per sample
        (``(N_i,)``, ``(N_i, c)``, ...), so meshes may differ between samples.
    time_series : bool, optional
        Whether a two-axis sample is ``(T, N)`` rather than ``(N, c)``.

    Returns
    -------
    float
        Dimensionless RRMSE_f.
    """

    def terms(p: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_times, n_nodes, _ = _layout(r.shape[1:], time_series)
        flat_err, flat_ref = (r - p).reshape(len(r), -1), r.reshape(len(r), -1)
        mse = np.einsum("ij,ij->i", flat_err, flat_err) / (n_times * n_nodes)
        return mse, np.max(np.abs(flat_ref), axis=1, initial=0.0) ** 2

    mse, scale = _per_sample(terms, pred, ref)
    _check_positive(scale, "maximum absolute value")
    return float(np.sqrt(np.mean(mse / scale)))


def max_error(pred: Fields, ref: Fields, *, time_series: bool | None = None) -> np.ndarray:
    """Largest pointwise error of each sample, in the field's unit.

    The pointwise error at a node (and time) is ``|p - u|`` for a scalar field
    and the Euclidean length of the error vector for a vector field.

    Parameters
    ----------
    pred, ref : ndarray of shape (n, N[, c]) or (n, T, N[, c]), or sequences
        Predicted and reference fields (see :func:`rrmse_field`).
    time_series : bool, optional
        Whether a two-axis sample is ``(T, N)`` rather than ``(N, c)``.

    Returns
    -------
    ndarray of shape (n,)
    """

    def largest(p: np.ndarray, r: np.ndarray) -> tuple[np.ndarray]:
        err = _canonical(r - p, time_series)
        return (np.sqrt(np.einsum("itjk,itjk->itj", err, err)).max(axis=(1, 2), initial=0.0),)

    return _per_sample(largest, pred, ref)[0]


def rrmse_scalar(pred: ArrayLike, ref: ArrayLike) -> float:
    """Relative RMSE of one scalar output, as in the PLAID benchmarks.

    ``RRMSE_s = sqrt( (1/n) sum_i |w_i - p_i|^2 / |w_i|^2 )``.

    Parameters
    ----------
    pred, ref : ndarray of shape (n,)
        Predicted and reference values ``p_i`` and ``w_i``.

    Returns
    -------
    float
        Dimensionless RRMSE_s.
    """
    p, w = _pair(pred, ref, ("pred", "ref"))
    if w.ndim != 1 or w.size == 0:
        raise MetricError(f"scalar outputs must have shape (n,) with n >= 1, got {w.shape}")
    _check_positive(np.abs(w), "value")
    return float(np.sqrt(np.mean(((w - p) / w) ** 2)))


# ------------------------------------------------------ uncertainty metrics


def coverage(ref: ArrayLike, mean: ArrayLike, std: ArrayLike, level: float = 0.95) -> float:
    """Fraction of reference values inside the central interval ``mean +- z std``.

    ``z = norm.ppf(0.5 + level / 2)`` (1.96 at the default 95 %), the interval
    of a Gaussian predictive distribution; bounds count as inside. A
    calibrated surrogate covers close to ``level``; far above means over-wide
    bars, far below overconfident ones. Judge it together with
    :func:`interval_width`.

    Parameters
    ----------
    ref, mean, std : ndarrays of one shape, e.g. (n, N) or (n, T, N, c)
        Reference values, predicted means and predicted standard deviations
        (``std >= 0``). Every value (node, component, time, sample) counts
        once; for samples on different meshes, concatenate them flattened.
    level : float
        Nominal level ``1 - alpha`` in (0, 1).

    Returns
    -------
    float
        Coverage in [0, 1].
    """
    z = _z(level)
    u, m = _pair(ref, mean, ("ref", "mean"))
    s = _std(std)
    if s.shape != u.shape:
        raise MetricError(f"std has shape {s.shape} but ref has shape {u.shape}")
    if u.size == 0:
        raise MetricError("no values: ref is empty")
    return float(np.mean(np.abs(u - m) <= z * s))


def interval_width(std: ArrayLike, level: float = 0.95) -> float:
    """Mean width ``2 z std`` of the central intervals behind :func:`coverage`.

    Parameters
    ----------
    std : ndarray of any shape
        Predicted standard deviations (``>= 0``), in the field's unit.
    level : float
        Nominal level in (0, 1).

    Returns
    -------
    float
        Mean interval width, in the field's unit (sharpness: smaller is
        sharper at a given coverage).
    """
    z = _z(level)
    s = _std(std)
    if s.size == 0:
        raise MetricError("no values: std is empty")
    return float(2.0 * z * np.mean(s))


# ---------------------------------------------------------- reduced models


def r2_per_mode(z_true: ArrayLike, z_pred: ArrayLike) -> np.ndarray:
    """Coefficient of determination of each reduced coordinate.

    ``R2_j = 1 - sum_i (z_ij - zhat_ij)^2 / sum_i (z_ij - mean_i z_ij)^2``: 1 for
    exact predictions, 0 for predicting the test mean, negative for worse.

    A column whose true values are all equal has no variance to explain, so
    R2 is undefined: it is 1.0 when predicted exactly and NaN otherwise
    (rather than scikit-learn's 0.0, which would read as "as good as the
    mean"). Such columns are rare for POD coefficients but flag a degenerate
    test set.

    Parameters
    ----------
    z_true, z_pred : ndarray of shape (n, r) or (n,)
        True and predicted reduced coordinates of ``n >= 2`` test samples.

    Returns
    -------
    ndarray of shape (r,) (``(1,)`` for one-dimensional input)
    """
    t, p = _pair(z_true, z_pred, ("z_true", "z_pred"))
    t, p = (t[:, None], p[:, None]) if t.ndim == 1 else (t, p)
    if t.ndim != 2 or t.shape[0] < 2:
        raise MetricError(f"reduced coordinates must have shape (n, r) with n >= 2, got {t.shape}")
    ss_res = np.sum((t - p) ** 2, axis=0)
    constant = np.ptp(t, axis=0) == 0.0
    ss_tot = np.where(constant, 1.0, np.sum((t - t.mean(axis=0)) ** 2, axis=0))
    r2 = 1.0 - ss_res / ss_tot
    return np.where(constant, np.where(ss_res == 0.0, 1.0, np.nan), r2)


# ---------------------------------------------------------- summaries, cost


def summarize(values: ArrayLike) -> dict[str, float]:
    """Mean, median, max and min of per-sample metric values, as plain floats.

    Parameters
    ----------
    values : ndarray of shape (n,)
        For example the output of :func:`relative_l2`.

    Returns
    -------
    dict
        ``{"mean", "median", "max", "min"}`` -> float (JSON-serialisable).
    """
    v = _finite("values", values).ravel()
    if v.size == 0:
        raise MetricError("no values to summarize")
    stats: dict[str, Any] = {"mean": np.mean, "median": np.median, "max": np.max, "min": np.min}
    return {name: float(fn(v)) for name, fn in stats.items()}


def speedup(solve_times: ArrayLike, predict_times: ArrayLike) -> float:
    """Median high-fidelity solve time over median surrogate prediction time.

    Parameters
    ----------
    solve_times : ndarray of shape (n,)
        Seconds per high-fidelity solve, as recorded per sample; NaN (or
        infinite) entries, e.g. failed samples, are ignored.
    predict_times : ndarray of shape (m,)
        Seconds per prediction of one full field, measured after warm-up on
        the same machine; all finite and positive.

    Returns
    -------
    float
        Dimensionless speed-up (> 1 when the surrogate is faster).
    """
    solve = np.asarray(solve_times, dtype=float).ravel()
    solve = solve[np.isfinite(solve)]
    if solve.size == 0:
        raise MetricError("solve_times holds no finite value")
    predict = _finite("predict_times", predict_times).ravel()
    if predict.size == 0:
        raise MetricError("predict_times is empty")
    if np.any(solve < 0.0) or np.any(predict <= 0.0):
        raise MetricError("times must be positive (solve_times may be 0, predict_times not)")
    return float(np.median(solve) / np.median(predict))
