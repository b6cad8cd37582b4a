"""Forward and backward passes: loops over the graph in topological order.

No recursion anywhere: a graph of a million nodes, or one nested 100 000 deep,
is a list like any other. The forward loop calls each op's forward function
from the op table; the backward loop seeds the output's adjoint with 1 and, for
each node from the output back to the inputs, adds upstream x local partial to
each argument's adjoint. A node used by several others therefore receives the
sum of their contributions (fan-out accumulates).

Two rules keep 0 x inf from making a nan where the gradient is a number:
a node whose adjoint is exactly 0 passes nothing back, and a local partial
derivative of exactly 0 passes nothing back, whatever comes from above (an
infinite or undefined slope meeting relu'(-1) = 0, a max that did not select
this argument, a zero exponent). The second is how PyTorch's relu, max/min and
pow select rather than multiply; for the first, and for a zero partial of `*`
(x * 0), PyTorch multiplies and gives nan.

A nan, once made, stays nan (no op turns it into a number, not even relu or
1^nan) and is reported with the node that made it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Mapping

from .errors import BpcalcError, Diagnostic, Span
from .graph import CONST, Graph
from .i18n import _
from .ops import OPS

_MAX_WARNINGS_PER_KIND = 20


def _tape(graph: Graph, field: str) -> list[tuple]:
    """(node id, the op's `field` function, first argument, second argument or
    -1) for every op node, in order; built once per graph. A node with three
    or more arguments (max(a, b, c)) has (node id, function, all its
    arguments, VARIADIC) instead."""
    key = "tape:" + field
    tape = graph.cache.get(key)
    if tape is None:
        fns = {name: getattr(op, field) for name, op in OPS.items()}
        tape = [
            (i, fns[op], a, b)
            for i, op, a, b in zip(range(len(graph)), graph.ops, graph.arg0, graph.arg1)
            if a >= 0
        ]
        if graph.more:
            tape = [(i, f, graph.args(i), VARIADIC) if i in graph.more else (i, f, a, b) for i, f, a, b in tape]
        graph.cache[key] = tape
    return tape


#: The tapes' mark for a node with three or more arguments.
VARIADIC = -2


def _backward_tape(graph: Graph) -> list[tuple]:
    """The partials tape, restricted to nodes that matter for the gradient
    (depend on an input, and come no later than the output), reversed."""
    tape = graph.cache.get("tape:backward")
    if tape is None:
        active, output = graph.active, graph.output
        tape = [t for t in _tape(graph, "partials") if t[0] <= output and active[t[0]]]
        tape.reverse()
        graph.cache["tape:backward"] = tape
    return tape


def _fmt(v: float) -> str:
    return format(v, ".6g")


def forward(graph: Graph, point: Mapping[str, float]) -> tuple[list[float], list[Diagnostic]]:
    """Values of every node at `point` (input name -> float), plus warnings.

    Raises BpcalcError("domain") naming the first node whose operation is
    undefined at its arguments (log of a negative, division by zero, ...).
    Overflow gives ±inf with a warning, never an exception.
    """
    n = len(graph)
    values = [0.0] * n
    for i, name in zip(graph.inputs, graph.input_names):
        values[i] = float(point[name])
    for i, (v, _literal) in graph.consts.items():
        values[i] = v
    tape = _tape(graph, "forward")
    warnings: list[Diagnostic] = []
    overflowed: set[int] = set()
    pos = 0
    while True:
        i = -1
        try:
            for i, f, a, b in tape if pos == 0 else tape[pos:]:
                if b < 0:
                    values[i] = f(values[a]) if b == -1 else f(*[values[j] for j in a])
                else:
                    values[i] = f(values[a], values[b])
            break
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            values[i] = _undefined(graph, values, i, exc, warnings)
            if isinstance(exc, OverflowError):
                overflowed.add(i)
            pos = bisect_left(tape, i, key=lambda t: t[0]) + 1
    if not all(map(math.isfinite, values)):
        warnings.extend(_nonfinite_origins(graph, values, overflowed))
    warnings.extend(_point_notes(graph, values))
    return values, warnings


def _undefined(graph: Graph, values: list[float], i: int, exc: Exception, warnings: list[Diagnostic]) -> float:
    """The value of node i after its forward function raised, or a domain error."""
    op = OPS[graph.ops[i]]
    argv = [values[j] for j in graph.args(i)]
    if isinstance(exc, OverflowError):
        value = op.overflow(*argv)
        shown = ", ".join(_fmt(v) for v in argv)
        warnings.append(
            Diagnostic(
                "overflow",
                _("{node}: {call} overflows to {value}").format(node=graph.describe(i), call=f"{op.name}({shown})",
                                                                value=_fmt(value)),
                i,
            )
        )
        return value
    if not all(map(math.isfinite, argv)):
        # after an earlier overflow (already reported): IEEE's value, as the
        # never-raising numpy form gives it (inf / 0 = inf, sin(inf) = nan)
        import numpy as np

        with np.errstate(all="ignore"):
            return float(op.np_forward(np, *map(np.float64, argv)))
    message = op.domain(*argv) or _("{op} is undefined at {arguments}").format(
        op=op.name, arguments=", ".join(_fmt(v) for v in argv))
    raise BpcalcError(
        "domain",
        _("{message} in {node}").format(message=message, node=graph.describe(i)),
        graph.source,
        Span(graph.starts[i], graph.ends[i]),
    )


def _nonfinite_origins(graph: Graph, values: list[float], reported: set[int]) -> list[Diagnostic]:
    """Warn where a non-finite value first appears from finite arguments, and
    where a nan first appears (from arguments that are not nan: inf - inf,
    0 * inf, sin(inf)), naming the node that made it."""
    out: list[Diagnostic] = []
    isfinite, isnan = math.isfinite, math.isnan
    counts = {"overflow": 0, "nan": 0}
    for i, v in enumerate(values):
        if isfinite(v) or i in reported or graph.ops[i] == CONST:
            continue
        args = graph.args(i)
        if all(isfinite(values[j]) for j in args):
            kind, message = "overflow", _("{node}: {call} overflows to {value}")
        elif isnan(v) and not any(isnan(values[j]) for j in args):
            kind, message = "nan", _("{node}: {call} is undefined (nan); every value computed from it is nan")
        else:
            continue
        counts[kind] += 1
        if counts[kind] <= _MAX_WARNINGS_PER_KIND:
            call = f"{graph.ops[i]}({', '.join(_fmt(values[j]) for j in args)})"
            out.append(Diagnostic(kind, message.format(node=graph.describe(i), call=call, value=_fmt(v)), i))
    return out


def _point_notes(graph: Graph, values: list[float]) -> list[Diagnostic]:
    """Kinks (non-differentiable points, with the convention used) for nodes
    that depend on an input, and underflow for any node."""
    candidates = graph.cache.get("kink candidates")
    if candidates is None:
        kinky = {name for name, op in OPS.items() if op.kink or op.underflow}
        candidates = [i for i, op in enumerate(graph.ops) if op in kinky]
        graph.cache["kink candidates"] = candidates
    if not candidates:
        return []
    active = graph.active
    out: list[Diagnostic] = []
    counts: dict[str, int] = {}
    for i in candidates:
        op = OPS[graph.ops[i]]
        argv = [values[j] for j in graph.args(i)]
        for kind, check, call_args in (
            ("kink", op.kink if active[i] else None, argv),  # a kink matters for gradients only
            ("underflow", op.underflow, [values[i], *argv]),
        ):
            message = check(*call_args) if check else None
            if message:
                counts[kind] = counts.get(kind, 0) + 1
                if counts[kind] <= _MAX_WARNINGS_PER_KIND:
                    out.append(Diagnostic(kind, _("{node}: {message}").format(node=graph.describe(i),
                                                                                message=message), i))
    for kind, count in counts.items():
        if count > _MAX_WARNINGS_PER_KIND:
            more = count - _MAX_WARNINGS_PER_KIND
            message = (_("… and {count} more kink warnings") if kind == "kink" else
                       _("… and {count} more underflow warnings"))
            out.append(Diagnostic(kind, message.format(count=more), None))
    return out


def backward(graph: Graph, values: list[float]) -> tuple[list[float | None], list[Diagnostic]]:
    """Adjoints d(output)/d(node) for every node (None for nodes that do not
    depend on any input), plus warnings about infinite or undefined gradients."""
    n = len(graph)
    active = graph.active
    adj = [0.0] * n
    adj[graph.output] = 1.0
    # the op table's partials never raise (cos(inf) is nan): no checks here;
    # an undefined local derivative passes back as nan and is reported below
    for i, p, a, b in _backward_tape(graph):
        g = adj[i]
        if g == 0.0:
            continue
        if b < 0:
            if b == -1:
                pa = p(values[a], values[i])[0]
                if pa:  # a zero local partial passes nothing back (not 0 x inf = nan)
                    adj[a] += g * pa
            else:  # VARIADIC: a is the tuple of arguments
                for j, pj in zip(a, p(*[values[j] for j in a], values[i])):
                    if pj:
                        adj[j] += g * pj
        else:
            pa, pb = p(values[a], values[b], values[i])
            if pa:
                adj[a] += g * pa
            if pb:
                adj[b] += g * pb
    warnings: list[Diagnostic] = []
    if active[graph.output] and not all(map(math.isfinite, adj)):
        for i in range(n - 1, -1, -1):
            if active[i] and not math.isfinite(adj[i]):
                warnings.append(
                    Diagnostic(
                        "nonfinite",
                        _("the gradient at {node} is {value}: an infinite or undefined local derivative on the "
                          "way back").format(node=graph.describe(i), value=_fmt(adj[i])),
                        i,
                    )
                )
                break
    return [a if act else None for a, act in zip(adj, active)], warnings
