"""The table of primitive operations: every op is defined here, once.

Each `Op` holds everything the rest of bpcalc needs to know about it: how the
user writes it, its forward function, its local partial derivatives, its SymPy
counterpart (for the independent check), how it prints as text and LaTeX, its
domain and overflow behaviour, and its non-differentiable points ("kinks") with
the convention used there. Parser, engine, verifier, renderers and `bpcalc ops`
all read `OPS`; adding a function is one entry here plus its tests.

Conventions at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, max/min ties
split the gradient 0.5/0.5, d(x^y)/dy = 0 at x = 0 (for y >= 0), sqrt'(0) = +inf.

Forward functions may raise ValueError / ZeroDivisionError / OverflowError (the
engine keeps its hot loop free of checks and asks `domain` / `overflow` only
when one is raised). Local partials never raise: they return IEEE inf or nan.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

INF = math.inf
NAN = math.nan

# --- scalar helpers ---------------------------------------------------------


def _exp(a: float) -> float:
    return math.exp(a)


def _safe_pow(a: float, b: float) -> float:
    """IEEE-style a**b that never raises: inf on overflow, nan on a domain error."""
    if a == 0.0 and b < 0:
        return INF
    try:
        return math.pow(a, b)
    except ValueError:
        return NAN
    except OverflowError:
        return _pow_overflow(a, b)


def _pow_overflow(a: float, b: float) -> float:
    odd = b == int(b) and int(b) % 2 == 1 if math.isfinite(b) else False
    return -INF if a < 0 and odd else INF


def _pow_domain(a: float, b: float) -> str | None:
    if a == 0.0 and b < 0:
        return f"0 raised to a negative power ({_num(b)})"
    if a < 0 and b != int(b):
        return f"negative base ({_num(a)}) raised to a non-integer power ({_num(b)}); bpcalc computes over the real numbers"
    return None


def _pow_partials(a: float, b: float, out: float) -> tuple[float, float]:
    # d/da = b * a^(b-1) (0 when b == 0, as PyTorch); d/db = a^b * log(a)
    # (0 at a == 0 for b >= 0, as PyTorch; nan for a negative base).
    da = 0.0 if b == 0 else b * _safe_pow(a, b - 1.0)
    if a > 0:
        db = out * math.log(a)
    elif a == 0 and b >= 0:
        db = 0.0
    else:
        db = NAN
    return da, db


def _pow_kink(a: float, b: float) -> str | None:
    if a == 0.0 and b != int(b):
        slope = "+inf" if 0 < b < 1 else "0"
        return (
            f"x^y at x = 0 with non-integer y = {_num(b)}: one-sided; "
            f"d/dx = {slope}, d/dy = 0 (PyTorch convention)"
        )
    return None


def _sigmoid(a: float) -> float:
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    z = math.exp(a)
    return z / (1.0 + z)


def _sigmoid_slope(a: float) -> float:
    # sigma'(a) = sigma(a) * sigma(-a), written so that it never cancels to 0
    # before it underflows (sigma(a) * (1 - sigma(a)) is 0 already at a = 37).
    z = math.exp(-abs(a))
    return z / ((1.0 + z) * (1.0 + z))


def _softplus(a: float) -> float:
    return math.log1p(math.exp(-abs(a))) + (a if a > 0 else 0.0)


def _relu(a: float) -> float:
    return a if a > 0 else 0.0


def _max(a: float, b: float) -> float:
    return a if a >= b else (b if b > a else NAN)


def _min(a: float, b: float) -> float:
    return a if a <= b else (b if b < a else NAN)


def _tie_partials(a: float, b: float, bigger: bool) -> tuple[float, float]:
    if a == b:
        return 0.5, 0.5
    first = (a > b) if bigger else (a < b)
    return (1.0, 0.0) if first else (0.0, 1.0)


def _num(v: float) -> str:
    return format(v, ".6g")


def _nonneg_domain(fname: str) -> Callable[[float], str | None]:
    def domain(a: float) -> str | None:
        if a < 0:
            return f"{fname} of a negative number ({_num(a)})"
        return None

    return domain


def _log_domain(a: float) -> str | None:
    if a < 0:
        return f"log of a negative number ({_num(a)})"
    if a == 0:
        return "log of 0 (it is -inf)"
    return None


def _periodic_domain(fname: str) -> Callable[[float], str | None]:
    def domain(a: float) -> str | None:
        if math.isinf(a):
            return f"{fname} of {_num(a)}"
        return None

    return domain


def _div_domain(a: float, b: float) -> str | None:
    return "division by zero" if b == 0 else None


def _no_domain(*args: float) -> str | None:
    return None


def _overflow_inf(*args: float) -> float:
    return INF


def _kink_at_zero(message: str) -> Callable[[float], str | None]:
    def kink(a: float) -> str | None:
        return message if a == 0 else None

    return kink


def _tie_kink(fname: str) -> Callable[[float, float], str | None]:
    def kink(a: float, b: float) -> str | None:
        if a == b:
            return f"{fname} tie ({_num(a)} = {_num(b)}): gradient split 0.5/0.5 (PyTorch convention)"
        return None

    return kink


def _underflow(fname: str) -> Callable[..., str | None]:
    def check(out: float, *args: float) -> str | None:
        if out == 0.0 and all(math.isfinite(x) for x in args):
            shown = ", ".join(_num(x) for x in args)
            return f"{fname}({shown}) underflows to 0 in double precision"
        return None

    return check


# --- the table --------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One primitive operation.

    `partials(*args, out)` returns the local partial derivative of the output
    with respect to each argument, as a tuple; `rule` / `rule_latex` are the same
    formulas as templates over `{a}`, `{b}` (argument names) for display.
    `sympy(sp, *args)` builds the SymPy counterpart from SymPy arguments.
    """

    name: str
    arity: int
    forward: Callable[..., float]
    partials: Callable[..., tuple[float, ...]]
    sympy: Callable[..., Any]
    rule: tuple[str, ...]
    rule_latex: tuple[str, ...]
    doc: str
    infix: str | None = None  # operator symbol for infix/prefix ops
    prec: int = 9  # binding strength when printed (9 = atom / function call)
    latex: str = ""  # LaTeX template over {a}, {b}
    aliases: tuple[str, ...] = ()
    domain: Callable[..., str | None] = _no_domain
    overflow: Callable[..., float] = _overflow_inf
    kink: Callable[..., str | None] | None = None
    kink_doc: str = ""
    underflow: Callable[..., str | None] | None = None

    @property
    def is_function(self) -> bool:
        return self.infix is None

    def text(self, *args: str) -> str:
        """Print this op applied to already-printed argument texts."""
        if self.infix is None:
            return f"{self.name}({', '.join(args)})"
        if self.arity == 1:
            return f"{self.infix}{args[0]}"
        return f"{args[0]} {self.infix} {args[1]}"


