"""The independent check: SymPy's derivative, and central finite differences.

SymPy: the output's expression is built from the Graph (see `symbolic`),
differentiated with respect to each input, evaluated at the exact point (the
numbers as the user wrote them) with 30 significant digits, and compared with
the engine: |engine - sympy| <= atol + rtol * |sympy|. All of it runs under a
time budget in a child process (see `budget`); when the budget runs out the
check says so and falls back to finite differences.

Finite differences, the third opinion: (f(x+h) - f(x-h)) / 2h with
h = 1e-6 * max(1, |x|), judged with torch.autograd.gradcheck's tolerances
(atol 1e-5, rtol 1e-3). They decide only when SymPy could not; otherwise a
disagreement is a warning.

Inputs whose gradient passes through a non-differentiable point ("kink") are
reported with the convention used, not as mismatches; where SymPy finds the
derivative undefined (zoo, nan, complex) and the engine has inf or nan, the
check says "undefined at this point".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .budget import run_with_budget
from .errors import BpcalcError, Diagnostic
from .graph import Graph
from .point import AtValue

DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 1e-12
DEFAULT_BUDGET = 10.0
FD_EPS = 1e-6
FD_RTOL = 1e-3
FD_ATOL = 1e-5
MAX_DERIVATIVE_TEXT = 4000
#: Finite differences cost two forward passes per input; skip them beyond this
#: many (inputs x nodes).
FD_MAX_WORK = 4_000_000

#: Statuses of one input's verdict.
OK, MISMATCH, UNDEFINED, KINK = "ok", "mismatch", "undefined", "kink"
FD_OK, FD_MISMATCH, UNCHECKED = "fd-ok", "fd-mismatch", "unchecked"


@dataclass(frozen=True)
class InputCheck:
    name: str
    engine: float
    derivative: str | None  # SymPy's derivative, as SymPy prints it
    symbolic: float | None  # its value at the point
    fd: float | None  # central finite difference
    status: str

    @property
    def ok(self) -> bool:
        return self.status not in (MISMATCH, FD_MISMATCH)


@dataclass(frozen=True)
class Check:
    method: str  # "sympy" or "finite differences"
    inputs: tuple[InputCheck, ...]
    notes: tuple[str, ...]
    rtol: float
    atol: float
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.inputs)


# --- SymPy, in the budgeted child -----------------------------------------


def _classify(sp: Any, value: Any) -> tuple[float | None, bool]:
    """(float value, defined?) of a SymPy number."""
    if value.has(sp.zoo, sp.nan, sp.I) or value.free_symbols:
        return None, False
    if value == sp.oo:
        return math.inf, True
    if value == -sp.oo:
        return -math.inf, True
    try:
        number = complex(value)
    except (TypeError, ValueError):
        return None, False
    if number.imag != 0:
        return None, False
    return number.real, True


def symbolic_gradients(graph: Graph, point: Mapping[str, AtValue], wrt: Sequence[str]) -> list[tuple]:
    """[(name, derivative text, value or None, defined?)] — runs in the child."""
    import sympy as sp

    from .symbolic import to_sympy

    exprs = to_sympy(sp, graph, needed=graph.reaches_output())
    out_expr = exprs[graph.output]
    subs = {}
    for i, name in zip(graph.inputs, graph.input_names):
        if exprs[i] is None:
            continue
        at = point[name]
        if at.graph is not None:
            exact = to_sympy(sp, at.graph)[at.graph.output]
        else:
            exact = sp.Float(at.value, 30)
        subs[exprs[i]] = exact
    results = []
    for name in wrt:
        i = graph.inputs[graph.input_names.index(name)]
        if exprs[i] is None:  # the input does not reach the output
            results.append((name, "0", 0.0, True))
            continue
        derivative = sp.diff(out_expr, exprs[i])
        text = sp.sstr(derivative)
        if len(text) > MAX_DERIVATIVE_TEXT:
            text = text[: MAX_DERIVATIVE_TEXT - 1] + "…"
        value = derivative.xreplace(subs).evalf(30)
        number, defined = _classify(sp, value)
        results.append((name, text, number, defined))
    return results


# --- finite differences -----------------------------------------------------


def finite_differences(graph: Graph, point: Mapping[str, AtValue], wrt: Sequence[str]) -> dict[str, float | None]:
    """Central differences of the output for each input (None if undefined nearby)."""
    from .engine import forward

    base = {name: at.value for name, at in point.items()}
    out: dict[str, float | None] = {}
    for name in wrt:
        x = base[name]
        h = FD_EPS * max(1.0, abs(x))
        try:
            up, _ = forward(graph, {**base, name: x + h})
            down, _ = forward(graph, {**base, name: x - h})
        except BpcalcError:
            out[name] = None
            continue
        d = (up[graph.output] - down[graph.output]) / (2 * h)
        out[name] = d if math.isfinite(d) else None
    return out


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


# --- the verdict ------------------------------------------------------------


def check(
    graph: Graph,
    point: Mapping[str, AtValue],
    gradient: Mapping[str, float],
    warnings: Sequence[Diagnostic],
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    budget: float = DEFAULT_BUDGET,
) -> Check:
    """Compare the engine's `gradient` (input -> d output / d input) with SymPy
    and finite differences at `point`."""
    start = time.monotonic()
    wrt = tuple(gradient)
    kinks = [d.node for d in warnings if d.kind == "kink" and d.node is not None]
    near_kink = graph.ancestors(kinks) if kinks else [False] * len(graph)
    notes: list[str] = []

    fd: dict[str, float | None] = {}
    if len(wrt) * len(graph) <= FD_MAX_WORK:
        fd = finite_differences(graph, point, wrt)
    else:
        notes.append(f"finite differences skipped ({len(wrt)} inputs x {len(graph)} nodes is too much work)")

    import sympy  # noqa: F401 - imported once here, so the forked child has it

    outcome = run_with_budget(symbolic_gradients, (graph, point, wrt), budget)
    inputs: list[InputCheck] = []
    if outcome.status == "ok":
        method = "sympy"
        for name, text, value, defined in outcome.value:
            engine = gradient[name]
            at_kink = near_kink[graph.inputs[graph.input_names.index(name)]]
            if not defined or (value is not None and math.isnan(value)):
                status = UNDEFINED if not math.isfinite(engine) or not defined else MISMATCH
                if at_kink:
                    status = KINK
            elif _close(engine, value, rtol, atol):
                status = OK
            else:
                status = KINK if at_kink else MISMATCH
            inputs.append(InputCheck(name, engine, text, value, fd.get(name), status))
            f = fd.get(name)
            if status == OK and f is not None and not at_kink and not _close(f, value, FD_RTOL, FD_ATOL):
                notes.append(
                    f"finite differences disagree for {name} ({f:.6g}); SymPy and the engine agree"
                )
    else:
        method = "finite differences"
        why = (
            f"SymPy ran out of its {budget:g} s budget"
            if outcome.status == "timeout"
            else f"SymPy could not check this program ({outcome.error})"
        )
        notes.append(f"{why}; checked with central finite differences instead")
        for name in wrt:
            engine = gradient[name]
            f = fd.get(name)
            at_kink = near_kink[graph.inputs[graph.input_names.index(name)]]
            if f is None or not math.isfinite(engine):
                status = UNCHECKED
            elif _close(engine, f, FD_RTOL, FD_ATOL):
                status = FD_OK
            else:
                status = KINK if at_kink else FD_MISMATCH
            inputs.append(InputCheck(name, engine, None, None, f, status))
    return Check(method, tuple(inputs), tuple(notes), rtol, atol, time.monotonic() - start)
