"""Limits that keep any input bounded in time and memory.

Each is generous enough for real use (a generated 10^6-node program, an
expression nested 100 000 parentheses deep) and adjustable from the command
line. Exceeding one is a clear error (kind "limit", exit 2), never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The bounds an input must stay within (each a command-line option)."""

    max_bytes: int = 32 * 1024 * 1024  # program text, file or stdin
    max_nodes: int = 5_000_000  # graph nodes
    max_depth: int = 1_000_000  # nested parentheses / unary operators
    max_name: int = 256  # characters in one name
    max_entries: int = 20_000_000  # entries of all vectors and matrices together (8 bytes each)


DEFAULT_LIMITS = Limits()

#: Most axes a vector, matrix or tensor may have (NumPy's own limit is 64).
MAX_RANK = 32

#: The check's defaults (kept here, not in verify.py, so that importing them
#: does not load the checker: start-up matters, see benchmarks/).
DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 1e-12
DEFAULT_BUDGET = 10.0  # seconds for each SymPy step


def require_finite(values: dict[str, float]) -> None:
    """Refuse a tolerance or budget that is not a finite number (--rtol nan
    would make every comparison false, --budget inf overflows the timer), as
    a usage error naming the option."""
    import math

    from .errors import BpcalcError
    from .i18n import _

    for name, value in values.items():
        if not math.isfinite(value):
            raise BpcalcError("usage", _("{option} must be a finite number, not {value}").format(
                option=name, value=value))
