"""Lowering: syntax trees -> Graph, one node per primitive operation.

Names follow the language's binding rules: a name bound by an assignment refers
to its latest binding (the right-hand side sees the previous one); `pi` and `e`
are constants unless the program binds them; any other name is an input, whose
value comes from --at. Each textual occurrence of an operation is its own node
(no common-subexpression merging), so the graph is the one in the course notes.

`build(source)` parses and lowers in one streaming pass: statements are lowered
as the parser yields them, so no whole-program syntax tree is ever held.
"""

from __future__ import annotations

import math
from typing import Iterable

from ..errors import BpcalcError, Diagnostic, Source, Span
from ..i18n import _
from ..graph import CONST, INPUT, Graph
from ..limits import DEFAULT_LIMITS, Limits
from ..ops import CONSTANTS, FUNCTIONS, OPS, TENSOR_OPS
from .parser import Statement, iter_statements


def build(source: Source, limits: Limits = DEFAULT_LIMITS) -> tuple[Graph, list[Diagnostic]]:
    """Parse and lower a program: its Graph, and warnings about its shape."""
    return lower(source, iter_statements(source, limits), limits)


def literal_graph(source: Source, literal: str, value: float, span: tuple[int, int]) -> Graph:
    """The graph of a program that is one number literal (`-3`, `2.5e-3`),
    built directly: what `build` would give, without parsing."""
    start = span[0] - (1 if literal.startswith("-") else 0)
    return Graph(source, (CONST,), (-1,), (-1,), (None,), (start,), (span[1],), {0: (value, literal)},
                 (), 0, (False,))


def _literal_warning(text: str, value: float) -> str | None:
    if math.isinf(value):
        return _("the number {number} is too large for a double: it is inf").format(number=text)
    mantissa = text.lower().split("e")[0]
    if value == 0.0 and any(c in "123456789" for c in mantissa):
        return _("the number {number} is too small for a double: it is 0").format(number=text)
    return None


