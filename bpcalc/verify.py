"""The independent check: SymPy's derivative, and central finite differences.

SymPy: the output's expression is built from the Graph (see `symbolic`),
differentiated with respect to each input, evaluated at the exact point (the
numbers as the user wrote them) with 30 significant digits, and compared with
the engine: |engine - sympy| <= atol + rtol * |sympy|. All of it runs under a
time budget in a child process (see `budget`); when the budget runs out the
check says so and falls back to finite differences.

Finite differences, the third opinion: (f(x+h) - f(x-h)) / 2h with
h = 1e-6 * max(1, |x|) and h/2, combined by Richardson extrapolation, judged
with torch.autograd.gradcheck's tolerances (atol 1e-5, rtol 1e-3); where the
two steps disagree beyond that tolerance (a function too curved or too large
for differences to resolve) they abstain rather than accuse. They decide only when SymPy could not; otherwise a
disagreement is a warning.

Large programs (more than `WHOLE_MAX_NODES` nodes), and small ones whose
whole-expression check runs out of budget, get the local check instead, which
costs O(n) and is still independent of the engine's rule code: SymPy
differentiates each kind of operation once (sin -> cos(a), ...), that
derivative is evaluated at every node's own arguments and compared with the
partials the engine used; then central finite differences of the whole output
(with the vectorized engine, all inputs at once) check how the engine chained
them together. `Check.method` says which check it was: "sympy", "local" or
"finite differences".

Inputs whose gradient passes through a non-differentiable point ("kink") are
reported with the convention used, not as mismatches; where SymPy finds the
derivative undefined (zoo, nan, complex) and the engine has inf or nan, the
check says "undefined at this point".
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

from .errors import BpcalcError, Diagnostic
from .graph import Graph
from .i18n import N_, _
from .limits import DEFAULT_ATOL, DEFAULT_BUDGET, DEFAULT_RTOL
from .ops import OPS
from .point import AtValue

FD_EPS = 1e-6
FD_RTOL = 1e-3
FD_ATOL = 1e-5
MAX_DERIVATIVE_TEXT = 4000
#: Finite differences cost two forward passes per input; skip them beyond this
#: many (inputs x nodes).
FD_MAX_WORK = 4_000_000

#: Programs with more nodes than this, or whose output written out as one
#: expression tree (a reused node counted at every use) has more than
#: WHOLE_MAX_TREE operations, get the local check: differentiating the whole
#: expression grows with the written-out size, not with the graph (measured,
#: see benchmarks/: 1.5 s for a 200-node network whose tree has 3 700
#: operations; a 47-node chain `a = a*b + sin(a)` has a tree of 160 000 and
#: SymPy does not finish in 5 s).
WHOLE_MAX_NODES = 200
WHOLE_MAX_TREE = 5000
#: The local check evaluates SymPy's derivative exactly (30 digits) where the
#: floating-point evaluation overflows or is undefined; at most this many times.
LOCAL_MAX_EXACT = 200
#: Mismatching nodes named in the notes.
LOCAL_MAX_NAMED = 5

#: Methods.
SYMPY, LOCAL, FINITE_DIFFERENCES = "sympy", "local", "finite differences"

#: Statuses of one input's verdict.
OK, MISMATCH, UNDEFINED, KINK = "ok", "mismatch", "undefined", "kink"
FD_OK, FD_MISMATCH, UNCHECKED = "fd-ok", "fd-mismatch", "unchecked"
#: SymPy's exact value differs beyond the tolerance, but every operation and
#: the chain rule agree at the engine's own values: last-bit rounding
#: (relative difference below ILL_CONDITIONED_FROM) ...
ROUNDING = "rounding"
#: ... or an ill-conditioned point, where the engine's gradient is right for
#: the doubles it computed with and still far from the exact value (not a
#: mismatch of the engine's rules, but a number the user must not trust: the
#: result also carries a warning).
ILL_CONDITIONED = "ill-conditioned"
ILL_CONDITIONED_FROM = 1e-12
#: Local check: every local partial on the way agrees with SymPy, but finite
#: differences were not available (undefined or too much work) to confirm the sum.
LOCAL_OK = "local-ok"
#: The statuses that confirm a gradient; the others (a kink, undefined, not
#: checked, ill-conditioned, a mismatch) do not.
VERIFIED = frozenset({OK, FD_OK, LOCAL_OK, ROUNDING})


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
    method: str  # SYMPY, LOCAL or FINITE_DIFFERENCES
    inputs: tuple[InputCheck, ...]
    notes: tuple[str, ...]
    rtol: float
    atol: float
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.inputs)

    @property
    def verified(self) -> bool:
        """Every input's gradient was confirmed (not only: none disagrees)."""
        return all(c.status in VERIFIED for c in self.inputs)

    @property
    def ill_conditioned(self) -> tuple[InputCheck, ...]:
        """The inputs whose gradient is right by the engine's rules but far
        from exact (not a mismatch; the user is warned)."""
        return tuple(c for c in self.inputs if c.status == ILL_CONDITIONED)


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


