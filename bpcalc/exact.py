"""Exact mode: every node's value and gradient as an exact SymPy number.

The inputs are the numbers as written (`1.1` -> 11/10, `1/3`, `pi/4`, see
`symbolic.exact_input`); each node's value is its op's SymPy counterpart
applied to its arguments' exact values, and the backward pass is the engine's
loop (upstream x local partial, summed over a node's users) done with SymPy
numbers. So d price / d apple comes out as 11/5, not 2.2000000000000002, and
the sigmoid neuron's d/dw2 as exp(-1)/(exp(-1) + 1)**2.

Local partials are SymPy's derivative of the op's counterpart (from the op
table), taken once per op and evaluated at the exact arguments. At a
non-differentiable point (the op's `kink` test, on the exact arguments rounded
to doubles), and where SymPy's partial is undefined at the point but the
engine's is not (d(x^0)/dx at 0), exact mode uses the engine's convention
value, exactly: relu'(0) = 0, a max tie splits 1/2 : 1/2, sqrt'(0) = oo.

All SymPy work runs in a budgeted child process (`budget.run_with_budget`);
when the budget runs out or SymPy fails, the result says so (`ok` False,
`note`) and callers fall back to floats.
"""

from __future__ import annotations

import math
from fractions import Fraction
import time
from dataclasses import dataclass
from typing import Any, Mapping

from .budget import Outcome, run_with_budget
from .graph import CONST, INPUT, Graph
from .i18n import _, ngettext
from .ops import OPS
from .point import AtValue
from .limits import DEFAULT_BUDGET
from .symbolic import import_sympy

#: Exact forms longer than this many characters are not kept (None); their
#: decimal is still the exact value, correctly rounded.
MAX_EXACT_TEXT = 500


@dataclass(frozen=True)
class ExactResult:
    """Exact value and gradient of every node (indexed by node id).

    `values[i]` / `adjoints[i]`: SymPy's text for node i's value and for
    d output / d node i ("11/5"); `latex_values` / `latex_adjoints` the same in
    LaTeX. An adjoint is None for a node that does not depend on any input (as
    in `GradResult.adjoints`); any entry is None when its text would be longer
    than `MAX_EXACT_TEXT`, or everywhere when `ok` is False.
    `value_floats` / `adjoint_floats`: the exact numbers correctly rounded to
    doubles (nan where the exact value is undefined or not real).
    `partials[i]`: the exact local partial of node i with respect to each of
    its arguments (None for an argument that does not depend on an input),
    for the op nodes on the backward pass, else ().

    In a tensor program (`bpcalc.exact_tensor`) a vector or matrix node's
    text is nested lists of entry texts (None for an entry too long), its
    LaTeX one bmatrix, its floats a NumPy array; `partials` are all ().
    """

    ok: bool
    note: str
    values: tuple[Any, ...]  # str | None; nested lists of them for a vector or matrix
    adjoints: tuple[Any, ...]
    latex_values: tuple[str | None, ...]
    latex_adjoints: tuple[str | None, ...]
    value_floats: tuple[Any, ...]  # float | None; a NumPy array for a vector or matrix
    adjoint_floats: tuple[Any, ...]
    partials: tuple[tuple[str | None, ...], ...]
    latex_partials: tuple[tuple[str | None, ...], ...]
    seconds: float = 0.0

    @classmethod
    def failed(cls, n: int, note: str, seconds: float = 0.0) -> "ExactResult":
        none = (None,) * n
        return cls(False, note, none, none, none, none, none, none, ((),) * n, ((),) * n, seconds)


def exact_values(graph: Graph, point: Mapping[str, AtValue], budget: float = DEFAULT_BUDGET) -> ExactResult:
    """Exact values and adjoints of every node of `graph` at `point`, computed
    by SymPy within `budget` seconds (see the module docstring)."""
    from .engine import forward
    from .symbolic import huge_power

    start = time.monotonic()
    values, _warnings = forward(graph, {name: at.value for name, at in point.items()})
    if why := huge_power(graph, values):
        return ExactResult.failed(len(graph), floats_note(why))
    import_sympy()  # here, once, so the forked child has it (without the collector's scans)

    outcome = run_with_budget(_exact_in_child, (graph, point), budget)
    return from_outcome(outcome, len(graph), budget, time.monotonic() - start)


def from_outcome(outcome: Outcome, n: int, budget: float, seconds: float) -> ExactResult:
    """The ExactResult of a budgeted child's (note, *fields), or the failure
    saying why there is none (the values are floats)."""
    if outcome.status == "ok":
        return ExactResult(True, outcome.value[0], *outcome.value[1:], seconds=seconds)
    if outcome.status == "timeout":
        why = _("SymPy ran out of its {budget} s budget").format(budget=f"{budget:g}")
    else:
        why = _("SymPy could not compute it ({error})").format(error=outcome.error)
    return ExactResult.failed(n, floats_note(why), seconds)


def floats_note(why: str) -> str:
    """Exact mode's note when it has no exact values."""
    return _("exact mode: {why}; values are floats").format(why=why)


def too_long_note(count: int) -> str:
    """The note for exact forms too long to keep ('' for none)."""
    if not count:
        return ""
    return ngettext("{count} exact form is longer than {most} characters and is shown as a decimal only",
                    "{count} exact forms are longer than {most} characters and are shown as decimals only",
                    count).format(count=count, most=MAX_EXACT_TEXT)


# --- in the budgeted child --------------------------------------------------


