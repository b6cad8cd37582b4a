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
from typing import Any, Callable, Sequence

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
        "pow", 2, math.pow, _pow_partials, lambda sp, a, b: a**b,
        ("{b}*{a}^({b} - 1)", "{a}^{b}*log({a})"),
        ("{b}\\,{a}^{{{b}-1}}", "{a}^{{{b}}}\\ln {a}"),
        "power a ^ b (also a ** b and pow(a, b))", infix="^", prec=PREC_POW,
        latex="{{{a}}}^{{{b}}}", domain=_pow_domain, overflow=_pow_overflow,
        kink=_pow_kink,
        kink_doc="at a = 0: ∂/∂a = b*0^(b-1) (0 when b = 0), ∂/∂b = 0 for b >= 0; "
        "∂/∂b is undefined (nan) for a < 0",
        underflow=_underflow("pow"),
        np_forward=lambda np, a, b: np.power(a, b), np_partials=_np_pow_partials, np_kink=_np_at_zero,
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
        "relu", 1, _relu, lambda a, o: (1.0 if a > 0 else 0.0,),
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
        lambda a, o: (1.0 if a > 0 else (-1.0 if a < 0 else 0.0),),
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
        np_forward=lambda np, a, b: np.where(a >= b, a, b),
        np_partials=lambda np, a, b, o: _np_tie_partials(np, a, b, True), np_kink=_np_tie,
    ),
    Op(
        "min", 2, _min, lambda a, b, o: _tie_partials(a, b, False),
        lambda sp, a, b: sp.Min(a, b),
        ("1 if {a} < {b} else 0 (0.5 on a tie)", "1 if {b} < {a} else 0 (0.5 on a tie)"),
        ("[{a} < {b}]", "[{b} < {a}]"), "smaller of a and b",
        latex="\\min({a}, {b})", kink=_tie_kink("min"),
        kink_doc="a tie splits the gradient 0.5/0.5",
        np_forward=lambda np, a, b: np.where(a <= b, a, b),
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


# --- tensor operations (vectors and matrices) --------------------------------
#
# Every op above applies entrywise to tensors, with NumPy broadcasting: its
# `np_forward` is the forward pass and upstream * `np_partials` the
# vector-Jacobian product (the tensor engine, `bpcalc.tensor`, undoes the
# broadcasting once, centrally). The ops below exist only for tensors: each
# has its forward function, one vector-Jacobian product per argument, its shape
# rule, its SymPy counterpart over NumPy object arrays of SymPy scalars (for
# the entry-by-entry check) and its rule in bpcalc's own notation (`bpcalc
# ops`). Like `np_forward`, they take the numpy module as first argument.


class ShapeError(ValueError):
    """A shape rule's refusal: the message names the operands; `hint` is a
    likely fix ("did you mean W.T @ x?") or ''."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


Shape = tuple[int, ...]


def shape_text(shape: Shape) -> str:
    """(2, 3) -> '2×3'; (3,) -> '3'; () -> 'scalar'."""
    return "scalar" if not shape else "×".join(map(str, shape))


def described(name: str, shape: Shape) -> str:
    """'W is 2×2', 'x has 3 entries', 's is a scalar'."""
    if not shape:
        return f"{name} is a scalar"
    if len(shape) == 1:
        return f"{name} has {shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"
    return f"{name} is {shape_text(shape)}"


def _axis(shape: Shape, axis: int | None, name: str) -> int | None:
    """A valid axis of `shape` (negative counted from the end), or ShapeError."""
    if axis is None:
        return None
    n = len(shape)
    if not -n <= axis < n:
        have = f"{name} has no axes (it is a scalar)" if n == 0 else (
            f"{described(name, shape)}, so axis is one of {', '.join(map(str, range(-n, n)))}")
        raise ShapeError(f"axis={axis} is out of range: {have}")
    return axis % n


def _reduce_shape(names: Sequence[str], shape: Shape, axis: int | None = None) -> Shape:
    k = _axis(shape, axis, names[0])
    return () if k is None else shape[:k] + shape[k + 1:]


def _last_axis_shape(names: Sequence[str], shape: Shape, axis: int = -1) -> Shape:
    if not shape:
        raise ShapeError(f"{names[0]} is a scalar: this works over a vector or the rows of a matrix")
    _axis(shape, axis, names[0])
    return shape


def _expand(np: Any, g: Any, shape: Shape, axis: int | None) -> Any:
    """g (the shape of a reduction's result) put back where it came from."""
    if axis is None:
        return np.broadcast_to(g, shape)
    return np.broadcast_to(np.expand_dims(g, axis % len(shape)), shape)


def _reduce_vjp(scale: Callable[[Shape, int | None], float]) -> Callable[..., tuple[Any]]:
    def vjp(np: Any, g: Any, x: Any, out: Any, axis: int | None = None) -> tuple[Any]:
        return (_expand(np, g, x.shape, axis) * scale(x.shape, axis),)

    return vjp


def _count(shape: Shape, axis: int | None) -> int:
    if axis is None:
        return max(1, math.prod(shape))
    return shape[axis % len(shape)]


def _t_sum(np: Any, x: Any, axis: int | None = None) -> Any:
    return np.sum(x, axis=axis)


def _t_mean(np: Any, x: Any, axis: int | None = None) -> Any:
    return np.sum(x, axis=axis) / _count(x.shape, axis)


def _reduce_extreme(bigger: bool) -> Callable[..., Any]:
    def forward(np: Any, x: Any, axis: int | None = None) -> Any:
        if np.isnan(x).any():  # nan compares false: it must not vanish in a max
            return np.sum(x * np.nan, axis=axis)
        return np.max(x, axis=axis) if bigger else np.min(x, axis=axis)

    return forward


def _reduce_extreme_vjp(np: Any, g: Any, x: Any, out: Any, axis: int | None = None) -> tuple[Any]:
    """Ties split the gradient evenly among the tied entries (PyTorch's rule
    for max/min over all entries, and the scalar max/min's 0.5/0.5)."""
    hit = (x == _expand(np, out, x.shape, axis)).astype(float)
    ties = hit.sum() if axis is None else np.expand_dims(hit.sum(axis=axis), axis % x.ndim)
    return (_expand(np, g, x.shape, axis) * hit / ties,)


def _reduce_extreme_sympy(bigger: bool) -> Callable[..., Any]:
    def build(sp: Any, np: Any, x: Any, axis: int | None = None) -> Any:
        pick = sp.Max if bigger else sp.Min
        if axis is None:
            return np.array(pick(*x.ravel().tolist()), dtype=object)
        moved = np.moveaxis(x, axis, -1)
        flat = moved.reshape(-1, moved.shape[-1])
        return np.array([pick(*row.tolist()) for row in flat], dtype=object).reshape(moved.shape[:-1])

    return build


def _logsumexp(np: Any, x: Any, axis: int = -1) -> Any:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m, axis=axis)


def _log_softmax(np: Any, x: Any, axis: int = -1) -> Any:
    return x - np.expand_dims(_logsumexp(np, x, axis), axis % x.ndim)


def _softmax(np: Any, x: Any, axis: int = -1) -> Any:
    return np.exp(_log_softmax(np, x, axis))


def _softmax_vjp(np: Any, g: Any, x: Any, out: Any, axis: int = -1) -> tuple[Any]:
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


def _log_softmax_vjp(np: Any, g: Any, x: Any, out: Any, axis: int = -1) -> tuple[Any]:
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


def _logsumexp_vjp(np: Any, g: Any, x: Any, out: Any, axis: int = -1) -> tuple[Any]:
    k = axis % x.ndim
    return (np.expand_dims(g, k) * np.exp(x - np.expand_dims(out, k)),)


def _sympy_log_softmax(sp: Any, np: Any, x: Any, axis: int = -1) -> Any:
    exp = np.vectorize(sp.exp, otypes=[object])
    log = np.vectorize(sp.log, otypes=[object])
    return x - log(np.sum(exp(x), axis=axis, keepdims=True))


def _sympy_logsumexp(sp: Any, np: Any, x: Any, axis: int = -1) -> Any:
    exp = np.vectorize(sp.exp, otypes=[object])
    log = np.vectorize(sp.log, otypes=[object])
    return log(np.sum(exp(x), axis=axis))


def _sympy_softmax(sp: Any, np: Any, x: Any, axis: int = -1) -> Any:
    exp = np.vectorize(sp.exp, otypes=[object])
    e = exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


# matrix product (PEP 465 / NumPy's matmul): a vector on the left is a row,
# on the right a column, and that axis is dropped from the result.

def _matmul_shape(names: Sequence[str], a: Shape, b: Shape) -> Shape:
    na, nb = names
    if not a or not b:
        scalar = na if not a else nb
        raise ShapeError(f"{scalar} is a scalar: @ multiplies vectors and matrices; use * to scale")
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        hint = ""
        if len(a) == 2 and a[-2] == inner_b:
            hint = f"did you mean {_transposed(na)} @ {nb}?"
        elif len(b) == 2 and b[-1] == inner_a:
            hint = f"did you mean {na} @ {_transposed(nb)}?"
        raise ShapeError(
            f"{described(na, a)} and {described(nb, b)}: the inner sizes {inner_a} and {inner_b} differ", hint)
    batch_a, batch_b = a[:-2], b[:-2]
    try:
        batch = _broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ShapeError(f"{described(na, a)} and {described(nb, b)}: the stacked dimensions do not broadcast") from None
    return batch + (a[-2:-1] if len(a) >= 2 else ()) + (b[-1:] if len(b) >= 2 else ())


def _transposed(name: str) -> str:
    return f"{name}.T" if name.replace("_", "").isalnum() else f"({name}).T"


def _broadcast_shapes(a: Shape, b: Shape) -> Shape:
    out = []
    for x, y in zip(reversed((1,) * (len(b) - len(a)) + a), reversed((1,) * (len(a) - len(b)) + b)):
        if x != y and x != 1 and y != 1:
            raise ValueError("shapes do not broadcast")
        out.append(max(x, y) if x != 0 and y != 0 else 0)
    return tuple(reversed(out))


def _matmul_vjp(np: Any, g: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    """dA = dC @ B.T, dB = A.T @ dC, with vectors as a row (left) or column (right)."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.reshape(g, np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1]))
    da = g2 @ np.swapaxes(b2, -1, -2)
    db = np.swapaxes(a2, -1, -2) @ g2
    da = _sum_to(np, da, a2.shape).reshape(a.shape)
    db = _sum_to(np, db, b2.shape).reshape(b.shape)
    return da, db


def _sum_to(np: Any, g: Any, shape: Shape) -> Any:
    """g summed over the axes that broadcasting added or stretched, to `shape`."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    stretched = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def _transpose_shape(names: Sequence[str], a: Shape) -> Shape:
    return tuple(reversed(a))


# cross-entropy with PyTorch's F.cross_entropy meaning: logits (C,) or (N, C);
# the target is class indices (shape (), or (N,)) or probabilities (the
# logits' shape); the mean over the batch.

def _ce_shape(names: Sequence[str], x: Shape, t: Shape) -> Shape:
    nx, nt = names
    if len(x) not in (1, 2):
        raise ShapeError(f"{described(nx, x)}: cross_entropy takes logits of shape (C,) or (N, C)")
    if t != x and t != x[:-1]:
        want = "a class index" if len(x) == 1 else f"{x[0]} class indices"
        raise ShapeError(
            f"{described(nx, x)} and {described(nt, t)}: the target is {want}, "
            f"or probabilities of the logits' shape {shape_text(x)}")
    return ()


def ce_indices(np: Any, x: Any, t: Any) -> Any | None:
    """The target as integer class indices when it is given as indices (its
    shape is the logits' shape without the class axis), else None."""
    if t.shape == x.shape:
        return None
    return t.astype(np.int64)


def ce_index_problem(np: Any, x: Any, t: Any) -> str | None:
    """Why the class-index target `t` is not valid for logits `x`, or None."""
    if t.shape == x.shape:
        return None
    c = x.shape[-1]
    flat = np.atleast_1d(t)
    bad = np.flatnonzero((flat != np.round(flat)) | (flat < 0) | (flat >= c))
    if bad.size:
        k = int(bad[0])
        return (f"class index {flat[k]:g} (entry {k}) is not a whole number from 0 to {c - 1}: "
                f"the logits have {c} classes")
    return None


def _ce_forward(np: Any, x: Any, t: Any) -> Any:
    logp = _log_softmax(np, x)
    idx = ce_indices(np, x, t)
    if idx is None:
        per = -np.sum(t * logp, axis=-1)
    elif x.ndim == 1:
        per = -logp[idx]
    else:
        per = -logp[np.arange(x.shape[0]), idx]
    return np.mean(per) if x.ndim == 2 else per


def _ce_vjp(np: Any, g: Any, x: Any, t: Any, out: Any) -> tuple[Any, Any]:
    n = x.shape[0] if x.ndim == 2 else 1
    logp = _log_softmax(np, x)
    p = np.exp(logp)
    idx = ce_indices(np, x, t)
    if idx is None:  # d/dx = (p * sum(t) - t) / N, d/dt = -log p / N
        return g * (p * np.sum(t, axis=-1, keepdims=True) - t) / n, g * (-logp) / n
    onehot = np.zeros_like(x)
    if x.ndim == 1:
        onehot[idx] = 1.0
    else:
        onehot[np.arange(x.shape[0]), idx] = 1.0
    return g * (p - onehot) / n, None  # class indices are data: no gradient


def _ce_sympy(sp: Any, np: Any, x: Any, t: Any) -> Any:
    logp = _sympy_log_softmax(sp, np, x)
    if t.shape == x.shape:
        per = -np.sum(t * logp, axis=-1)
    else:
        idx = np.vectorize(int, otypes=[object])(t)
        per = -logp[idx] if x.ndim == 1 else -logp[np.arange(x.shape[0]), idx.astype(int)]
    return np.array(np.sum(per) / x.shape[0] if x.ndim == 2 else per, dtype=object)


@dataclass(frozen=True)
class TensorOp:
    """An operation that exists only for tensors (matmul, transpose,
    reductions, softmax, cross-entropy).

    `forward(np, *args, **params)` computes it; `vjp(np, g, *args, out,
    **params)` gives each argument's vector-Jacobian product (None for an
    argument with no gradient, such as class indices); `shape(names, *shapes,
    **params)` is its shape rule (raises ShapeError naming the operands);
    `sympy(sp, np, *object arrays, **params)` its SymPy counterpart entry by
    entry. `rule` is each vector-Jacobian product in bpcalc's notation, `{a}`,
    `{b}` the arguments and `{out}` the result. `params` are its keyword
    arguments with their defaults.
    """

    name: str
    arity: int
    forward: Callable[..., Any]
    vjp: Callable[..., tuple[Any, ...]]
    shape: Callable[..., Shape]
    sympy: Callable[..., Any]
    rule: tuple[str, ...]
    doc: str
    params: tuple[tuple[str, Any], ...] = ()
    infix: str | None = None
    prec: int = PREC_ATOM
    postfix: bool = False
    kink_doc: str = ""


_TENSOR_TABLE: tuple[TensorOp, ...] = (
    TensorOp(
        "matmul", 2, lambda np, a, b: a @ b, _matmul_vjp, _matmul_shape,
        lambda sp, np, a, b: np.array(a @ b, dtype=object),
        ("d{a} = d{out} @ {b}.T", "d{b} = {a}.T @ d{out}"),
        "matrix product a @ b (vector @ vector is the dot product; a vector is a row on the left, a column on the right)",
        infix="@", prec=PREC_MUL,
    ),
    TensorOp(
        "transpose", 1, lambda np, a: np.transpose(a), lambda np, g, a, out: (np.transpose(g),),
        _transpose_shape, lambda sp, np, a: np.transpose(a),
        ("d{a} = d{out}.T",), "transpose a.T (also transpose(a)); a vector stays as it is", postfix=True,
        infix=".T",
    ),
    TensorOp(
        "sum", 1, _t_sum, _reduce_vjp(lambda shape, axis: 1.0), _reduce_shape,
        lambda sp, np, x, axis=None: np.array(np.sum(x, axis=axis), dtype=object),
        ("d{a} = d{out} copied to every entry summed",), "sum of the entries (sum(X, axis=0): down each column)",
        params=(("axis", None),),
    ),
    TensorOp(
        "mean", 1, _t_mean, _reduce_vjp(lambda shape, axis: 1.0 / _count(shape, axis)), _reduce_shape,
        lambda sp, np, x, axis=None: np.array(np.sum(x, axis=axis) / _count(x.shape, axis), dtype=object),
        ("d{a} = d{out} / n copied to every entry averaged",), "mean of the entries (mean(X, axis=1): of each row)",
        params=(("axis", None),),
    ),
    TensorOp(
        "amax", 1, _reduce_extreme(True), _reduce_extreme_vjp, _reduce_shape, _reduce_extreme_sympy(True),
        ("d{a} = d{out} at the largest entry (split evenly on a tie), 0 elsewhere",),
        "max(X) with one argument: the largest entry (axis= keyword as for sum)",
        params=(("axis", None),), kink_doc="a tie splits the gradient evenly among the tied entries",
    ),
    TensorOp(
        "amin", 1, _reduce_extreme(False), _reduce_extreme_vjp, _reduce_shape, _reduce_extreme_sympy(False),
        ("d{a} = d{out} at the smallest entry (split evenly on a tie), 0 elsewhere",),
        "min(X) with one argument: the smallest entry (axis= keyword as for sum)",
        params=(("axis", None),), kink_doc="a tie splits the gradient evenly among the tied entries",
    ),
    TensorOp(
        "softmax", 1, _softmax, _softmax_vjp, _last_axis_shape, _sympy_softmax,
        ("d{a} = {out} * (d{out} - sum(d{out} * {out}, axis))",),
        "softmax exp(x) / sum(exp(x)) over the last axis (each row of a matrix), computed stably",
        params=(("axis", -1),),
    ),
    TensorOp(
        "log_softmax", 1, _log_softmax, _log_softmax_vjp, _last_axis_shape, _sympy_log_softmax,
        ("d{a} = d{out} - softmax({a}) * sum(d{out}, axis)",),
        "log of softmax over the last axis, computed stably", params=(("axis", -1),),
    ),
    TensorOp(
        "logsumexp", 1, _logsumexp, _logsumexp_vjp, _reduce_shape, _sympy_logsumexp,
        ("d{a} = d{out} * softmax({a})",),
        "log(sum(exp(x))) over the last axis, computed stably", params=(("axis", -1),),
    ),
    TensorOp(
        "cross_entropy", 2, _ce_forward, _ce_vjp, _ce_shape, _ce_sympy,
        ("d{a} = d{out} * (softmax({a}) - onehot({b})) / N", "none: class indices are data "
         "(probability targets: d{b} = -d{out} * log_softmax({a}) / N)"),
        "cross_entropy(logits, target) as PyTorch's F.cross_entropy: logits (C,) or (N, C); target class "
        "indices (N,) or probabilities (N, C); the mean over the batch",
    ),
)

#: Tensor-only operations by name.
TENSOR_OPS: dict[str, TensorOp] = {op.name: op for op in _TENSOR_TABLE}
#: One-argument forms of two-argument functions: max(X) reduces.
REDUCING_FORMS: dict[str, str] = {"max": "amax", "min": "amin"}
for _top in _TENSOR_TABLE:
    if not _top.infix or _top.postfix:
        FUNCTIONS[_top.name] = _top  # type: ignore[assignment]
BINARY["@"] = "matmul"
