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
when one is raised). Local partials never raise, at any argument (inf and nan
included): they return IEEE inf or nan, so the engine's backward loop needs no
checks (sin'(inf) = cos(inf) is nan, not Python's ValueError).

Each op also has numpy versions (`np_forward`, `np_partials`, and `np_kink`
where it has kinks) for the vectorized engine (`bpcalc.vector`), which runs one
array per node over many points. They take the numpy module as their first
argument, as `sympy` takes SymPy, so that importing this table never imports
numpy. They never raise either: where the scalar function would raise they
give inf or nan, and the vectorized engine sends such points back to the
scalar engine, which reports them exactly as `bpcalc grad` does.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

INF = math.inf
NAN = math.nan

# --- scalar helpers ---------------------------------------------------------


def _exp(a: float) -> float:
    return math.exp(a)


def _div_partials(a: float, b: float, out: float) -> tuple[float, float]:
    """(1/b, -a/b^2 = -out/b); IEEE's ±inf at b = 0 rather than raising."""
    if b:
        return 1.0 / b, -out / b
    r = math.copysign(INF, b)
    return r, -out * r


def _reciprocal(a: float) -> float:
    """1/a; IEEE's ±inf at a = 0 rather than raising."""
    return 1.0 / a if a else math.copysign(INF, a)


def _integral(b: float) -> bool:
    """b is a finite whole number (never raises, unlike int(b) at inf or nan)."""
    return b % 1.0 == 0.0


def _pow(a: float, b: float) -> float:
    """a**b; nan if either is nan (IEEE's 1^nan = nan^0 = 1 would turn a nan
    into a number)."""
    if a != a or b != b:
        return NAN
    return math.pow(a, b)


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
    odd = _integral(b) and b % 2.0 == 1.0
    return -INF if a < 0 and odd else INF


def _pow_domain(a: float, b: float) -> str | None:
    if a == 0.0 and b < 0:
        return f"0 raised to a negative power ({_num(b)})"
    if a < 0 and not _integral(b):
        return f"negative base ({_num(a)}) raised to a non-integer power ({_num(b)}); bpcalc computes over the real numbers"
    return None


def _pow_partials(a: float, b: float, out: float) -> tuple[float, float]:
    # d/da = b * a^(b-1) (0 when b == 0, as PyTorch); d/db = a^b * log(a)
    # (0 at a == 0 for b >= 0, as PyTorch; nan for a negative base); nan
    # where the value is nan.
    if a != a or b != b:
        return NAN, NAN
    da = 0.0 if b == 0 else b * _safe_pow(a, b - 1.0)
    if a > 0:
        db = out * math.log(a)
    elif a == 0 and b >= 0:
        db = 0.0
    else:
        db = NAN
    return da, db


def _pow_kink(a: float, b: float) -> str | None:
    if a == 0.0 and math.isfinite(b) and not _integral(b):
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
    return 0.0 if a <= 0 else a  # relu(nan) = nan


def _step(a: float) -> float:
    """relu'(a): 1 above 0, 0 at and below, nan at nan."""
    return 1.0 if a > 0 else (0.0 if a <= 0 else NAN)


def _sign(a: float) -> float:
    """abs'(a): the sign, 0 at 0, nan at nan."""
    return 1.0 if a > 0 else (-1.0 if a < 0 else (0.0 if a == 0 else NAN))


def _max(a: float, b: float) -> float:
    return a if a >= b else (b if b > a else NAN)


def _min(a: float, b: float) -> float:
    return a if a <= b else (b if b < a else NAN)


def _tie_partials(a: float, b: float, bigger: bool) -> tuple[float, float]:
    if a == b:
        return 0.5, 0.5
    if a != a or b != b:
        return NAN, NAN
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


# --- numpy helpers (arrays in, arrays out; never raise) ----------------------


def _np_sigmoid(np: Any, a: Any) -> Any:
    z = np.exp(-np.abs(a))  # in (0, 1]: no overflow on either side
    r = 1.0 / (1.0 + z)
    return np.where(a >= 0, r, z * r)