def _evaluate(sp: Any, value: Any) -> Any:
    """value.evalf(30), also where SymPy leaves a function of an exact number
    unevaluated because it cannot decide its sign (Heaviside(3/(100 +
    100*tan(sin(1/100))**2)), the slope of relu): such arguments are evaluated
    to 30 digits first, innermost first."""
    value = value.evalf(30)
    for _round in range(8):  # nested ones (Heaviside of a Max) need more than one round
        unevaluated = value.atoms(sp.Heaviside, sp.sign, sp.Max, sp.Min, sp.Abs)
        if not unevaluated:
            break
        value = value.xreplace({f: f.func(*[a.evalf(30) for a in f.args]) for f in unevaluated}).evalf(30)
    return value


def symbolic_gradients(graph: Graph, point: Mapping[str, AtValue], wrt: Sequence[str]) -> list[tuple]:
    """[(name, derivative text, value or None, defined?)] — runs in the child."""
    from .symbolic import import_sympy, to_sympy

    sp = import_sympy()

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
        value = _evaluate(sp, derivative.xreplace(subs))
        number, defined = _classify(sp, value)
        results.append((name, text, number, defined))
    return results


# --- finite differences -----------------------------------------------------


def finite_differences(graph: Graph, point: Mapping[str, AtValue], wrt: Sequence[str]) -> dict[str, float | None]:
    """Central differences of the output for each input (None where they
    cannot tell: undefined nearby, or see `_estimate`)."""
    from .engine import forward

    base = {name: at.value for name, at in point.items()}
    out: dict[str, float | None] = {}
    for name in wrt:
        xs = _offsets(base[name])
        try:
            fs = [forward(graph, {**base, name: x})[0][graph.output] for x in xs]
        except BpcalcError:
            out[name] = None
            continue
        out[name] = _estimate(fs, xs)
    return out


def _offsets(x: float) -> list[float]:
    """x + h, x - h, x + h/2, x - h/2 with h = FD_EPS * max(1, |x|)."""
    h = FD_EPS * max(1.0, abs(x))
    return [x + h, x - h, x + h / 2, x - h / 2]


def _estimate(fs: Sequence[float], xs: Sequence[float]) -> float | None:
    """The derivative from central differences at steps h and h/2 (Richardson:
    (4 d(h/2) - d(h)) / 3), or None when the two disagree by more than the
    finite-difference tolerance: the function is too curved there, or too
    noisy, for a difference to judge anything at that tolerance."""
    d1 = _difference_quotient(fs[0], fs[1], xs[0] - xs[1])
    d2 = _difference_quotient(fs[2], fs[3], xs[2] - xs[3])
    if d1 is None or d2 is None or abs(d1 - d2) > FD_ATOL + FD_RTOL * max(abs(d1), abs(d2)):
        return None
    return (4 * d2 - d1) / 3


