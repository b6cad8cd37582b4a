"""The independent check for tensor programs: SymPy entry by entry, and
central finite differences.

SymPy, where it is exact and affordable (at most `SYMPY_MAX_ENTRIES` input
entries with a gradient, `SYMPY_MAX_GRAPH_ENTRIES` entries in the whole
graph): every entry of every input becomes a SymPy symbol (`W[0, 1]`), the
graph is expanded entry by entry into scalar SymPy expressions with each
op's SymPy counterpart from the op table (NumPy object arrays of SymPy
scalars), the output is differentiated with respect to each symbol and
evaluated at the exact point (the numbers as written) with 30 digits, and
compared with the engine at the scalar check's tolerances (rtol 1e-9, atol
1e-12). It runs under the time budget in a child process, as the scalar
check; when it runs out, or the program is larger, finite differences decide.

Finite differences: for every input that has a gradient: each entry is nudged by ±h and ±h/2
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

import sys
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import BpcalcError
from .graph import CONST, INPUT, Graph
from .i18n import _
from .limits import DEFAULT_ATOL, DEFAULT_BUDGET, DEFAULT_RTOL
from .ops import OPS, TENSOR_OPS
from .tensor import dependents, entry_text, forward, node_value, node_vjp, recompute
from .verify import (
    DIFFERENCES_INSTEAD, FD_ATOL, FD_EPS, FD_MISMATCH, FD_OK, FD_RTOL, FINITE_DIFFERENCES, KINK, MISMATCH, OK, SYMPY,
    UNCHECKED, Check, _classify, _evaluate, sympy_gave_up,
)

#: SymPy checks programs with at most this many input entries that have a
#: gradient (one derivative each) ...
SYMPY_MAX_ENTRIES = 64
#: ... and at most this many entries in all nodes together (the size of the
#: expression it differentiates).
SYMPY_MAX_GRAPH_ENTRIES = 2000

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
    symbolic: Any | None = None  # SymPy's gradient, entry by entry (nan where undefined), when it ran

    @property
    def ok(self) -> bool:
        return self.status not in (FD_MISMATCH, MISMATCH)


@dataclass(frozen=True)
class TensorCheck(Check):
    """The verdict for a tensor program: `verify.Check` with one
    `TensorInputCheck` per input."""

    tensor: bool = True  # tells it from the scalar programs' `verify.Check`


class _Perturbed:
    """The output as a function of one input, the rest of the graph held at
    the point: each evaluation recomputes only the nodes below that input."""

    def __init__(self, graph: Graph, values: Sequence[Any], name: str) -> None:
        self.graph, self.values = graph, values
        self.node = graph.input_id(name)
        self.below = dependents(graph, self.node)
        self.base = values[self.node]

    def output(self, step: Any) -> float | None:
        v = float(recompute(self.graph, self.values, self.node, self.base + step, self.below))
        return v if np.isfinite(v) else None


class _OneOp:
    """<u, node i's op at its own arguments> as a function of argument k: the
    op alone, for the local check."""

    def __init__(self, graph: Graph, i: int, argv: Sequence[Any], k: int, u: Any) -> None:
        self.graph, self.i, self.argv, self.k, self.u = graph, i, list(argv), k, u

    def output(self, step: Any) -> float | None:
        args = list(self.argv)
        args[self.k] = self.argv[self.k] + step
        with np.errstate(all="ignore"):
            v = float(np.sum(self.u * node_value(self.graph, self.i, args)))
        return v if np.isfinite(v) else None


def local_check(graph: Graph, values: Sequence[Any], skip: Sequence[int] = ()) -> tuple[list[int], int]:
    """Each operation's vector-Jacobian product (the engine's rule, with a
    random upstream u) against finite differences of that operation alone at
    its own arguments, along a random direction. Returns the nodes whose rule
    disagrees and how many products were judged. Nodes in `skip` (at a kink)
    are left out."""
    rng = np.random.default_rng(1)
    bad: list[int] = []
    judged = 0
    for i in range(graph.output + 1):
        if not graph.active[i] or not graph.args(i) or i in skip:
            continue
        argv = [values[j] for j in graph.args(i)]
        u = rng.standard_normal(np.shape(values[i]))
        with np.errstate(all="ignore"):
            cots = node_vjp(graph, i, u, argv, values[i])
        for k, (j, c) in enumerate(zip(graph.args(i), cots)):
            if c is None or not graph.active[j]:
                continue
            v = rng.standard_normal(np.shape(argv[k]))
            engine = float(np.sum(c * v))
            scale = float(np.max(np.abs(argv[k]))) if np.size(argv[k]) else 1.0
            est = _estimate(_OneOp(graph, i, argv, k, u), v, FD_EPS * max(1.0, scale), engine)  # type: ignore[arg-type]
            if est is None:
                continue
            judged += 1
            if not _close(engine, est):
                bad.append(i)
                break
    return bad, judged


def _with_local_check(graph: Graph, point: Mapping[str, Any], found: TensorCheck,
                      skip: Sequence[int]) -> TensorCheck:
    """`found` (a finite-difference check) with the local check's verdict:
    an operation whose rule disagrees makes a mismatch of every input below it."""
    try:
        values, _w = forward(graph, {n: np.asarray(v, dtype=float) for n, v in point.items()})
    except BpcalcError:  # the engine has run at this point already: it cannot fail here
        return found
    bad, judged = local_check(graph, values, skip)
    notes = [_("local check: {judged} vector-Jacobian products of single operations agree with finite "
               "differences of the operation alone at its own arguments").format(judged=judged) if not bad else
             _("local check: the rule of {node} disagrees with finite differences of that operation alone at its "
               "own arguments").format(node=graph.describe(bad[0]))]
    inputs = found.inputs
    if bad:
        below = graph.ancestors(bad)
        inputs = tuple(replace(c, status=MISMATCH) if below[graph.input_id(c.name)] else c for c in inputs)
    return replace(found, inputs=inputs, notes=(*found.notes, *notes))


def _quotient(f: _Perturbed, direction: Any, h: float) -> float | None:
    up = f.output(h * direction)
    down = f.output(-h * direction)
    if up is None or down is None:
        return None
    return (up - down) / (2 * h)


def _estimate(f: _Perturbed, direction: Any, h: float, engine: float) -> float | None:
    """The central difference with step h where it agrees with `engine`
    (gradcheck's test); else Richardson's combination of the steps h and h/2,
    or None where those two disagree beyond the tolerance or a step leaves
    the domain."""
    d1 = _quotient(f, direction, h)
    if d1 is not None and _close(engine, d1):
        return d1
    d2 = _quotient(f, direction, h / 2)
    if d1 is None or d2 is None:
        return None
    if abs(d1 - d2) > FD_ATOL + FD_RTOL * abs(d2):
        return None
    return (4 * d2 - d1) / 3


def _close(engine: float, fd: float) -> bool:
    return abs(engine - fd) <= FD_ATOL + FD_RTOL * abs(fd)


def entry_symbols(sp: Any, name: str, shape: tuple[int, ...]) -> Any:
    """An object array of real SymPy symbols, one per entry: W[0, 1], ...
    (the input's own name for a number): the names the check, the exact
    values and the derivative formulas share."""
    syms = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        syms[index] = sp.Symbol(f"{name}{entry_text(index) if index else ''}", real=True)
    return syms


def exact_array(sp: Any, x: Any) -> Any:
    """A NumPy array of doubles as an object array of exact SymPy Rationals,
    each entry the shortest decimal of its double (0.1 -> 1/10); a 0-d
    object array for a number."""
    def exact(v: float) -> Any:
        frac = Fraction(repr(float(v)))
        return sp.Rational(frac.numerator, frac.denominator)

    x = np.asarray(x, dtype=float)
    return np.vectorize(exact, otypes=[object])(x) if x.ndim else np.array(exact(x), dtype=object)


def sympy_arrays(sp: Any, graph: Graph, inputs: Mapping[str, Any]) -> list[Any]:
    """Every node of `graph` expanded entry by entry: a NumPy object array of
    SymPy scalars (0-d for a number), from `inputs` (name -> object array of
    symbols or exact numbers), the literals exactly, and each op's SymPy
    counterpart from the op table."""
    from .symbolic import exact_literal

    exprs: list[Any] = [None] * len(graph)
    for i, name in zip(graph.inputs, graph.input_names):
        exprs[i] = inputs[name]
    for i, (v, literal) in graph.consts.items():
        exprs[i] = np.array(exact_literal(sp, literal), dtype=object) if isinstance(v, float) else (
            exact_array(sp, v))
    for i, op in enumerate(graph.ops):
        if op == INPUT or op == CONST:
            continue
        args = [exprs[j] for j in graph.args(i)]
        if op in TENSOR_OPS:
            exprs[i] = np.asarray(TENSOR_OPS[op].sympy(sp, np, *args, **dict(graph.params.get(i, ()))), dtype=object)
        else:
            rule = OPS[op].sympy
            exprs[i] = np.asarray(np.vectorize(lambda *a, _r=rule: _r(sp, *a), otypes=[object])(*args), dtype=object)
    return exprs


def sympy_tensor_gradients(graph: Graph, point: Mapping[str, Any], wrt: Sequence[str]) -> dict[str, Any]:
    """input name -> SymPy's gradient as an array of floats (nan where it is
    undefined at the point) — runs in the budgeted child."""
    import sympy as sp

    symbols: dict[str, Any] = {}
    subs: dict[Any, Any] = {}
    inputs: dict[str, Any] = {}
    for name in graph.input_names:
        x = np.asarray(point[name], dtype=float)
        if name in wrt:
            exact = exact_array(sp, x)
            syms = entry_symbols(sp, name, x.shape)
            for index in np.ndindex(x.shape):
                subs[syms[index]] = exact[index]
            symbols[name] = syms
            inputs[name] = syms
        else:
            inputs[name] = exact_array(sp, x)
    exprs = sympy_arrays(sp, graph, inputs)
    out = exprs[graph.output].item() if exprs[graph.output].ndim == 0 else exprs[graph.output]
    found: dict[str, Any] = {}
    for name in wrt:
        syms = symbols[name]
        values = np.full(syms.shape, np.nan)
        for index in np.ndindex(syms.shape):
            value, defined = _classify(sp, _evaluate(sp, sp.diff(out, syms[index]).xreplace(subs)))
            if defined and value is not None:
                values[index] = value
        found[name] = values
    return found


def sympy_limits(graph: Graph, point: Mapping[str, Any], wrt: Sequence[str]) -> str:
    """'' when SymPy may work entry by entry (the check, exact mode, the
    derivative), else why not."""
    entries = sum(int(np.size(point[n])) for n in wrt)
    if entries > SYMPY_MAX_ENTRIES:
        return _("the inputs have {entries} entries (SymPy works on at most {most})").format(
            entries=entries, most=SYMPY_MAX_ENTRIES)
    from .tensor import shapes

    total = sum(int(np.prod(s)) for s in shapes(graph, point, sys.maxsize, need_scalar=False)[0])
    if total > SYMPY_MAX_GRAPH_ENTRIES:
        return _("the program's nodes hold {entries} entries (SymPy expands at most {most})").format(
            entries=total, most=SYMPY_MAX_GRAPH_ENTRIES)
    return ""


def check_tensor(graph: Graph, point: Mapping[str, Any], gradient: Mapping[str, Any],
                 kinks: Sequence[str] = (), *, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
                 budget: float = DEFAULT_BUDGET, kink_nodes: Sequence[int] = ()) -> TensorCheck:
    """SymPy entry by entry where affordable; else finite differences of the
    whole output and the local check of each operation; for every input in
    `gradient` (class indices have none). `kinks` are the kink warnings of the
    computation, `kink_nodes` the nodes they are about."""
    started = time.perf_counter()
    wrt = [name for name, g in gradient.items() if g is not None]
    why_not = sympy_limits(graph, point, wrt)  # the engine's shape pass has run: this cannot fail
    if why_not or budget <= 0:
        fd_check = _finite_difference_check(graph, point, gradient, kinks)
        note = (_("checked without SymPy: {why}").format(why=why_not) if why_not else
                _("checked without SymPy: the SymPy budget is 0"))
        found = TensorCheck(FINITE_DIFFERENCES, fd_check.inputs, (note, *fd_check.notes), FD_RTOL, FD_ATOL, 0.0)
        return replace(_with_local_check(graph, point, found, kink_nodes), seconds=time.perf_counter() - started)
    from .budget import run_with_budget

    fd_box: list[TensorCheck] = []
    outcome = run_with_budget(sympy_tensor_gradients, (graph, point, tuple(wrt)), budget,
                              meanwhile=lambda: fd_box.append(_finite_difference_check(graph, point, gradient, kinks)))
    fd_check = fd_box[0] if fd_box else _finite_difference_check(graph, point, gradient, kinks)
    if outcome.status != "ok":
        note = sympy_gave_up(outcome, budget, DIFFERENCES_INSTEAD)
        found = TensorCheck(FINITE_DIFFERENCES, fd_check.inputs, (note, *fd_check.notes), FD_RTOL, FD_ATOL, 0.0)
        return replace(_with_local_check(graph, point, found, kink_nodes), seconds=time.perf_counter() - started)
    inputs: list[TensorInputCheck] = []
    notes: list[str] = []
    for c in fd_check.inputs:
        exact = outcome.value[c.name]
        engine = np.asarray(c.engine, dtype=float)
        defined = ~np.isnan(exact)
        with np.errstate(invalid="ignore"):  # inf - inf: equal infinities agree
            same = engine == exact
            close = same | (np.abs(engine - exact) <= atol + rtol * np.abs(exact))
            err = np.where(defined & ~same, np.abs(engine - exact), np.where(defined, 0.0, -1.0))
        bad = defined & ~close
        worst = tuple(int(k) for k in np.unravel_index(int(np.argmax(err)), engine.shape)) if engine.ndim else ()
        if bad.any():
            status = KINK if kinks else MISMATCH
            k = tuple(int(i) for i in np.argwhere(bad)[0])
            notes.append(_entry_mismatch(f"∂/∂{c.name}{entry_text(k) if k else ''}", f"{engine[k]:.10g}",
                                         f"{exact[k]:.10g}", bool(kinks), sympy=True))
        elif not defined.all():
            status = KINK if kinks else UNCHECKED
        else:
            status = OK
            if c.status == FD_MISMATCH:
                notes.append(_("{partial}: finite differences disagree, SymPy agrees (a curved or badly scaled "
                               "function: differences are the weaker opinion)").format(partial=f"∂/∂{c.name}"))
        inputs.append(TensorInputCheck(c.name, c.shape, c.engine, c.fd, status, worst,
                                       float(err.max()) if defined.any() else 0.0, c.directions, c.unjudged,
                                       exact))
    return TensorCheck(SYMPY, tuple(inputs), tuple(notes), rtol, atol, time.perf_counter() - started)


def _finite_difference_check(graph: Graph, point: Mapping[str, Any], gradient: Mapping[str, Any],
                             kinks: Sequence[str] = ()) -> TensorCheck:
    """Finite differences for every input in `gradient` that has one."""
    started = time.perf_counter()
    base = {name: np.asarray(v, dtype=float) for name, v in point.items()}
    try:
        values, _w = forward(graph, base)
    except BpcalcError:  # the engine has run at this point already: it cannot fail here
        values = None
    rng = np.random.default_rng(0)
    results: list[TensorInputCheck] = []
    notes: list[str] = []
    for name, g in gradient.items():
        if g is None:
            continue
        g = np.asarray(g, dtype=float)
        x = base[name]
        f = _Perturbed(graph, values, name)  # type: ignore[arg-type]
        if x.size <= FD_MAX_ENTRIES:
            fd = np.full(x.shape, np.nan)
            for index in np.ndindex(x.shape):
                e = np.zeros(x.shape)
                e[index] = 1.0
                est = _estimate(f, e, FD_EPS * max(1.0, abs(float(x[index]))), float(g[index]))
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
                notes.append(_entry_mismatch(f"∂/∂{name}{entry_text(k) if k else ''}", f"{g[k]:.6g}",
                                             f"{fd[k]:.6g}", bool(kinks), sympy=False))
        else:
            worst_err, bad_any, judged_any, unjudged = 0.0, False, False, 0
            h = FD_EPS * max(1.0, float(np.abs(x).max()))
            for _direction in range(FD_DIRECTIONS):
                v = rng.standard_normal(x.shape)
                v /= np.linalg.norm(v)
                engine = float(np.sum(g * v))
                est = _estimate(f, v, h, engine)
                if est is None:
                    unjudged += 1
                    continue
                judged_any = True
                worst_err = max(worst_err, abs(engine - est))
                if not _close(engine, est):
                    bad_any = True
            status = _status(bad_any, judged_any, kinks)
            results.append(TensorInputCheck(name, x.shape, g, None, status, None, worst_err,
                                            FD_DIRECTIONS, unjudged))
            if bad_any:
                notes.append(_("{partial}: the gradient disagrees with finite differences along a random "
                               "direction").format(partial=f"∂/∂{name}"))
    if any(c.unjudged for c in results):
        notes.append(_("entries marked 'not judged': the two step sizes of the finite differences disagreed "
                       "(the function is too curved there) or a step left the domain"))
    return TensorCheck(FINITE_DIFFERENCES, tuple(results), tuple(notes), FD_RTOL, FD_ATOL,
                       time.perf_counter() - started)


def _entry_mismatch(partial: str, engine: str, other: str, kink: bool, sympy: bool) -> str:
    """The note on the first entry where the engine and SymPy (or finite
    differences) disagree."""
    if sympy:
        message = (_("{partial}: engine {engine}, SymPy {other} (near a kink: the convention decides)") if kink
                   else _("{partial}: engine {engine}, SymPy {other}"))
    else:
        message = (_("{partial}: engine {engine}, finite differences {other} (near a kink: the convention "
                     "decides)") if kink else _("{partial}: engine {engine}, finite differences {other}"))
    return message.format(partial=partial, engine=engine, other=other)


def _status(bad: bool, judged: bool, kinks: Sequence[str]) -> str:
    if bad:
        return KINK if kinks else FD_MISMATCH
    return FD_OK if judged else UNCHECKED