#: Printing precedences (higher binds tighter), matching the parser's grammar.
PREC_ADD, PREC_MUL, PREC_UNARY, PREC_POW, PREC_ATOM = 1, 2, 3, 4, 9

_TABLE: tuple[Op, ...] = (
    Op(
        "neg", 1, operator.neg, lambda a, o: (-1.0,), lambda sp, a: -a,
        ("-1",), ("-1",), "negation -a", infix="-", prec=PREC_UNARY, latex="-{a}",
    ),
    Op(
        "add", 2, operator.add, lambda a, b, o: (1.0, 1.0), lambda sp, a, b: a + b,
        ("1", "1"), ("1", "1"), "addition a + b", infix="+", prec=PREC_ADD,
        latex="{a} + {b}",
    ),
    Op(
        "sub", 2, operator.sub, lambda a, b, o: (1.0, -1.0), lambda sp, a, b: a - b,
        ("1", "-1"), ("1", "-1"), "subtraction a - b", infix="-", prec=PREC_ADD,
        latex="{a} - {b}",
    ),
    Op(
        "mul", 2, operator.mul, lambda a, b, o: (b, a), lambda sp, a, b: a * b,
        ("{b}", "{a}"), ("{b}", "{a}"), "multiplication a * b", infix="*",
        prec=PREC_MUL, latex="{a} \\cdot {b}",
    ),
    Op(
        "div", 2, operator.truediv,
        lambda a, b, o: (1.0 / b, -o / b),
        lambda sp, a, b: a / b,
        ("1/{b}", "-{a}/{b}^2"), ("\\frac{{1}}{{{b}}}", "-\\frac{{{a}}}{{{b}^2}}"),
        "division a / b", infix="/", prec=PREC_MUL,
        latex="\\frac{{{a}}}{{{b}}}", domain=_div_domain,
    ),
    Op(
        "pow", 2, math.pow, _pow_partials, lambda sp, a, b: a**b,
        ("{b}*{a}^({b} - 1)", "{a}^{b}*log({a})"),
        ("{b}\\,{a}^{{{b}-1}}", "{a}^{{{b}}}\\ln {a}"),
        "power a ^ b (also a ** b and pow(a, b))", infix="^", prec=PREC_POW,
        latex="{{{a}}}^{{{b}}}", domain=_pow_domain, overflow=_pow_overflow,
        kink=_pow_kink,
        kink_doc="at x = 0: d/dx = y*0^(y-1) (0 when y = 0), d/dy = 0 for y >= 0; "
        "d/dy is undefined (nan) for x < 0",
        underflow=_underflow("pow"),
    ),
    Op(
        "exp", 1, _exp, lambda a, o: (o,), lambda sp, a: sp.exp(a),
        ("exp({a})",), ("e^{{{a}}}",), "exponential e^a", latex="e^{{{a}}}",
        underflow=_underflow("exp"),
    ),
    Op(
        "log", 1, math.log, lambda a, o: (1.0 / a,), lambda sp, a: sp.log(a),
        ("1/{a}",), ("\\frac{{1}}{{{a}}}",), "natural logarithm (alias ln)",
        latex="\\ln {a}", aliases=("ln",), domain=_log_domain,
    ),
    Op(
        "sqrt", 1, math.sqrt,
        lambda a, o: (0.5 / o if o else INF,),
        lambda sp, a: sp.sqrt(a),
        ("1/(2*sqrt({a}))",), ("\\frac{{1}}{{2\\sqrt{{{a}}}}}",), "square root",
        latex="\\sqrt{{{a}}}", domain=_nonneg_domain("sqrt"),
        kink=_kink_at_zero("sqrt'(0) = +inf (infinite slope; PyTorch gives inf)"),
        kink_doc="sqrt'(0) = +inf",
    ),
    Op(
        "sin", 1, math.sin, lambda a, o: (math.cos(a),), lambda sp, a: sp.sin(a),
        ("cos({a})",), ("\\cos {a}",), "sine (radians)", latex="\\sin {a}",
        domain=_periodic_domain("sin"),
    ),
    Op(
        "cos", 1, math.cos, lambda a, o: (-math.sin(a),), lambda sp, a: sp.cos(a),
        ("-sin({a})",), ("-\\sin {a}",), "cosine (radians)", latex="\\cos {a}",
        domain=_periodic_domain("cos"),
    ),
    Op(
        "tan", 1, math.tan, lambda a, o: (1.0 + o * o,), lambda sp, a: sp.tan(a),
        ("1 + tan({a})^2",), ("1 + \\tan^2 {a}",), "tangent (radians)",
        latex="\\tan {a}", domain=_periodic_domain("tan"),
    ),
    Op(
        "tanh", 1, math.tanh, lambda a, o: (1.0 - o * o,), lambda sp, a: sp.tanh(a),
        ("1 - tanh({a})^2",), ("1 - \\tanh^2 {a}",), "hyperbolic tangent",
        latex="\\tanh {a}",
    ),
    Op(
        "sigmoid", 1, _sigmoid, lambda a, o: (_sigmoid_slope(a),),
        lambda sp, a: 1 / (1 + sp.exp(-a)),
        ("sigmoid({a})*(1 - sigmoid({a}))",),
        ("\\sigma({a})\\,(1 - \\sigma({a}))",),
        "logistic sigmoid 1/(1 + e^-a), computed stably",
        latex="\\sigma({a})", underflow=_underflow("sigmoid"),
    ),
    Op(
        "relu", 1, _relu, lambda a, o: (1.0 if a > 0 else 0.0,),
        lambda sp, a: sp.Max(0, a),
        ("1 if {a} > 0 else 0",), ("[{a} > 0]",), "rectified linear unit max(0, a)",
        latex="\\mathrm{{relu}}({a})",
        kink=_kink_at_zero("relu'(0) = 0 (PyTorch convention)"),
        kink_doc="relu'(0) = 0",
    ),
    Op(
        "softplus", 1, _softplus, lambda a, o: (_sigmoid(a),),
        lambda sp, a: sp.log(1 + sp.exp(a)),
        ("sigmoid({a})",), ("\\sigma({a})",), "softplus log(1 + e^a), computed stably",
        latex="\\mathrm{{softplus}}({a})",
    ),
    Op(
        "abs", 1, math.fabs,
        lambda a, o: (1.0 if a > 0 else (-1.0 if a < 0 else 0.0),),
        lambda sp, a: sp.Abs(a),
        ("sign({a})",), ("\\operatorname{{sign}}({a})",), "absolute value",
        latex="\\left|{a}\\right|",
        kink=_kink_at_zero("abs'(0) = 0 (PyTorch convention)"),
        kink_doc="abs'(0) = 0",
    ),
    Op(
        "max", 2, _max, lambda a, b, o: _tie_partials(a, b, True),
        lambda sp, a, b: sp.Max(a, b),
        ("1 if {a} > {b} else 0 (0.5 on a tie)", "1 if {b} > {a} else 0 (0.5 on a tie)"),
        ("[{a} > {b}]", "[{b} > {a}]"), "larger of a and b",
        latex="\\max({a}, {b})", kink=_tie_kink("max"),
        kink_doc="a tie splits the gradient 0.5/0.5",
    ),
    Op(
        "min", 2, _min, lambda a, b, o: _tie_partials(a, b, False),
        lambda sp, a, b: sp.Min(a, b),
        ("1 if {a} < {b} else 0 (0.5 on a tie)", "1 if {b} < {a} else 0 (0.5 on a tie)"),
        ("[{a} < {b}]", "[{b} < {a}]"), "smaller of a and b",
        latex="\\min({a}, {b})", kink=_tie_kink("min"),
        kink_doc="a tie splits the gradient 0.5/0.5",
    ),
)

#: Every primitive by its canonical name.
OPS: dict[str, Op] = {op.name: op for op in _TABLE}

#: Infix operator symbol -> op name, for binary operators.
BINARY: dict[str, str] = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow", "**": "pow"}

#: Names callable as functions (canonical names, aliases; infix ops are not
#: callable except pow).
FUNCTIONS: dict[str, Op] = {}
for _op in _TABLE:
    if _op.is_function or _op.name == "pow":
        FUNCTIONS[_op.name] = _op
        for _alias in _op.aliases:
            FUNCTIONS[_alias] = _op

#: Named constants (a program may rebind them).
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def sympy_constant(sp: Any, name: str) -> Any:
    return {"pi": sp.pi, "e": sp.E}[name]
