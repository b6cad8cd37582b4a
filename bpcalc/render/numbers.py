"""How numbers are shown to people (JSON keeps every digit; see api.num)."""

from __future__ import annotations

import math

DEFAULT_DIGITS = 6


def fmt(v: float | None, digits: int = DEFAULT_DIGITS) -> str:
    """Shortest readable form with `digits` significant digits; '—' for None."""
    if v is None:
        return "—"
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"  # also for -0.0, which only confuses people
    return format(v, f".{digits}g")
