"""Printing a Graph back as a program that parses to the same graph.

Named nodes become assignments, nodes nobody uses become expression
statements, everything else is written inline with just the parentheses the
grammar needs to keep the same tree (`a - (b - c)`, `(a^b)^c`, `-(3)` so that
it stays a negation node rather than the constant -3). A name the program
binds more than once, or one that would clash with an input or a constant,
is printed as a fresh unique name: the graph is the same, up to the names of
intermediate nodes. No recursion: nodes are printed in topological order.
"""

from __future__ import annotations

from .. import ops as op_table
from ..graph import CONST, INPUT, Graph
from ..ops import CONSTANTS, OPS


def _needs_parens(child_prec: int, parent_prec: int, side: str, right_assoc: bool) -> bool:
    if right_assoc:  # '^': (a^b)^c needs them on the left, a^(b^c) does not
        return child_prec <= parent_prec if side == "left" else child_prec < parent_prec
    return child_prec < parent_prec if side == "left" else child_prec <= parent_prec


def to_program(graph: Graph) -> str:
    """A program text whose graph has the same structure as `graph`."""
    n = len(graph)
    users = [0] * n
    for i in range(n):
        for j in graph.args(i):
            users[j] += 1
    taken = set(graph.input_names) | set(CONSTANTS) | {nm for nm in graph.names if nm}
    counts: dict[str, int] = {}
    for nm in graph.names:
        if nm:
            counts[nm] = counts.get(nm, 0) + 1
    shadowed = {nm for nm in CONSTANTS if nm in counts}

    def fresh(base: str) -> str:
        k = 1
        while f"{base}_{k}" in taken:
            k += 1
        name = f"{base}_{k}"
        taken.add(name)
        return name

    text: list[str] = [""] * n
    prec: list[int] = [op_table.PREC_ATOM] * n
    lines: list[str] = []
    for i in range(n):
        op = graph.ops[i]
        if op == INPUT:
            text[i] = graph.names[i] or ""
            if users[i] == 0 and i != graph.output:
                lines.append(text[i])  # an input nothing uses still exists
            continue
        if op == CONST:
            value, literal = graph.consts[i]
            if literal.lstrip("-") in shadowed:
                literal = repr(value)
            text[i] = literal
            prec[i] = op_table.PREC_UNARY if literal.startswith("-") else op_table.PREC_ATOM
        else:
            spec = OPS[op]
            args = graph.args(i)
            if spec.infix is None:
                text[i] = f"{op}({', '.join(text[j] for j in args)})"
            elif spec.arity == 1:
                (a,) = args
                inner = text[a]
                if prec[a] < spec.prec or (graph.ops[a] == CONST and not inner.startswith("-")):
                    inner = f"({inner})"  # -(3) stays neg(3), not the constant -3
                text[i] = f"{spec.infix}{inner}"
                prec[i] = spec.prec
            else:
                a, b = args
                right = op == "pow"
                left_text = f"({text[a]})" if _needs_parens(prec[a], spec.prec, "left", right) else text[a]
                right_text = f"({text[b]})" if _needs_parens(prec[b], spec.prec, "right", right) else text[b]
                text[i] = f"{left_text} {spec.infix} {right_text}"
                prec[i] = spec.prec
        name = graph.names[i]
        if name is None and users[i] == 1:
            continue  # printed inline where it is used
        if name is None and users[i] == 0:
            lines.append(text[i])  # an expression statement (the output, or unused)
            continue
        if name is None or counts[name] > 1 or name in CONSTANTS:
            name = fresh(name or "t")
        lines.append(f"{name} = {text[i]}")
        text[i] = name
        prec[i] = op_table.PREC_ATOM
    output = graph.output
    last = lines[-1] if lines else ""
    if last != text[output] and not last.startswith(f"{text[output]} = "):
        lines.append(text[output])
    return "\n".join(lines)