def lower(source: Source, statements: Iterable[Statement], limits: Limits = DEFAULT_LIMITS) -> tuple[Graph, list[Diagnostic]]:
    """Build the Graph of a program's statements (in order)."""
    ops: list[str] = []
    arg0: list[int] = []
    arg1: list[int] = []
    names: list[str | None] = []
    starts: list[int] = []
    ends: list[int] = []
    active: list[bool] = []
    consts: dict[int, tuple[float, str]] = {}
    more: dict[int, tuple[int, ...]] = {}  # arguments after the second, for max(a, b, c, …)
    warnings: list[Diagnostic] = []

    env: dict[str, int] = {}  # name -> node of its latest binding
    input_ids: dict[str, int] = {}  # input name -> node
    reassigned: list[tuple[str, int]] = []  # (input name, line) assigned after use
    unused: list[tuple[Span, int]] = []  # bare expression statements before the last
    max_nodes = limits.max_nodes
    output = -1
    result = -1
    last_stmt: Statement | None = None
    op_arity = {name: op.arity for name, op in [*OPS.items(), *TENSOR_OPS.items()]}
    params: dict[int, tuple[tuple[str, object], ...]] = {}

    def add_node(op: str, a: int, b: int, start: int, end: int, act: bool) -> int:
        ops.append(op)
        arg0.append(a)
        arg1.append(b)
        names.append(None)
        starts.append(start)
        ends.append(end)
        active.append(act)
        return len(ops) - 1

    def resolve(name: str, start: int, end: int) -> int:
        """The node a name refers to where no binding exists yet."""
        if name in input_ids:
            return input_ids[name]
        if name in CONSTANTS:
            node = add_node(CONST, -1, -1, start, end, False)
            consts[node] = (CONSTANTS[name], name)
            return node
        if name in FUNCTIONS:
            raise BpcalcError(
                "name", _("'{name}' is a function: call it as {name}(…)").format(name=name), source, Span(start, end)
            )
        node = add_node(INPUT, -1, -1, start, end, True)
        names[node] = name
        input_ids[name] = node
        return node

    for stmt in statements:
        if last_stmt is not None and last_stmt.target is None:
            unused.append((last_stmt.span, result))
        last_stmt = stmt
        previous = -1
        if stmt.augment is not None:  # 'x += e' reads x first, as the text does
            previous = env.get(stmt.target, -1)
            if previous < 0:
                previous = resolve(stmt.target, stmt.target_start, stmt.target_end)
        # stack entries: [node id, use start, use end, is a fresh number literal]
        stack: list[list] = []
        push = stack.append
        pop = stack.pop
        for tag, payload, start, end in stmt.expr:
            if tag == "op":
                if op_arity[payload] == 1:
                    a = stack[-1]
                    if a[3]:  # '-3' is one constant, not neg(3); '--3' is neg(-3)
                        node = a[0]
                        value, literal = consts[node]
                        consts[node] = (-value, "-" + literal)
                        starts[node] = a[1] = start
                        a[3] = False
                        continue
                    node = a[0]
                    stack[-1] = [
                        add_node(payload, node, -1, start, a[2], active[node]), start, a[2], False
                    ]
                else:
                    b = pop()
                    a = stack[-1]
                    x, y = a[0], b[0]
                    stack[-1] = [
                        add_node(payload, x, y, a[1], b[2], active[x] or active[y]), a[1], b[2], False
                    ]
            elif tag == "name":
                node = env.get(payload)  # type: ignore[arg-type]
                if node is None:
                    node = resolve(payload, start, end)  # type: ignore[arg-type]
                push([node, start, end, False])
            elif tag == "num":
                value = float(payload)  # type: ignore[arg-type]
                node = add_node(CONST, -1, -1, start, end, False)
                consts[node] = (value, payload)  # type: ignore[assignment]
                if value == 0.0 or value == math.inf:
                    message = _literal_warning(payload, value)  # type: ignore[arg-type]
                    if message:
                        warnings.append(Diagnostic("overflow" if value else "underflow", message, node))
                push([node, start, end, True])
            elif tag == "call":
                if op_arity[payload] == 1:
                    x = stack[-1][0]
                    stack[-1] = [add_node(payload, x, -1, start, end, active[x]), start, end, False]
                else:
                    b = pop()
                    x, y = stack[-1][0], b[0]
                    stack[-1] = [
                        add_node(payload, x, y, start, end, active[x] or active[y]), start, end, False
                    ]
            elif tag == "tensor":
                import numpy as np

                flat, shape, text = payload  # type: ignore[misc]
                node = add_node(CONST, -1, -1, start, end, False)
                array = np.array(flat, dtype=float).reshape(shape)
                array.setflags(write=False)  # a graph may be shared (api caches short programs' graphs)
                consts[node] = (array, text)  # type: ignore[assignment]
                push([node, start, end, False])
            elif tag == "callk":
                name, npos, keywords = payload  # type: ignore[misc]
                given = []
                for kw in reversed(keywords):
                    entry = pop()
                    given.append((kw, _keyword_value(source, consts, entry, kw)))
                    if entry[0] == len(ops) - 1:  # a number that is a parameter, not a node
                        for column in (ops, arg0, arg1, names, starts, ends, active):
                            column.pop()
                        del consts[entry[0]]
                if npos == 1:
                    x = stack[-1][0]
                    node = add_node(name, x, -1, start, end, active[x])
                else:
                    b = pop()
                    x, y = stack[-1][0], b[0]
                    node = add_node(name, x, y, start, end, active[x] or active[y])
                stack[-1] = [node, start, end, False]
                if given:
                    params[node] = tuple(reversed(given))
            elif tag == "calln":  # a default left out, or max/min of three or more
                name, nargs = payload  # type: ignore[misc]
                spec = OPS[name]
                if nargs < spec.arity:
                    for value in spec.defaults[nargs - spec.min_args:]:
                        node = add_node(CONST, -1, -1, end - 1, end - 1, False)  # no text: at the ')'
                        consts[node] = (value, format(value, "g"))
                        push([node, end - 1, end - 1, False])
                    nargs = spec.arity
                args = [entry[0] for entry in stack[-nargs:]]
                del stack[len(stack) - nargs + 1:]
                node = add_node(name, args[0], args[1] if nargs > 1 else -1, start, end,
                                any(active[j] for j in args))
                if nargs > 2:
                    more[node] = tuple(args[2:])
                stack[-1] = [node, start, end, False]
            else:  # group: the use span now includes the parentheses
                top = stack[-1]
                top[1], top[2], top[3] = start, end, False
        result = stack[-1][0]
        target = stmt.target
        if target is not None:
            if stmt.augment is not None:
                result = add_node(
                    stmt.augment, previous, result, stmt.start, stmt.end,
                    active[previous] or active[result],
                )
            if target in input_ids and target not in env:
                reassigned.append((target, source.line_col(stmt.start)[0]))
            if names[result] is None and ops[result] != INPUT:
                names[result] = target
            env[target] = result
        if len(ops) > max_nodes:
            raise BpcalcError(
                "limit",
                _("the program has more than {limit} nodes; raise the limit with {option}").format(
                    limit=f"{max_nodes:,}", option="--max-nodes"),
                source, stmt.span,
            )
    output = result

    for span, node in unused:
        line = source.line_col(span.start)[0]
        text = " ".join(source.snippet(span).split())
        if len(text) > 40:
            text = text[:39] + "…"
        warnings.append(
            Diagnostic(
                "unused",
                _("line {line}: the value of '{text}' is not used (only the last statement is the output)").format(
                    line=line, text=text),
                node,
            )
        )
    for name, line in reassigned:
        warnings.append(
            Diagnostic(
                "input",
                _("'{name}' is an input (its value comes from --at) and is also assigned on line "
                  "{line}; the gradient with respect to {name} is for the input").format(name=name, line=line),
                input_ids[name],
            )
        )
    graph = _inputs_first(
        source, ops, arg0, arg1, names, starts, ends, active, consts, list(input_ids.values()), output, more, params
    )
    warnings = [_renumbered(w, graph.cache.get("old_to_new")) for w in warnings]
    warnings.extend(_dead_code(graph))
    return graph, warnings


