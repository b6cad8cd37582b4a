"""SymPy expressions built from the Graph, node by node (never from text).

User text never reaches sympify / parse_expr / eval / exec: input names become
`Symbol(name, real=True)`, number literals become exact Rationals through
`fractions.Fraction` (a strict decimal reader, not an evaluator), and each
op's SymPy counterpart comes from the op table.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from .graph import CONST, INPUT, Graph
from .ops import CONSTANTS, OPS, sympy_constant

#: Decimal exponents beyond this are not turned into exact integers (10**10**9
#: would take minutes and gigabytes); such literals are inf or 0 as doubles.
MAX_EXACT_EXPONENT = 400

_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)$")


def exact_literal(sp: Any, literal: str) -> Any:
    """The exact SymPy number for a literal as written ('1.1' -> 11/10)."""
    negative = literal.startswith("-")
    body = literal[1:] if negative else literal
    if body in CONSTANTS:
        value = sympy_constant(sp, body)
    else:
        match = _EXPONENT.search(body)
        if match and abs(int(match.group(1))) > MAX_EXACT_EXPONENT:
            f = float(body)
            value = sp.oo if math.isinf(f) else sp.Float(f)
        else:
            frac = Fraction(body)
            value = sp.Rational(frac.numerator, frac.denominator)
    return -value if negative else value


def to_sympy(sp: Any, graph: Graph, symbols: dict[str, Any] | None = None,
             needed: list[bool] | None = None) -> list[Any]:
    """SymPy expression of every node (None where `needed` is False).

    Inputs become real symbols (or `symbols[name]` if given, e.g. exact values).
    """
    exprs: list[Any] = [None] * len(graph)
    names = graph.names
    for i, op in enumerate(graph.ops):
        if needed is not None and not needed[i]:
            continue
        if op == INPUT:
            name = names[i] or ""
            exprs[i] = symbols[name] if symbols and name in symbols else sp.Symbol(name, real=True)
        elif op == CONST:
            exprs[i] = exact_literal(sp, graph.consts[i][1])
        else:
            exprs[i] = OPS[op].sympy(sp, *[exprs[j] for j in graph.args(i)])
    return exprs