#: Rounding error of one evaluation of the output, in units of its size: a
#: generous bound for the long chains of operations a graph evaluates.
FD_ROUNDING = 64 * 2.2e-16


def _difference_quotient(up: float, down: float, step: float) -> float | None:
    """(up - down) / step, or None where it cannot tell anything: not finite,
    or the rounding error of up and down, magnified by 1/step, is larger than
    the tolerance it would be judged with (a huge output, a tiny gradient)."""
    if not (math.isfinite(up) and math.isfinite(down)):
        return None
    d = (up - down) / step
    noise = FD_ROUNDING * max(abs(up), abs(down)) / step
    if not math.isfinite(d) or noise > FD_ATOL + FD_RTOL * abs(d):
        return None
    return d


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
    and finite differences at `point`: the whole expression for programs of at
    most WHOLE_MAX_NODES nodes, else (or when that runs out of budget) the
    local check. A budget of 0 means finite differences only."""
    start = time.monotonic()
    wrt = tuple(gradient)
    kinks = [d.node for d in warnings if d.kind == "kink" and d.node is not None]
    near_kink = graph.ancestors(kinks) if kinks else [False] * len(graph)
    notes: list[str] = []

    too_big = _too_big_for_sympy(graph) or _overflows(graph, point)
    if too_big:
        notes.append(_("checked operation by operation (the local check): {why}").format(why=too_big))
        inputs = _local_check(graph, point, gradient, kinks, near_kink, notes, rtol, atol)
        return Check(LOCAL, tuple(inputs), tuple(notes), rtol, atol, time.monotonic() - start)

    fd: dict[str, float | None] = {}

    def differences() -> None:
        """Finite differences, and whatever else waits for the child's time."""
        if len(wrt) * len(graph) <= FD_MAX_WORK:
            fd.update(finite_differences(graph, point, wrt))
        else:
            notes.append(fd_skipped(len(wrt), len(graph)))
        for work in WHILE_CHECKING:
            work()

    if IMPORT_SYMPY_FIRST:
        from .symbolic import import_sympy

        import_sympy()  # imported once here, so every forked child has it

    if _RUNNERS:
        differences()
        outcome = _RUNNERS[-1](symbolic_gradients, (graph, point, wrt), budget)
    else:
        from .budget import run_with_budget

        outcome = run_with_budget(symbolic_gradients, (graph, point, wrt), budget, meanwhile=differences)
    if outcome.status == "ok":
        inputs = _judge_symbolic(graph, gradient, outcome.value, fd, near_kink, notes, rtol, atol)
        if any(c.status == MISMATCH for c in inputs):
            inputs = _explain_mismatches(graph, point, gradient, kinks, near_kink, inputs, notes, rtol, atol)
        return Check(SYMPY, tuple(inputs), tuple(notes), rtol, atol, time.monotonic() - start)
    if budget <= 0:
        notes.append(sympy_gave_up(outcome, budget, CENTRAL_DIFFERENCES_INSTEAD))
        inputs = [_judge_fd(graph, name, gradient[name], fd.get(name), near_kink, None) for name in wrt]
        return Check(FINITE_DIFFERENCES, tuple(inputs), tuple(notes), rtol, atol, time.monotonic() - start)
    notes.append(sympy_gave_up(outcome, budget, LOCAL_CHECK_INSTEAD))
    inputs = _local_check(graph, point, gradient, kinks, near_kink, notes, rtol, atol)
    return Check(LOCAL, tuple(inputs), tuple(notes), rtol, atol, time.monotonic() - start)


