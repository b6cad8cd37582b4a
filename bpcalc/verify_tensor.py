"""The independent check for tensor programs: central finite differences.

For every input that has a gradient: each entry is nudged by ±h and ±h/2
(h = 1e-6 · max(1, |x|)), the output recomputed by a plain forward pass, and
the two central differences combined by Richardson extrapolation; the result
is compared with the engine's gradient at torch.autograd.gradcheck's
tolerances (atol 1e-5, rtol 1e-3). An input with more than `FD_MAX_ENTRIES`
entries is checked along `FD_DIRECTIONS` random directions v instead
(<gradient, v> against the difference quotient along v). Where the two step
sizes disagree beyond the tolerance (the function is too curved there for
differences to resolve) the entry is not judged; where the program passes a
kink (relu at 0, a tie in max) a disagreement is the convention's doing and
is reported as such. The forward passes are the engine's, but the
differences use no rule of any operation: they are independent of the
backward pass they judge.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import BpcalcError
from .graph import Graph
from .tensor import entry_text, forward
from .verify import FD_ATOL, FD_EPS, FD_MISMATCH, FD_OK, FD_RTOL, FINITE_DIFFERENCES, KINK, UNCHECKED

#: Inputs with at most this many entries are checked entry by entry.
FD_MAX_ENTRIES = 1000
#: Random directions for larger inputs (seeded: the same check every run).
FD_DIRECTIONS = 12


@dataclass(frozen=True)
class TensorInputCheck:
    """One input's verdict: the engine's gradient against finite differences,
    entry by entry (`fd` has the input's shape) or along random directions
    (`fd` is None; `directions` says how many)."""

    name: str
    shape: tuple[int, ...]
    engine: Any
    fd: Any | None
    status: str
    worst: tuple[int, ...] | None  # the entry that disagrees most (entry-by-entry checks)
    error: float  # largest |engine - finite difference| judged
    directions: int = 0
    unjudged: int = 0  # entries (or directions) the differences could not resolve

    @property
    def ok(self) -> bool:
        return self.status != FD_MISMATCH


@dataclass(frozen=True)
class TensorCheck:
    method: str
    inputs: tuple[TensorInputCheck, ...]
    notes: tuple[str, ...]
    rtol: float
    atol: float
    seconds: float
    tensor: bool = True  # tells it from the scalar programs' `verify.Check`

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.inputs)

    @property
    def ill_conditioned(self) -> tuple:
        return ()


def _output(graph: Graph, point: Mapping[str, Any]) -> float | None:
    try:
        values, _w = forward(graph, point)
    except BpcalcError:
        return None
    v = float(values[graph.output])
    return v if np.isfinite(v) else None


def _quotient(graph: Graph, point: dict[str, Any], name: str, direction: Any, h: float) -> float | None:
    base = point[name]
    up = _output(graph, {**point, name: base + h * direction})
    down = _output(graph, {**point, name: base - h * direction})
    if up is None or down is None:
        return None
    return (up - down) / (2 * h)


def _estimate(graph: Graph, point: dict[str, Any], name: str, direction: Any, h: float) -> float | None:
    """Richardson's combination of the steps h and h/2, or None where they
    disagree beyond the tolerance or a step leaves the domain."""
    d1 = _quotient(graph, point, name, direction, h)
    d2 = _quotient(graph, point, name, direction, h / 2)
    if d1 is None or d2 is None:
        return None
    if abs(d1 - d2) > FD_ATOL + FD_RTOL * abs(d2):
        return None
    return (4 * d2 - d1) / 3


def _close(engine: float, fd: float) -> bool:
    return abs(engine - fd) <= FD_ATOL + FD_RTOL * abs(fd)


def check_tensor(graph: Graph, point: Mapping[str, Any], gradient: Mapping[str, Any],
                 kinks: Sequence[str] = ()) -> TensorCheck:
    """Finite differences for every input in `gradient` that has one (class
    indices have none); `kinks` are the kink warnings of the computation."""
    started = time.perf_counter()
    base = {name: np.asarray(v, dtype=float) for name, v in point.items()}
    rng = np.random.default_rng(0)
    results: list[TensorInputCheck] = []
    notes: list[str] = []
    for name, g in gradient.items():
        if g is None:
            continue
        g = np.asarray(g, dtype=float)
        x = base[name]
        if x.size <= FD_MAX_ENTRIES:
            fd = np.full(x.shape, np.nan)
            for index in np.ndindex(x.shape):
                e = np.zeros(x.shape)
                e[index] = 1.0
                est = _estimate(graph, base, name, e, FD_EPS * max(1.0, abs(float(x[index]))))
                if est is not None:
                    fd[index] = est
            judged = ~np.isnan(fd)
            bad = judged & ~(np.abs(g - fd) <= FD_ATOL + FD_RTOL * np.abs(fd))
            err = np.where(judged, np.abs(g - fd), -1.0)
            worst = tuple(int(k) for k in np.unravel_index(int(np.argmax(err)), x.shape)) if x.ndim else ()
            unjudged = int((~judged).sum())
            status = _status(bool(bad.any()), bool(judged.any()), kinks)
            results.append(TensorInputCheck(name, x.shape, g, fd, status, worst,
                                            float(err.max()) if judged.any() else 0.0, 0, unjudged))
            if bad.any():
                k = tuple(int(i) for i in np.argwhere(bad)[0])
                notes.append(f"∂/∂{name}{entry_text(k) if k else ''}: engine {g[k]:.6g}, finite differences "
                             f"{fd[k]:.6g}" + (" (near a kink: the convention decides)" if kinks else ""))
        else:
            worst_err, bad_any, judged_any, unjudged = 0.0, False, False, 0
            h = FD_EPS * max(1.0, float(np.abs(x).max()))
            for _ in range(FD_DIRECTIONS):
                v = rng.standard_normal(x.shape)
                v /= np.linalg.norm(v)
                est = _estimate(graph, base, name, v, h)
                if est is None:
                    unjudged += 1
                    continue
                judged_any = True
                engine = float(np.sum(g * v))
                worst_err = max(worst_err, abs(engine - est))
                if not _close(engine, est):
                    bad_any = True
            status = _status(bad_any, judged_any, kinks)
            results.append(TensorInputCheck(name, x.shape, g, None, status, None, worst_err,
                                            FD_DIRECTIONS, unjudged))
            if bad_any:
                notes.append(f"∂/∂{name}: the gradient disagrees with finite differences along a random direction")
    if any(c.unjudged for c in results):
        notes.append("entries marked 'not judged': the two step sizes of the finite differences disagreed "
                     "(the function is too curved there) or a step left the domain")
    return TensorCheck(FINITE_DIFFERENCES, tuple(results), tuple(notes), FD_RTOL, FD_ATOL,
                       time.perf_counter() - started)


def _status(bad: bool, judged: bool, kinks: Sequence[str]) -> str:
    if bad:
        return KINK if kinks else FD_MISMATCH
    return FD_OK if judged else UNCHECKED