def _np_sigmoid_slope(np: Any, a: Any) -> Any:
    z = np.exp(-np.abs(a))
    r = 1.0 / (1.0 + z)
    return z * r * r


def _np_softplus(np: Any, a: Any) -> Any:
    return np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0.0)


def _np_pow_partials(np: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    # The same conventions as `_pow_partials`, row by row.
    da = np.where(b == 0, 0.0, b * np.power(a, b - 1.0))
    db = np.where(a > 0, out * np.log(np.where(a > 0, a, 1.0)), np.where((a == 0) & (b >= 0), 0.0, NAN))
    return da, db


def _np_tie_partials(np: Any, a: Any, b: Any, bigger: bool) -> tuple[Any, Any]:
    tie = 0.5 * (a == b)
    return ((a > b) + tie, (b > a) + tie) if bigger else ((a < b) + tie, (b < a) + tie)


def _np_at_zero(np: Any, a: Any, *_exponent: Any) -> Any:
    return a == 0  # for pow: the base (the exponent decides, in `_pow_kink`)


def _np_tie(np: Any, a: Any, b: Any) -> Any:
    return a == b


# --- the table --------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One primitive operation.

    `partials(*args, out)` returns the local partial derivative of the output
    with respect to each argument, as a tuple; `rule` / `rule_latex` are the same
    formulas as templates over `{a}`, `{b}` (argument names) for display.
    `sympy(sp, *args)` builds the SymPy counterpart from SymPy arguments.

    `np_forward(np, *args)` and `np_partials(np, *args, out)` are the same
    functions over numpy arrays (one element per point; `np` is the numpy
    module); `np_kink(np, *args)` marks the points at or near a kink (a
    superset: the scalar `kink` decides). Keyword-only and required, so no op
    can be added without them.
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
    np_forward: Callable[..., Any] = field(kw_only=True)
    np_partials: Callable[..., tuple[Any, ...]] = field(kw_only=True)
    np_kink: Callable[..., Any] | None = field(default=None, kw_only=True)

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
        np_forward=lambda np, a: -a, np_partials=lambda np, a, o: (-1.0,),
    ),
    Op(
        "add", 2, operator.add, lambda a, b, o: (1.0, 1.0), lambda sp, a, b: a + b,
        ("1", "1"), ("1", "1"), "addition a + b", infix="+", prec=PREC_ADD,
        latex="{a} + {b}",
        np_forward=lambda np, a, b: a + b, np_partials=lambda np, a, b, o: (1.0, 1.0),
    ),
    Op(
        "sub", 2, operator.sub, lambda a, b, o: (1.0, -1.0), lambda sp, a, b: a - b,
        ("1", "-1"), ("1", "-1"), "subtraction a - b", infix="-", prec=PREC_ADD,
        latex="{a} - {b}",
        np_forward=lambda np, a, b: a - b, np_partials=lambda np, a, b, o: (1.0, -1.0),
    ),
    Op(
        "mul", 2, operator.mul, lambda a, b, o: (b, a), lambda sp, a, b: a * b,
        ("{b}", "{a}"), ("{b}", "{a}"), "multiplication a * b", infix="*",
        prec=PREC_MUL, latex="{a} \\cdot {b}",
        np_forward=lambda np, a, b: a * b, np_partials=lambda np, a, b, o: (b, a),
    ),
    Op(
        "div", 2, operator.truediv,
        _div_partials,
        lambda sp, a, b: a / b,
        ("1/{b}", "-{a}/{b}^2"), ("\\frac{{1}}{{{b}}}", "-\\frac{{{a}}}{{{b}^2}}"),
        "division a / b", infix="/", prec=PREC_MUL,
        latex="\\frac{{{a}}}{{{b}}}", domain=_div_domain,
        np_forward=lambda np, a, b: a / b, np_partials=lambda np, a, b, o: (1.0 / b, -o / b),
    ),
    Op(
        "pow", 2, _pow, _pow_partials, lambda sp, a, b: a**b,
        ("{b}*{a}^({b} - 1)", "{a}^{b}*log({a})"),
        ("{b}\\,{a}^{{{b}-1}}", "{a}^{{{b}}}\\ln {a}"),
        "power a ^ b (also a ** b and pow(a, b))", infix="^", prec=PREC_POW,
        latex="{{{a}}}^{{{b}}}", domain=_pow_domain, overflow=_pow_overflow,
        kink=_pow_kink,
        kink_doc="at a = 0: ∂/∂a = b*0^(b-1) (0 when b = 0), ∂/∂b = 0 for b >= 0; "
        "∂/∂b is undefined (nan) for a < 0",
        underflow=_underflow("pow"),
        np_forward=lambda np, a, b: np.where((a == a) & (b == b), np.power(a, b), NAN),
        np_partials=_np_pow_partials, np_kink=_np_at_zero,
    ),
    Op(
        "exp", 1, _exp, lambda a, o: (o,), lambda sp, a: sp.exp(a),
        ("exp({a})",), ("e^{{{a}}}",), "exponential e^a", latex="e^{{{a}}}",
        underflow=_underflow("exp"),
        np_forward=lambda np, a: np.exp(a), np_partials=lambda np, a, o: (o,),
    ),
    Op(
        "log", 1, math.log, lambda a, o: (_reciprocal(a),), lambda sp, a: sp.log(a),
        ("1/{a}",), ("\\frac{{1}}{{{a}}}",), "natural logarithm (alias ln)",
        latex="\\ln {a}", aliases=("ln",), domain=_log_domain,
        np_forward=lambda np, a: np.log(a), np_partials=lambda np, a, o: (1.0 / a,),
    ),
    Op(
        "sqrt", 1, math.sqrt,
        lambda a, o: (0.5 / o if o else INF,),
        lambda sp, a: sp.sqrt(a),
        ("1/(2*sqrt({a}))",), ("\\frac{{1}}{{2\\sqrt{{{a}}}}}",), "square root",
        latex="\\sqrt{{{a}}}", domain=_nonneg_domain("sqrt"),
        kink=_kink_at_zero("sqrt'(0) = +inf (infinite slope; PyTorch gives inf)"),
        kink_doc="sqrt'(0) = +inf",
        np_forward=lambda np, a: np.sqrt(a), np_partials=lambda np, a, o: (0.5 / o,), np_kink=_np_at_zero,
    ),
    Op(
        "sin", 1, math.sin, lambda a, o: (math.cos(a) if a - a == 0.0 else NAN,), lambda sp, a: sp.sin(a),
        ("cos({a})",), ("\\cos {a}",), "sine (radians)", latex="\\sin {a}",
        domain=_periodic_domain("sin"),
        np_forward=lambda np, a: np.sin(a), np_partials=lambda np, a, o: (np.cos(a),),
    ),
    Op(
        "cos", 1, math.cos, lambda a, o: (-math.sin(a) if a - a == 0.0 else NAN,), lambda sp, a: sp.cos(a),
        ("-sin({a})",), ("-\\sin {a}",), "cosine (radians)", latex="\\cos {a}",
        domain=_periodic_domain("cos"),
        np_forward=lambda np, a: np.cos(a), np_partials=lambda np, a, o: (-np.sin(a),),
    ),
    Op(
        "tan", 1, math.tan, lambda a, o: (1.0 + o * o,), lambda sp, a: sp.tan(a),
        ("1 + tan({a})^2",), ("1 + \\tan^2 {a}",), "tangent (radians)",
        latex="\\tan {a}", domain=_periodic_domain("tan"),
        np_forward=lambda np, a: np.tan(a), np_partials=lambda np, a, o: (1.0 + o * o,),
    ),
    Op(
        "tanh", 1, math.tanh, lambda a, o: (1.0 - o * o,), lambda sp, a: sp.tanh(a),
        ("1 - tanh({a})^2",), ("1 - \\tanh^2 {a}",), "hyperbolic tangent",
        latex="\\tanh {a}",
        np_forward=lambda np, a: np.tanh(a), np_partials=lambda np, a, o: (1.0 - o * o,),
    ),
    Op(
        "sigmoid", 1, _sigmoid, lambda a, o: (_sigmoid_slope(a),),
        lambda sp, a: 1 / (1 + sp.exp(-a)),
        ("sigmoid({a})*(1 - sigmoid({a}))",),
        ("\\sigma({a})\\,(1 - \\sigma({a}))",),
        "logistic sigmoid 1/(1 + e^-a), computed stably",
        latex="\\sigma({a})", underflow=_underflow("sigmoid"),
        np_forward=_np_sigmoid, np_partials=lambda np, a, o: (_np_sigmoid_slope(np, a),),
    ),
    Op(
        "relu", 1, _relu, lambda a, o: (_step(a),),
        lambda sp, a: sp.Max(0, a),
        ("1 if {a} > 0 else 0",), ("[{a} > 0]",), "rectified linear unit max(0, a)",
        latex="\\mathrm{{relu}}({a})",
        kink=_kink_at_zero("relu'(0) = 0 (PyTorch convention)"),
        kink_doc="relu'(0) = 0",
        np_forward=lambda np, a: np.maximum(a, 0.0), np_partials=lambda np, a, o: (1.0 * (a > 0),),
        np_kink=_np_at_zero,
    ),
    Op(
        "softplus", 1, _softplus, lambda a, o: (_sigmoid(a),),
        lambda sp, a: sp.log(1 + sp.exp(a)),
        ("sigmoid({a})",), ("\\sigma({a})",), "softplus log(1 + e^a), computed stably",
        latex="\\mathrm{{softplus}}({a})",
        np_forward=_np_softplus, np_partials=lambda np, a, o: (_np_sigmoid(np, a),),
    ),
    Op(
        "abs", 1, math.fabs,
        lambda a, o: (_sign(a),),
        lambda sp, a: sp.Abs(a),
        ("sign({a})",), ("\\operatorname{{sign}}({a})",), "absolute value",
        latex="\\left|{a}\\right|",
        kink=_kink_at_zero("abs'(0) = 0 (PyTorch convention)"),
        kink_doc="abs'(0) = 0",
        np_forward=lambda np, a: np.abs(a), np_partials=lambda np, a, o: (np.sign(a),), np_kink=_np_at_zero,
    ),
    Op(
        "max", 2, _max, lambda a, b, o: _tie_partials(a, b, True),
        lambda sp, a, b: sp.Max(a, b),
        ("1 if {a} > {b} else 0 (0.5 on a tie)", "1 if {b} > {a} else 0 (0.5 on a tie)"),
        ("[{a} > {b}]", "[{b} > {a}]"), "larger of a and b",
        latex="\\max({a}, {b})", kink=_tie_kink("max"),
        kink_doc="a tie splits the gradient 0.5/0.5",
        np_forward=lambda np, a, b: np.where(a >= b, a, np.where(a < b, b, NAN)),
        np_partials=lambda np, a, b, o: _np_tie_partials(np, a, b, True), np_kink=_np_tie,
    ),
    Op(
        "min", 2, _min, lambda a, b, o: _tie_partials(a, b, False),
        lambda sp, a, b: sp.Min(a, b),
        ("1 if {a} < {b} else 0 (0.5 on a tie)", "1 if {b} < {a} else 0 (0.5 on a tie)"),
        ("[{a} < {b}]", "[{b} < {a}]"), "smaller of a and b",
        latex="\\min({a}, {b})", kink=_tie_kink("min"),
        kink_doc="a tie splits the gradient 0.5/0.5",
        np_forward=lambda np, a, b: np.where(a <= b, a, np.where(a > b, b, NAN)),
        np_partials=lambda np, a, b, o: _np_tie_partials(np, a, b, False), np_kink=_np_tie,
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
