"""How numbers are shown to people (JSON keeps every digit; see api.num)."""

from __future__ import annotations

import math

from ..i18n import N_, _

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


#: Tensors with at most this many entries are written out in tables.
INLINE_ENTRIES = 8


def tensor_fmt(v: object, digits: int = DEFAULT_DIGITS, inline: int = INLINE_ENTRIES, row_sep: str = ", ",
               with_shape: bool = True) -> str:
    """A value for a table cell: a number as `fmt` writes it; a small vector
    or matrix written out ([0.65, 0], [[1, 2], [3, 4]]); a larger one as a
    summary (shape unless `with_shape` is False, min, max, norm)."""
    if v is None or isinstance(v, (int, float)):
        return fmt(v, digits)  # type: ignore[arg-type]
    shape = getattr(v, "shape", ())
    if not shape:
        return fmt(float(v), digits)  # type: ignore[arg-type]
    size = math.prod(shape)
    if size <= inline:
        return written_out(v, digits, row_sep)
    import numpy as np

    a = np.asarray(v, dtype=float)
    finite = a[np.isfinite(a)]
    if not finite.size:
        summary = _("no finite entries")
    else:
        summary = _("min {min}, max {max}, norm {norm}").format(
            min=fmt(float(finite.min()), digits), max=fmt(float(finite.max()), digits),
            norm=fmt(float(np.linalg.norm(finite)), digits))
        if finite.size < a.size:
            summary = _("{summary}, {count} non-finite").format(summary=summary, count=a.size - finite.size)
    if not with_shape:
        return summary
    return _("{shape}: {summary}").format(shape="×".join(map(str, shape)), summary=summary)


def written_out(v: object, digits: int = DEFAULT_DIGITS, row_sep: str = ", ") -> str:
    """Every entry: [1, -2.5] or [[1, 2], [3, 4]] (rows joined by `row_sep`)."""
    shape = getattr(v, "shape", ())
    if not shape:
        return fmt(float(v), digits)  # type: ignore[arg-type]
    if len(shape) == 1:
        return "[" + ", ".join(fmt(float(x), digits) for x in v) + "]"  # type: ignore[attr-defined]
    return "[" + row_sep.join(written_out(row, digits) for row in v) + "]"  # type: ignore[attr-defined]


#: An exact form too long to keep (None in exact mode's texts), as shown.
LONG = N_("(long)")


def exact_written(texts: object, row_sep: str = ", ") -> str:
    """Exact mode's entry texts (nested lists, see `exact_tensor`) written
    as `written_out` writes decimals: [11/5, 2] or [[1, 2], [3, 4]]; an entry
    too long to keep is '(long)'."""
    if not isinstance(texts, list):
        return _(LONG) if texts is None else str(texts)
    if texts and isinstance(texts[0], list):
        return "[" + row_sep.join(exact_written(row) for row in texts) + "]"
    return "[" + ", ".join(exact_written(t) for t in texts) + "]"


def all_kept(texts: object) -> bool:
    """Exact mode's texts of a node have every entry (none too long to keep)."""
    if isinstance(texts, list):
        return all(all_kept(t) for t in texts)
    return texts is not None