def _keyword_value(source: Source, consts: dict, entry: list, keyword: str) -> int:
    """The value of a keyword argument (axis=-1): a whole number, written as one."""
    node = entry[0]
    value = consts.get(node, (None, ""))[0]
    if not isinstance(value, float) or value != int(value):
        raise BpcalcError("value", _("{keyword}= takes a whole number such as 0, 1 or -1").format(keyword=keyword),
                          source, Span(entry[1], entry[2]))
    return int(value)


def _inputs_first(source: Source, ops: list[str], arg0: list[int], arg1: list[int],
                  names: list[str | None], starts: list[int], ends: list[int],
                  active: list[bool], consts: dict[int, tuple[float, str]],
                  inputs: list[int], output: int, more: dict[int, tuple[int, ...]],
                  params: dict | None = None) -> Graph:
    """The Graph, renumbered so that the inputs come first (in order of first
    use) and everything else keeps its relative, topological order."""
    k = len(inputs)
    if inputs == list(range(k)):
        return Graph(source, tuple(ops), tuple(arg0), tuple(arg1), tuple(names), tuple(starts),
                     tuple(ends), consts, tuple(range(k)), output, tuple(active), more=more, params=params or {})
    is_input = set(inputs)
    order = inputs + [i for i in range(len(ops)) if i not in is_input]  # new id -> old id
    old_to_new = [0] * len(ops)
    for new, old in enumerate(order):
        old_to_new[old] = new
    remap = old_to_new.__getitem__

    def permute(values: list) -> tuple:
        return tuple(map(values.__getitem__, order))

    def remap_args(args: list[int]) -> tuple[int, ...]:
        return tuple(-1 if a < 0 else remap(a) for a in map(args.__getitem__, order))

    graph = Graph(
        source, permute(ops), remap_args(arg0), remap_args(arg1), permute(names),
        permute(starts), permute(ends), {remap(i): c for i, c in consts.items()},
        tuple(range(k)), remap(output), permute(active),
        more={remap(i): tuple(map(remap, args)) for i, args in more.items()},
        params={remap(i): p for i, p in (params or {}).items()},
    )
    graph.cache["old_to_new"] = old_to_new
    return graph


def _renumbered(w: Diagnostic, old_to_new: list[int] | None) -> Diagnostic:
    if old_to_new is None or w.node is None:
        return w
    return Diagnostic(w.kind, w.message, old_to_new[w.node])


def _dead_code(graph: Graph) -> list[Diagnostic]:
    """Warn about named bindings and inputs that cannot affect the output."""
    live = graph.reaches_output()
    if all(live):
        return []
    out: list[Diagnostic] = []
    for i in graph.inputs:
        if not live[i]:
            out.append(Diagnostic("unused", _("the input '{name}' does not affect the output").format(
                name=graph.names[i]), i))
    for i, name in enumerate(graph.names):
        if name is not None and not live[i] and graph.ops[i] != INPUT:
            line = graph.source.line_col(graph.starts[i])[0]
            out.append(Diagnostic("unused", _("'{name}' (line {line}) does not affect the output").format(
                name=name, line=line), i))
    return out