#: What the check did when SymPy gave up (the key of `sympy_gave_up`).
CENTRAL_DIFFERENCES_INSTEAD, LOCAL_CHECK_INSTEAD, DIFFERENCES_INSTEAD = "central", "local", "differences"
#: (timed out?, what was done instead) -> the note; one whole sentence each.
_GAVE_UP = {
    (True, CENTRAL_DIFFERENCES_INSTEAD): N_("SymPy ran out of its {budget} s budget; checked with central finite "
                                            "differences instead"),
    (False, CENTRAL_DIFFERENCES_INSTEAD): N_("SymPy could not check this program ({error}); checked with central "
                                             "finite differences instead"),
    (True, LOCAL_CHECK_INSTEAD): N_("SymPy ran out of its {budget} s budget on the whole expression; checked "
                                    "operation by operation instead (the local check)"),
    (False, LOCAL_CHECK_INSTEAD): N_("SymPy could not check this program ({error}) on the whole expression; "
                                     "checked operation by operation instead (the local check)"),
    (True, DIFFERENCES_INSTEAD): N_("SymPy ran out of its {budget} s budget; checked with finite differences"),
    (False, DIFFERENCES_INSTEAD): N_("SymPy could not check this program ({error}); checked with finite "
                                     "differences"),
}


def sympy_gave_up(outcome: Any, budget: float, instead: str) -> str:
    """The note saying that SymPy did not finish (`outcome`: a
    `budget.Outcome` that is not "ok") and what was done `instead`."""
    message = _(_GAVE_UP[outcome.status == "timeout", instead])
    return message.format(budget=f"{budget:g}", error=outcome.error)


def fd_skipped(inputs: int, nodes: int) -> str:
    return _("finite differences skipped ({inputs} inputs x {nodes} nodes is too much work)").format(
        inputs=inputs, nodes=f"{nodes:,}")


def _overflows(graph: Graph, point: Mapping[str, AtValue]) -> str:
    """Why SymPy should not evaluate the whole expression exactly: a value on
    the way to the output is not finite in doubles (9^9^9^9: exactly, a number
    with 370 million digits), or a power's exponent is too large to be
    evaluated exactly (`symbolic.huge_power`).
    '' when neither."""
    from .engine import forward
    from .symbolic import huge_power

    values, _warnings = forward(graph, {name: at.value for name, at in point.items()})
    live = graph.reaches_output()
    for i, v in enumerate(values):
        if live[i] and not math.isfinite(v):
            return _("{node} is {value} in double precision, and evaluating it exactly could take unbounded "
                     "time and memory").format(node=graph.describe(i), value=v)
    return huge_power(graph, values, live)


def tree_size(graph: Graph, cap: int) -> int:
    """Operations in the output's expression written out as a tree (every
    use of a node counts its whole subtree), or cap + 1 if more."""
    size = [1] * len(graph)
    arg0, arg1, more = graph.arg0, graph.arg1, graph.more
    for i in range(graph.output + 1):
        a = arg0[i]
        if a >= 0:
            b = arg1[i]
            size[i] = min(cap + 1, 1 + size[a] + (size[b] if b >= 0 else 0))
            if more and i in more:
                size[i] = min(cap + 1, size[i] + sum(size[c] for c in more[i]))
    return size[graph.output]


def _too_big_for_sympy(graph: Graph) -> str:
    """Why the whole-expression check is not even tried, or ''."""
    if len(graph) > WHOLE_MAX_NODES:
        return _("the program has {nodes} nodes (SymPy differentiates whole programs of up to {most})").format(
            nodes=f"{len(graph):,}", most=f"{WHOLE_MAX_NODES:,}")
    if tree_size(graph, WHOLE_MAX_TREE) > WHOLE_MAX_TREE:
        return _("written out as one expression the output has more than {most} operations (its nodes are "
                 "reused), too many for SymPy to differentiate as a whole").format(most=f"{WHOLE_MAX_TREE:,}")
    return ""


#: Whether this process imports SymPy before forking the check's child: right
#: for a process that checks many times (every child starts with SymPy
#: loaded). The command line checks once, so it turns this off: SymPy then
#: loads in the child while this process goes on with `WHILE_CHECKING` work
#: (finite differences, loading the modules that print the result) on the
#: machine's other core.
IMPORT_SYMPY_FIRST = True
#: Work to do in this process while the check's child computes.
WHILE_CHECKING: list[Callable[[], None]] = []

