"""`bpcalc.grad_batch(program, points)`: one program at many points, in memory.

The same engine as `bpcalc batch --points`: the vectorized engine
(`bpcalc.vector`) over whole columns, and the scalar engine (`bpcalc grad`'s)
for the points it marks as suspect (domain errors, kinks, overflow, points
where rounding alone moves the result), so every row's numbers are grad's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import BpcalcError, Source
from .graph import Graph
from .i18n import _
from .limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class BatchResult:
    """Values and gradients at every point, as NumPy arrays (one entry per
    point; a vector's or matrix's gradients with the points along the first
    axis). A point where the program is undefined has nan there and its
    message in `errors`; `warnings` holds the scalar engine's warnings of the
    points it computed (every point's, for vectors and matrices); `recomputed` marks those points, `ill_conditioned` the
    ones among them where a last-bit difference in one operation moves the
    result by more than 1e-11 (relative)."""

    program: str
    graph: Graph
    wrt: tuple[str, ...]
    value: Any
    gradient: dict[str, Any]
    recomputed: Any
    ill_conditioned: Any
    errors: dict[int, str]
    warnings: dict[int, tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.value)


def grad_batch(program: str | Source, points: Mapping[str, Any], *, wrt: Sequence[str] | None = None,
               origin: str = "<program>", limits: Limits = DEFAULT_LIMITS) -> BatchResult:
    """Value and gradient of a program at many points.

    `points` maps every input name to a 1-D array (or sequence) of numbers,
    one entry per point, all of the same length; `wrt` chooses the inputs
    whose gradient is reported (default: all). In a program with vectors
    and matrices, an input's points are along the first axis (N vectors of
    3 entries: an N×3 array), and so are its gradient's; each point goes
    through the tensor engine on its own, as `bpcalc grad` computes it.

    >>> r = grad_batch("x*y", {"x": [1.0, 2.0], "y": [3.0, 4.0]})
    >>> r.value.tolist(), r.gradient["x"].tolist()
    ([3.0, 8.0], [3.0, 4.0])
    """
    import numpy as np

    from .api import without_gc
    from .batch import ILL_CONDITIONED, scalar_row
    from .lang.lower import build
    from .point import resolve
    from .vector import evaluate

    source = program if isinstance(program, Source) else Source(program, origin)
    with without_gc():
        graph, _warnings = build(source, limits)
    chosen = resolve(graph, dict.fromkeys(points), wrt)
    if graph.uses_tensors:
        return _tensor_batch(source, graph, points, chosen, limits)
    cols = {}
    for name in graph.input_names:
        col = np.asarray(points[name], dtype=np.float64)
        if col.ndim != 1:
            raise BpcalcError("value", _("the points of {name} must be a 1-D array (one number per point)").format(
                name=name))
        cols[name] = col
    if len({len(c) for c in cols.values()}) > 1:
        raise BpcalcError("value", _("every input needs the same number of points"))
    batch = evaluate(graph, cols, chosen)
    value, gradient = batch.value, batch.gradient
    errors: dict[int, str] = {}
    warnings: dict[int, tuple[str, ...]] = {}
    names = graph.input_names
    for k in np.flatnonzero(batch.suspect).tolist():
        row = scalar_row(graph, k, {name: float(cols[name][k]) for name in names}, chosen)
        if row.error is not None:
            errors[k] = row.error
            value[k] = np.nan
            gradient[:, k] = np.nan
            continue
        value[k] = row.value
        gradient[:, k] = row.gradient
        notes = (*row.warnings, ILL_CONDITIONED) if batch.sensitive[k] else row.warnings
        if notes:
            warnings[k] = notes
    return BatchResult(source.text, graph, chosen, value, dict(zip(chosen, gradient)), batch.suspect,
                       batch.sensitive, errors, warnings)


def _tensor_batch(source: Source, graph: Graph, points: Mapping[str, Any], chosen: tuple[str, ...],
                  limits: Limits) -> BatchResult:
    """A program with vectors or matrices at many points: one point at a
    time through the tensor engine (`batch.tensor_rows`, the engine of
    `bpcalc batch --points`); a gradient is an array with the points along
    its first axis (None for class-index data), nan at a point in `errors`."""
    import numpy as np

    from .batch import tensor_rows

    cols = {name: np.asarray(points[name], dtype=np.float64) for name in graph.input_names}
    for name, col in cols.items():
        if col.ndim < 1:
            raise BpcalcError("value", _("the points of {name} must be an array with one entry per point along "
                                         "its first axis").format(name=name))
    counts = {len(c) for c in cols.values()}
    if len(counts) > 1:
        raise BpcalcError("value", _("every input needs the same number of points"))
    n = counts.pop() if counts else 0
    each = ((k, [cols[name][k] for name in graph.input_names], None) for k in range(n))
    rows = list(tensor_rows(graph, each, chosen, limits))
    value = np.array([np.nan if r.value is None else r.value for r in rows], dtype=np.float64)
    done = next((r for r in rows if r.error is None), None)
    gradient: dict[str, Any] = {}
    for j, name in enumerate(chosen):
        if done is None or done.gradient[j] is None:  # class indices: data, no gradient
            gradient[name] = None if done is not None else np.full((n, *np.shape(cols[name])[1:]), np.nan)
            continue
        stacked = np.full((n, *np.shape(done.gradient[j])), np.nan)
        for k, r in enumerate(rows):
            if r.error is None:
                stacked[k] = r.gradient[j]
        gradient[name] = stacked
    errors = {k: r.error for k, r in enumerate(rows) if r.error is not None}
    warnings = {k: r.warnings for k, r in enumerate(rows) if r.warnings}
    none = np.zeros(n, dtype=bool)
    return BatchResult(source.text, graph, chosen, value, gradient, none, none.copy(), errors, warnings)
