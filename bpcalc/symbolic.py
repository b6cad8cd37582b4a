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
from typing import Any, Mapping

from .graph import CONST, INPUT, Graph
from .i18n import _
from .ops import CONSTANTS, OPS, sympy_constant
from .point import AtValue

#: Decimal exponents beyond this are not turned into exact integers (10**10**9
#: would take minutes and gigabytes); such literals are inf or 0 as doubles.
MAX_EXACT_EXPONENT = 400

#: Powers with a larger exponent (in absolute value) are not evaluated exactly
#: (by the check or exact mode): 1.5^-1e308 is 0 in doubles and exactly a
#: fraction of 10^307 digits; (1 + 10^-15)^(10^15) is about e in doubles and
#: exactly a fraction of 15 * 10^15 digits.
MAX_EXACT_POWER = 10_000

_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)$")


def import_sympy() -> Any:
    """The sympy module, loaded without the cyclic garbage collector's scans
    of its objects (see `bpcalc.loading`: 30 ms of an import of 180)."""
    import sys

    if "sympy" in sys.modules:
        return sys.modules["sympy"]
    from .loading import pause, resume

    paused = pause()
    try:
        import sympy
        import sympy.tensor.tensor  # noqa: F401 - SymPy's first Add imports it (17-28 ms): once, before any fork
    finally:
        resume(paused)
    return sympy


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


def huge_power(graph: Graph, values: list[float], needed: list[bool] | None = None) -> str:
    """Why SymPy should not evaluate `graph` exactly at these (double) values:
    the first power whose exponent is beyond ±MAX_EXACT_POWER (and whose base
    is not 0 or ±1), or '' if none."""
    arg0, arg1 = graph.arg0, graph.arg1
    for i, op in enumerate(graph.ops):
        if op == "pow" and (needed is None or needed[i]):
            a, b = values[arg0[i]], values[arg1[i]]
            if abs(b) > MAX_EXACT_POWER and abs(a) not in (0.0, 1.0):
                return _("{node} raises {base} to the power {exponent}, and evaluating that exactly could "
                         "take unbounded time and memory").format(node=graph.describe(i), base=repr(a),
                                                                   exponent=repr(b))
    return ""


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


def exact_input(sp: Any, at: AtValue) -> Any:
    """The exact SymPy number of one input value: the constant expression as
    the user wrote it (`1/3` -> 1/3, `pi/4` -> pi/4, `1.1` -> 11/10), or, for a
    Python float given through the API, its shortest decimal (0.1 -> 1/10)."""
    if at.graph is not None:
        return to_sympy(sp, at.graph)[at.graph.output]
    frac = Fraction(repr(at.value))
    return sp.Rational(frac.numerator, frac.denominator)


def exact_point(sp: Any, point: Mapping[str, AtValue]) -> dict[str, Any]:
    """Input name -> exact SymPy number, for `to_sympy(..., symbols=...)`."""
    return {name: exact_input(sp, at) for name, at in point.items()}


_GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)
_INDEXED = re.compile(r"([A-Za-z])([0-9]+)")


def latex_name(label: str) -> str:
    """How a node label prints in LaTeX, for formulas and explanations alike:
    x, w_{0}, \\alpha, \\mathit{apple\\_price}, \\%3 (unnamed node), q@2."""
    if label.startswith("%"):
        return "\\" + label
    name, at, k = label.partition("@")
    if name in _GREEK:
        shown = "\\" + name
    elif len(name) == 1:
        shown = name
    elif match := _INDEXED.fullmatch(name):
        shown = f"{match.group(1)}_{{{match.group(2)}}}"
    else:
        shown = "\\mathit{" + name.replace("_", "\\_") + "}"
    return shown + at + k


def latex_symbol_names(expr: Any) -> dict[Any, str]:
    """`symbol_names` for `sympy.latex`: every input symbol as `latex_name` prints it."""
    return {s: latex_name(s.name) for s in expr.free_symbols}