#: Who runs the SymPy step under its budget: `budget.run_with_budget` (a fresh
#: forked child per check) unless a caller that checks many programs installs
#: a long-lived one with `budget_runner` (`bpcalc.batch` does).
_RUNNERS: list[Callable[[Callable[..., Any], tuple, float], Any]] = []


@contextmanager
def budget_runner(runner: Callable[[Callable[..., Any], tuple, float], Any]) -> Iterator[None]:
    """Within this block, checks run their SymPy step with `runner(fn, args,
    seconds) -> budget.Outcome`."""
    _RUNNERS.append(runner)
    try:
        yield
    finally:
        _RUNNERS.remove(runner)


def _judge_symbolic(graph: Graph, gradient: Mapping[str, float], results: list[tuple],
                    fd: Mapping[str, float | None], near_kink: list[bool], notes: list[str],
                    rtol: float, atol: float) -> list[InputCheck]:
    inputs: list[InputCheck] = []
    for name, text, value, defined in results:
        engine = gradient[name]
        at_kink = near_kink[graph.input_id(name)]
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
            notes.append(_("finite differences disagree for {name} ({difference}); SymPy and the engine "
                           "agree").format(name=name, difference=f"{f:.6g}"))
    return inputs


def _explain_mismatches(graph: Graph, point: Mapping[str, AtValue], gradient: Mapping[str, float],
                        kinks: list[int], near_kink: list[bool], inputs: list[InputCheck],
                        notes: list[str], rtol: float, atol: float) -> list[InputCheck]:
    """A gradient that differs from SymPy's exact value may still be right for
    the doubles the engine computed with: at an ill-conditioned point
    (sin(exp(25 + x)): exp(25) is off by 1e-5 in double precision) every
    operation can be right and the sum still far from exact. Ask the local
    check, which compares each operation at the engine's own values, and
    finite differences: where both vouch for an input, its verdict is
    ROUNDING or ILL_CONDITIONED (not a mismatch), with a note saying by how
    much it differs."""
    local_notes: list[str] = []
    local = {c.name: c for c in _local_check(graph, point, gradient, kinks, near_kink, local_notes, rtol, atol)}
    out = []
    for c in inputs:
        second = local[c.name]
        if c.status == MISMATCH and second.status == OK and c.symbolic:
            relative = abs(c.engine - c.symbolic) / abs(c.symbolic)
            last_bit = relative < ILL_CONDITIONED_FROM
            note = (_("{name}: the engine differs from SymPy's exact value by {relative} (relative), yet every "
                      "operation's derivative agrees with SymPy at the engine's own values, and so does the "
                      "chain rule redone with them: floating-point rounding") if last_bit else
                    _("{name}: the engine differs from SymPy's exact value by {relative} (relative), yet every "
                      "operation's derivative agrees with SymPy at the engine's own values, and so does the "
                      "chain rule redone with them: this point is ill-conditioned in double precision (the "
                      "exact value is the better one)"))
            notes.append(note.format(name=c.name, relative=f"{relative:.1e}"))
            status = ROUNDING if last_bit else ILL_CONDITIONED
            out.append(InputCheck(c.name, c.engine, c.derivative, c.symbolic, second.fd, status))
        else:
            out.append(c)
    return out


def _judge_fd(graph: Graph, name: str, engine: float, f: float | None, near_kink: list[bool],
              local_ok: bool | None) -> InputCheck:
    """One input's verdict from finite differences; `local_ok` is the local
    check's verdict on the partials along its way (None: no local check)."""
    at_kink = near_kink[graph.input_id(name)]
    if local_ok is False:
        status = KINK if at_kink else MISMATCH
    elif f is None or not math.isfinite(engine):
        if local_ok and math.isfinite(engine):
            status = LOCAL_OK
        else:
            status = KINK if at_kink else UNCHECKED
    elif _close(engine, f, FD_RTOL, FD_ATOL):
        status = OK if local_ok else FD_OK
    else:
        status = KINK if at_kink else FD_MISMATCH
    return InputCheck(name, engine, None, None, f, status)