def _exact_in_child(graph: Graph, point: Mapping[str, AtValue]) -> tuple:
    import sympy as sp

    from .symbolic import exact_point, to_sympy

    values = to_sympy(sp, graph, symbols=exact_point(sp, point))
    value_floats = [to_float(sp, v) for v in values]
    adjoints, partials = _backward(sp, graph, values, value_floats)
    texts = Texts(sp)
    partial_texts = tuple(tuple(texts.text(p) for p in ps) for ps in partials)
    partial_latex = tuple(tuple(texts.latex(p) for p in ps) for ps in partials)
    result = (
        tuple(map(texts.text, values)), tuple(map(texts.text, adjoints)),
        tuple(map(texts.latex, values)), tuple(map(texts.latex, adjoints)),
        tuple(value_floats), tuple(to_float(sp, a) if a is not None else None for a in adjoints),
        partial_texts, partial_latex,
    )
    return (too_long_note(texts.too_long), *result)


def _backward(sp: Any, graph: Graph, values: list[Any], floats: list[float | None]) -> tuple[list, list]:
    """Exact adjoints (None where the engine has none) and local partials."""
    n = len(graph)
    active, output = graph.active, graph.output
    live = graph.reaches_output()
    adjoints: list[Any] = [sp.Integer(0) if active[i] else None for i in range(n)]
    partials: list[tuple] = [()] * n
    if not active[output]:
        return adjoints, partials
    adjoints[output] = sp.Integer(1)
    rules = PartialRules(sp)
    for i in range(output, -1, -1):
        op = graph.ops[i]
        if not (active[i] and live[i]) or op in (INPUT, CONST):
            continue
        args = graph.args(i)
        local = rules.at(op, [values[j] for j in args], [floats[j] for j in args], floats[i])
        local = tuple(p if active[j] else None for j, p in zip(args, local))
        partials[i] = local
        upstream = adjoints[i]
        if upstream == 0:  # as the engine: nothing passes back (0 x oo is 0)
            continue
        for j, p in zip(args, local):
            if p is not None:
                adjoints[j] = adjoints[j] + upstream * p
    return adjoints, partials


class PartialRules:
    """SymPy's partial derivatives of each op's counterpart, taken once per op
    over placeholder symbols and evaluated at exact arguments."""

    def __init__(self, sp: Any) -> None:
        self.sp = sp
        self.placeholders: list[Any] = [sp.Dummy("a", real=True), sp.Dummy("b", real=True)]
        self.rules: dict[tuple[str, int], tuple[Any, ...]] = {}

    def rule(self, op: str, nargs: int) -> tuple[Any, ...]:
        rule = self.rules.get((op, nargs))
        if rule is None:
            sp, spec = self.sp, OPS[op]
            while len(self.placeholders) < nargs:  # max(a, b, c, …)
                self.placeholders.append(sp.Dummy(f"a{len(self.placeholders)}", real=True))
            placeholders = self.placeholders[:nargs]
            expr = spec.sympy(sp, *placeholders)
            # powsimp: a**b*b/a -> b*a**(b - 1), which is defined at a = 0
            rule = self.rules[(op, nargs)] = tuple(sp.powsimp(sp.diff(expr, s)) for s in placeholders)
        return rule

    def at(self, op: str, args: list[Any], floats: list[float | None], out: float | None) -> tuple[Any, ...]:
        spec = OPS[op]
        sp = self.sp
        numeric = None not in floats and out is not None and all(map(math.isfinite, floats))
        if numeric and spec.kink is not None and spec.kink(*floats):
            return tuple(from_float(sp, p) for p in spec.partials(*floats, out))
        rule = self.rule(op, len(args))  # first: it makes the placeholders of max(a, b, c)
        mapping = dict(zip(self.placeholders, args))
        exact = tuple(r.xreplace(mapping) for r in rule)
        if numeric and any(_undefined(sp, p) for p in exact):
            engine = spec.partials(*floats, out)
            exact = tuple(from_float(sp, q) if _undefined(sp, p) and not math.isnan(q) else p
                          for p, q in zip(exact, engine))
        return exact


def _undefined(sp: Any, value: Any) -> bool:
    return bool(value.has(sp.nan, sp.zoo))


def from_float(sp: Any, value: float) -> Any:
    """A convention value (0, 1, 1/2, 1/3 for a three-way tie, a slope of
    1/100, -1, inf, ...) as an exact SymPy number: the simple fraction the
    double stands for, when there is one."""
    if math.isnan(value):
        return sp.nan
    if math.isinf(value):
        return sp.oo if value > 0 else -sp.oo
    simple = Fraction(value).limit_denominator(1000)
    if float(simple) == value:
        return sp.Rational(simple.numerator, simple.denominator)
    return sp.Rational(value)


def to_float(sp: Any, value: Any) -> float:
    """An exact SymPy number correctly rounded to a double (nan if undefined
    or not real)."""
    if value.is_Rational:
        return float(value)
    if value == sp.oo:
        return math.inf
    if value == -sp.oo:
        return -math.inf
    if value.has(sp.nan, sp.zoo) or value.free_symbols:
        return math.nan
    try:
        number = complex(value.evalf(30))
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return number.real if number.imag == 0 else math.nan


class Texts:
    """Print exact numbers as text and LaTeX, dropping the over-long ones."""

    def __init__(self, sp: Any) -> None:
        self.sp = sp
        self.too_long = 0

    def text(self, value: Any) -> str | None:
        if value is None:
            return None
        text = self.sp.sstr(value)
        if len(text) > MAX_EXACT_TEXT:
            self.too_long += 1
            return None
        return text

    def latex(self, value: Any) -> str | None:
        if value is None:
            return None
        text = self.sp.latex(value)
        return text if len(text) <= MAX_EXACT_TEXT else None
