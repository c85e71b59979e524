"""Checks of numeric options (solver settings, random-field parameters) naming the culprit."""

from __future__ import annotations

import math
from typing import Any, Literal

from nirom.errors import ParameterError


def check_integer(what: str, value: Any, least: int = 1) -> int:
    """``value`` as an int >= ``least`` (an integral float is accepted), else ParameterError."""
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= least
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ParameterError(f"{what} must be an integer >= {least}, got {value!r}")
    return int(value)


def check_number(
    what: str, value: Any, sign: Literal["any", "nonnegative", "positive"] = "any"
) -> float:
    """``value`` as a finite float (>= 0 or > 0 as ``sign`` asks), else ParameterError."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        v = float("nan")
    bad = isinstance(value, (bool, str, bytes)) or not math.isfinite(v)
    bad = bad or (sign == "nonnegative" and v < 0) or (sign == "positive" and v <= 0)
    if bad:
        bound = {"any": "", "nonnegative": " >= 0", "positive": " > 0"}[sign]
        raise ParameterError(f"{what} must be a finite number{bound}, got {value!r}")
    return v