# --- the local check ----------------------------------------------------------


def _local_check(graph: Graph, point: Mapping[str, AtValue], gradient: Mapping[str, float],
                 kinks: list[int], near_kink: list[bool], notes: list[str],
                 rtol: float, atol: float) -> list[InputCheck]:
    """Every local partial against SymPy's derivative of its op, then central
    finite differences of the whole output for each input."""
    from .engine import forward

    wrt = tuple(gradient)
    base = {name: at.value for name, at in point.items()}
    values, _warnings = forward(graph, base)
    local = local_partials(graph, values, set(kinks), rtol, atol)
    notes.extend(local.notes())
    wrong = graph.ancestors(list(local.mismatched)) if local.mismatched else [False] * len(graph)
    chain, size, broken = sympy_chain(graph, local.sympy_partials)
    fd = vector_finite_differences(graph, base, wrt)
    if fd is None:
        notes.append(fd_skipped(len(wrt), len(graph)))
        fd = {}
    out = []
    chained = 0
    for name in wrt:
        i = graph.input_id(name)
        engine = gradient[name]
        if not wrong[i] and not broken[i] and math.isfinite(engine):
            # the chain rule redone with SymPy's partials decides; the tolerance
            # scales with the terms summed, so cancellation cannot fool it
            chained += 1
            same = abs(engine - chain[i]) <= atol + 16 * rtol * size[i]
            status = OK if same else (KINK if near_kink[i] else MISMATCH)
            f = fd.get(name)
            if same and f is not None and not _close(engine, f, FD_RTOL, FD_ATOL) and not near_kink[i]:
                notes.append(_("finite differences disagree for {name} ({difference}); the chain rule over "
                               "SymPy's partials agrees with the engine").format(name=name, difference=f"{f:.6g}"))
            out.append(InputCheck(name, engine, None, chain[i], f, status))
        else:
            # behind a node SymPy could not vouch for: finite differences decide
            out.append(_judge_fd(graph, name, engine, fd.get(name), near_kink, False if wrong[i] else None))
    notes.append(_("local check: the chain rule redone with SymPy's partials covers {chained} of {inputs} "
                   "inputs").format(chained=chained, inputs=len(wrt)))
    return out


@dataclass(frozen=True)
class LocalPartials:
    """The outcome of comparing every local partial with SymPy's."""

    checked: int  # partials compared
    kinds: tuple[str, ...]  # the ops they belong to
    skipped: tuple[int, ...]  # nodes not compared: at kinks, or where a value is not finite
    unverified: int  # SymPy's value undefined at the point, or past LOCAL_MAX_EXACT
    mismatched: tuple[int, ...]  # nodes with a partial that disagrees
    named: tuple[str, ...]  # the first few of them, described
    #: SymPy's local partials at each compared node, by argument (None where
    #: SymPy's value could not be had): the verifier's own chain rule uses them.
    sympy_partials: dict[int, list[float | None]] = field(default_factory=dict, repr=False, compare=False)

    def notes(self) -> list[str]:
        ops = ", ".join(self.kinds) or _("no operations")
        compared = (_("local check: {checked} local partial derivatives ({ops}) compared with SymPy's derivative "
                      "of each operation; {mismatched} disagree") if self.mismatched else
                    _("local check: {checked} local partial derivatives ({ops}) compared with SymPy's derivative "
                      "of each operation, all agree"))
        out = [compared.format(checked=f"{self.checked:,}", ops=ops, mismatched=f"{len(self.mismatched):,}")]
        out += [_("local check: {mismatch}").format(mismatch=m) for m in self.named]
        if self.skipped:
            out.append(_("local check: {nodes} nodes skipped (at a kink, or at a non-finite value)").format(
                nodes=f"{len(self.skipped):,}"))
        if self.unverified:
            out.append(_("local check: {partials} partials left unverified (SymPy's value is undefined "
                         "there)").format(partials=f"{self.unverified:,}"))
        return out


def _op_derivatives(sp: Any, name: str, nargs: int) -> list[tuple[Any, Any, Any]]:
    """[(SymPy's derivative, numpy function of it, its arguments)] for each
    argument of op `name` called with `nargs` arguments; built once per op
    kind (and argument count: max(a, b, c))."""
    cached = _DERIVATIVES.get((name, nargs))
    if cached is None:
        op = OPS[name]
        args = sp.symbols("a b", real=True) if nargs <= 2 else sp.symbols(f"a:{nargs}", real=True)
        args = args[:nargs]
        expr = op.sympy(sp, *args)
        cached = []
        for arg in args:
            d = sp.powsimp(sp.diff(expr, arg))  # a**b*b/a -> b*a**(b - 1): defined at a = 0
            cached.append((d, sp.lambdify(args, d, modules=[_numpy_missing(), "numpy"]), args))
        _DERIVATIVES[(name, nargs)] = cached
    return cached


_DERIVATIVES: dict[tuple[str, int], list[tuple[Any, Any, Any]]] = {}


def _numpy_missing() -> dict[str, Any]:
    """Functions SymPy's derivatives use that numpy lacks (erf, in gelu')."""
    import numpy as np

    return {"erf": np.vectorize(math.erf, otypes=[float]), "erfc": np.vectorize(math.erfc, otypes=[float])}


def local_partials(graph: Graph, values: Sequence[float], kinks: set[int],
                   rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> LocalPartials:
    """Compare the partial derivatives the engine uses at every node (the op
    table's `partials`) with SymPy's derivative of the node's op, evaluated
    at the node's arguments: numerically for all nodes of a kind at once, and
    exactly (30 digits) where that overflows or is undefined."""
    import numpy as np

    from .symbolic import import_sympy

    sp = import_sympy()
    live = graph.reaches_output()
    active, ops, arg0, arg1, more = graph.active, graph.ops, graph.arg0, graph.arg1, graph.more
    isfinite = math.isfinite
    groups: dict[tuple[str, int], list[int]] = {}  # (op, number of arguments) -> nodes
    skipped: list[int] = []
    for i in range(len(graph)):
        a = arg0[i]
        if a < 0 or not active[i] or not live[i]:
            continue
        b = arg1[i]
        if more and i in more:
            if i in kinks or not all(isfinite(values[j]) for j in (i, *graph.args(i))):
                skipped.append(i)
            else:
                groups.setdefault((ops[i], len(graph.args(i))), []).append(i)
            continue
        if i in kinks or not (isfinite(values[i]) and isfinite(values[a]) and (b < 0 or isfinite(values[b]))):
            skipped.append(i)
            continue
        groups.setdefault((ops[i], 1 if b < 0 else 2), []).append(i)
    checked = unverified = exact_left = 0
    exact_left = LOCAL_MAX_EXACT
    mismatched: list[int] = []
    named: list[str] = []
    sympy_partials: dict[int, list[float | None]] = {}
    for (name, nargs), ids in sorted(groups.items()):
        op = OPS[name]
        node_args = [graph.args(i) for i in ids]
        arg_ids = [list(column) for column in zip(*node_args)]  # by position
        argv = [np.array([values[j] for j in column]) for column in arg_ids]
        partials = op.partials
        rows = [partials(*(values[j] for j in args), values[i]) for args, i in zip(node_args, ids)]
        engine = [np.array([p[k] for p in rows]) for k in range(nargs)]
        for k, (d, fn, symbols) in enumerate(_op_derivatives(sp, name, nargs)):
            wrt_ids = arg_ids[k]
            with np.errstate(all="ignore"):
                symbolic = np.broadcast_to(np.asarray(fn(*argv), dtype=np.float64), argv[0].shape)
                e = engine[k]
                same = (np.abs(e - symbolic) <= atol + rtol * np.abs(symbolic)) | ((e == symbolic) & np.isinf(e))
            relevant = np.array([active[j] for j in wrt_ids], dtype=bool)
            checked += int(relevant.sum())
            for i, v in zip(ids, symbolic.tolist()):
                sympy_partials.setdefault(i, [None] * nargs)[k] = v
            for row in np.flatnonzero(~same & relevant):
                i = ids[row]
                value: float | None = float(symbolic[row])
                if not isfinite(value):  # overflow or 0/0 in floating point: ask SymPy exactly
                    sympy_partials[i][k] = None
                    if exact_left <= 0:
                        unverified += 1
                        continue
                    exact_left -= 1
                    point = {s: sp.Float(float(v[row]), 30) for s, v in zip(symbols, argv)}
                    value, defined = _classify(sp, d.xreplace(point).evalf(30))
                    if not defined or value is None or math.isnan(value):
                        unverified += 1
                        continue
                    sympy_partials[i][k] = value
                    if _close(float(e[row]), value, rtol, atol):
                        continue
                if i not in mismatched:
                    mismatched.append(i)
                if len(named) < LOCAL_MAX_NAMED:
                    named.append(_("{node}: {partial} is {engine} in the engine, {sympy} from SymPy "
                                   "({derivative})").format(
                        node=graph.describe(i), partial=f"d/d{symbols[k]}", engine=f"{float(e[row]):.17g}",
                        sympy=f"{value:.17g}", derivative=sp.sstr(d)))
    return LocalPartials(checked, tuple(sorted({name for name, _ in groups})), tuple(skipped), unverified, tuple(mismatched),
                         tuple(named), sympy_partials)


def sympy_chain(graph: Graph, partials: Mapping[int, Sequence[float | None]]) -> tuple[list[float], list[float], list[bool]]:
    """The chain rule done again, here, with SymPy's local partials: adjoints,
    the sum of the magnitudes of the terms that made each (for a tolerance that
    cancellation cannot fool), and `broken`: the nodes behind a node with no
    SymPy partial, whose adjoints this cannot vouch for. Independent of the
    engine's backward loop and of its op rules; the same convention for
    zeros (a zero adjoint or a zero partial passes nothing back)."""
    n = len(graph)
    adj = [0.0] * n
    size = [0.0] * n
    broken = [False] * n
    adj[graph.output] = 1.0
    size[graph.output] = 1.0
    arg0, active = graph.arg0, graph.active
    for i in range(graph.output, -1, -1):
        a = arg0[i]
        if a < 0 or not active[i]:
            continue
        ps = partials.get(i)
        args = graph.args(i)
        g = adj[i]
        missing = ps is None or any(p is None for p, j in zip(ps, args) if active[j])
        if broken[i] or (missing and g != 0.0):
            for j in args:
                broken[j] = True
        if missing or g == 0.0:
            continue
        for j, p in zip(args, ps):
            if active[j] and p is not None and p != 0:  # a zero partial passes nothing back
                adj[j] += g * p
                size[j] += abs(g * p)
    return adj, size, broken


def vector_finite_differences(graph: Graph, base: Mapping[str, float], wrt: Sequence[str]) -> dict[str, float | None] | None:
    """Central differences of the output for each input, all inputs at once
    with the vectorized engine (None: too much work)."""
    import numpy as np

    from .vector import chunk_rows, outputs

    rows = 4 * len(wrt)
    if rows == 0:
        return {}
    if -(-rows // chunk_rows(graph)) * len(graph) > FD_MAX_WORK:
        return None
    names = graph.input_names
    columns = {name: np.full(rows, base[name]) for name in names}
    offsets = []
    for k, name in enumerate(wrt):
        xs = _offsets(base[name])
        columns[name][4 * k : 4 * k + 4] = xs
        offsets.append(xs)
    with np.errstate(all="ignore"):
        out = outputs(graph, columns)
    return {
        name: _estimate([float(v) for v in out[4 * k : 4 * k + 4]], offsets[k])
        for k, name in enumerate(wrt)
    }
