"""The table of primitive operations: every op is defined here, once.

Each `Op` holds everything the rest of bpcalc needs to know about it: how the
user writes it, its forward function, its local partial derivatives, its SymPy
counterpart (for the independent check), how it prints as text and LaTeX, its
domain and overflow behaviour, and its non-differentiable points ("kinks") with
the convention used there. Parser, engine, verifier, renderers and `bpcalc ops`
all read `OPS`; adding a function is one entry here plus its tests.

Conventions at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, max/min ties
split the gradient 0.5/0.5, d(x^y)/dy = 0 at x = 0 (for y >= 0), sqrt'(0) = +inf;
a k-way max/min tie gives each 1/k (amax), sign'(0) = 0, leaky_relu'(0) and
elu'(0) are the slopes on the left, atan2's partials at (0, 0) are 0.

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

from .i18n import N_, _, ngettext

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
        return _("0 raised to a negative power ({b})").format(b=_num(b))
    if a < 0 and not _integral(b):
        return _("negative base ({a}) raised to a non-integer power ({b}); bpcalc computes over the real "
                 "numbers").format(a=_num(a), b=_num(b))
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
        return _("x^y at x = 0 with non-integer y = {b}: one-sided; d/dx = {slope}, d/dy = 0 (PyTorch "
                 "convention)").format(b=_num(b), slope=slope)
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
    return 0.0 if a < 0 else a  # relu(nan) = nan; relu(-0.0) = -0.0, as PyTorch


def _step(a: float) -> float:
    """relu'(a): 1 above 0, 0 at and below, nan at nan."""
    return 1.0 if a > 0 else (0.0 if a <= 0 else NAN)


def _sign(a: float) -> float:
    """abs'(a): the sign, 0 at 0, nan at nan."""
    return 1.0 if a > 0 else (-1.0 if a < 0 else (0.0 if a == 0 else NAN))


def _max(*xs: float) -> float:
    if len(xs) == 2:
        a, b = xs
        return a if a >= b else (b if b > a else NAN)
    return max(xs) if all(x == x for x in xs) else NAN


def _min(*xs: float) -> float:
    if len(xs) == 2:
        a, b = xs
        return a if a <= b else (b if b < a else NAN)
    return min(xs) if all(x == x for x in xs) else NAN


def _tie_partials(bigger: bool) -> Callable[..., tuple[float, ...]]:
    """Partials of max / min over two or more arguments (then `out`): 1 for
    the winner; a tie among k arguments gives each of them 1/k (PyTorch's
    rule for max / min of two tensors and for amax / amin)."""

    def partials(*args: float) -> tuple[float, ...]:
        if len(args) == 3:  # the common case: two arguments
            a, b, _out = args
            if a == b:
                return 0.5, 0.5
            if a != a or b != b:  # a nan stays a nan
                return NAN, NAN
            first = (a > b) if bigger else (a < b)
            return (1.0, 0.0) if first else (0.0, 1.0)
        *xs, out = args
        tied = [1.0 if x == out else 0.0 for x in xs]
        k = sum(tied)
        return tuple(t / k for t in tied) if k else tuple(NAN for _ in xs)

    return partials


def _num(v: float) -> str:
    return format(v, ".6g")


def _nonneg_domain(fname: str) -> Callable[[float], str | None]:
    def domain(a: float) -> str | None:
        if a < 0:
            return _("{f} of a negative number ({a})").format(f=fname, a=_num(a))
        return None

    return domain


def _logarithm_domain(fname: str, pole: float = 0.0) -> Callable[[float], str | None]:
    """A logarithm's domain: -inf at `pole` (log(0), log1p(-1)), undefined below."""

    def domain(a: float) -> str | None:
        if a < pole:
            if pole == 0:
                return _("{f} of a negative number ({a})").format(f=fname, a=_num(a))
            return _("{f} of a number less than {pole} ({a})").format(f=fname, pole=_num(pole), a=_num(a))
        if a == pole:
            return _("{f} of {a} (it is -inf)").format(f=fname, a=_num(pole))
        return None

    return domain


_log_domain = _logarithm_domain("log")


def _periodic_domain(fname: str) -> Callable[[float], str | None]:
    def domain(a: float) -> str | None:
        if math.isinf(a):
            return _("{f} of {a}").format(f=fname, a=_num(a))
        return None

    return domain


def _div_domain(a: float, b: float) -> str | None:
    return _("division by zero") if b == 0 else None


def _no_domain(*args: float) -> str | None:
    return None


def _overflow_inf(*args: float) -> float:
    return INF


def _kink_at_zero(message: str) -> Callable[[float], str | None]:
    """`message` (marked with N_, translated when it is said) at 0."""
    def kink(a: float) -> str | None:
        return _(message) if a == 0 else None

    return kink


def _tie_kink(fname: str, pick: Callable[..., float]) -> Callable[..., str | None]:
    def kink(*xs: float) -> str | None:
        if len(xs) == 2:
            a, b = xs
            if a == b:
                return _("{f} tie ({a} = {b}): gradient split 0.5/0.5 (PyTorch convention)").format(
                    f=fname, a=_num(a), b=_num(b))
            return None
        best = pick(xs)
        k = sum(1 for x in xs if x == best)
        if k > 1:
            return _("{f} tie: {k} of the {n} arguments equal {best}; gradient split 1/{k} each (PyTorch "
                     "convention)").format(f=fname, k=k, n=len(xs), best=_num(best))
        return None

    return kink


def _underflow(fname: str, exact_at_zero: bool = False) -> Callable[..., str | None]:
    """A 0 from finite arguments is an underflow (exp, sigmoid never reach
    0); with `exact_at_zero`, not when the first argument is 0 (0^2 is 0)."""
    def check(out: float, *args: float) -> str | None:
        if out == 0.0 and all(math.isfinite(x) for x in args) and not (exact_at_zero and args[0] == 0):
            shown = ", ".join(_num(x) for x in args)
            return _("{call} underflows to 0 in double precision").format(call=f"{fname}({shown})")
        return None

    return check


# --- numpy helpers (arrays in, arrays out; never raise) ----------------------


def _np_sigmoid(np: Any, a: Any) -> Any:
    return _np_sigmoid_kept(np, a)[0]


def _np_sigmoid_kept(np: Any, a: Any) -> tuple[Any, tuple[Any, Any]]:
    """sigmoid(a), and what its slope is made of (z, r): kept by the tensor
    engine for the backward pass."""
    z = np.exp(-np.abs(a))  # in (0, 1]: no overflow on either side
    r = 1.0 / (1.0 + z)
    return np.where(a >= 0, r, z * r), (z, r)


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


def _np_tie_partials(bigger: bool) -> Callable[..., tuple[Any, ...]]:
    def partials(np: Any, *args: Any) -> tuple[Any, ...]:
        if len(args) == 3:
            a, b, _out = args
            tie = 0.5 * (a == b)
            return ((a > b) + tie, (b > a) + tie) if bigger else ((a < b) + tie, (b < a) + tie)
        *xs, out = args
        tied = [1.0 * (x == out) for x in xs]
        k = sum(tied)
        return tuple(t / k for t in tied)

    return partials


def _np_extreme(pick: str) -> Callable[..., Any]:
    def forward(np: Any, *xs: Any) -> Any:
        if len(xs) == 2:
            a, b = xs
            # a nan compares false both ways: it stays a nan, never the other argument
            return np.where(a >= b, a, np.where(a < b, b, NAN)) if pick == "max" else (
                np.where(a <= b, a, np.where(a > b, b, NAN)))
        reduce = np.maximum if pick == "max" else np.minimum
        out = xs[0]
        for x in xs[1:]:
            out = reduce(out, x)
        return out

    return forward


def _np_at_zero(np: Any, a: Any, *_exponent: Any) -> Any:
    return a == 0  # for pow: the base (the exponent decides, in `_pow_kink`)


def _np_tie(np: Any, *xs: Any) -> Any:
    if len(xs) == 2:
        return xs[0] == xs[1]
    out = _np_extreme("max")(np, *xs)
    low = _np_extreme("min")(np, *xs)
    return (sum(1 * (x == out) for x in xs) > 1) | (sum(1 * (x == low) for x in xs) > 1)


# --- helpers of the course functions (trigonometric, hyperbolic, logarithms,
# activations); scalar first, then numpy ------------------------------------

_LN10 = math.log(10.0)
_LN2 = math.log(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _saturating(fn: Callable[[float], float], odd: bool) -> Callable[[float], float]:
    """fn, giving ±inf where it overflows instead of raising (for partials,
    which never raise): -inf for negative arguments of odd functions."""

    def safe(a: float) -> float:
        try:
            return fn(a)
        except OverflowError:
            return math.copysign(INF, a) if odd else INF

    return safe


_exp_or_inf = _saturating(math.exp, False)
_cosh_or_inf = _saturating(math.cosh, False)
_sinh_or_inf = _saturating(math.sinh, True)


def _odd_overflow(a: float) -> float:
    return math.copysign(INF, a)


def _rsqrt_product(u: float, v: float) -> float:
    """1/sqrt(u*v) for u, v >= 0 without forming u*v (which cancels or
    overflows): +inf when one is 0, nan when one is negative or nan."""
    if u > 0 and v > 0:
        return 1.0 / (math.sqrt(u) * math.sqrt(v))
    if u >= 0 and v >= 0:
        return INF
    return NAN


def _interval_domain(fname: str, low: float, high: float, closed: bool) -> Callable[[float], str | None]:
    def domain(a: float) -> str | None:
        if closed and not low <= a <= high:
            return _("{f} of a number outside {interval} ({a})").format(
                f=fname, interval=f"[{_num(low)}, {_num(high)}]", a=_num(a))
        if not closed and a in (low, high):
            return _("{f} of {a} (it is {inf})").format(f=fname, a=_num(a), inf="-inf" if a == low else "+inf")
        if not closed and not low < a < high:
            return _("{f} of a number outside {interval} ({a})").format(
                f=fname, interval=f"({_num(low)}, {_num(high)})", a=_num(a))
        return None

    return domain


def _acosh_domain(a: float) -> str | None:
    return _("{f} of a number less than {pole} ({a})").format(f="acosh", pole=1, a=_num(a)) if a < 1 else None


def _infinite_slope(fname: str, points: tuple[float, ...], sign: str) -> Callable[[float], str | None]:
    def kink(a: float) -> str | None:
        if a in points:
            return _("{slope} = {inf} (infinite slope; PyTorch gives {inf})").format(
                slope=f"{fname}'({_num(a)})", inf=f"{sign}inf")
        return None

    return kink


def _atan2_partials(y: float, x: float, out: float) -> tuple[float, float]:
    # x/(x^2 + y^2), -y/(x^2 + y^2); where the squares overflow or lose digits
    # to underflow, divided by the hypotenuse twice; 0 at the origin (as PyTorch)
    s = x * x + y * y
    if 1e-290 < s < INF:
        return x / s, -y / s
    h = math.hypot(y, x)
    if h == 0.0:
        return 0.0, 0.0
    if not math.isfinite(h):
        if math.isinf(x) != math.isinf(y) and x == x and y == y:  # one side infinite: both slopes tend to 0
            return 0.0, 0.0
        return NAN, NAN
    return x / h / h, -y / h / h


def _origin_kink(fname: str, partials: str) -> Callable[[float, float], str | None]:
    def kink(a: float, b: float) -> str | None:
        if a == 0 and b == 0:
            return _("{call} is not differentiable; {partials} (PyTorch convention)").format(
                call=f"{fname}(0, 0)", partials=_(partials))
        return None

    return kink


def _hypot(a: float, b: float) -> float:
    # IEEE's hypot(inf, nan) is inf; bpcalc keeps a nan a nan
    return math.hypot(a, b) if a == a and b == b else NAN


def _hypot_partials(a: float, b: float, out: float) -> tuple[float, float]:
    if out == 0.0 or out != out:
        return NAN, NAN  # 0/0 at the origin, as PyTorch
    if math.isinf(out):
        if math.isinf(a) != math.isinf(b):  # one side infinite: the slopes tend to its sign and 0
            return (math.copysign(1.0, a), 0.0) if math.isinf(a) else (0.0, math.copysign(1.0, b))
        if math.isinf(a):
            return NAN, NAN  # both infinite: no limit
        half = math.hypot(a / 2, b / 2)
        if half == 0.0:  # an output that does not belong to these arguments (the origin): 0/0
            return NAN, NAN
        return a / half / 2, b / half / 2  # finite, overflowed
    return a / out, b / out


def _np_hypot_partials(np: Any, a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    """`_hypot_partials` entry by entry."""
    inf_a, inf_b = np.isinf(a), np.isinf(b)
    one = inf_a != inf_b
    half = np.hypot(a / 2, b / 2) * 2  # finite where the arguments are finite
    scale = np.where(np.isinf(out) & ~inf_a & ~inf_b, half, out)
    da = np.where(one, np.where(inf_a, np.sign(a), 0.0), a / scale)
    db = np.where(one, np.where(inf_b, np.sign(b), 0.0), b / scale)
    return da, db


def _sign(a: float) -> float:
    return 1.0 if a > 0 else (-1.0 if a < 0 else (0.0 if a == 0 else NAN))  # sign(-0.0) = 0.0, as PyTorch


def _leaky_relu(a: float, slope: float) -> float:
    return a if a > 0 and slope == slope else a * slope  # a nan slope stays a nan


def _leaky_relu_kink(a: float, slope: float) -> str | None:
    if a == 0 and slope != 1:
        return _("{slope}, the slope on the left (PyTorch convention)").format(slope=f"leaky_relu'(0) = {_num(slope)}")
    return None


def _elu(a: float, alpha: float) -> float:
    if alpha != alpha:
        return NAN  # a nan alpha stays a nan
    return a if a > 0 else alpha * math.expm1(a)


def _elu_partials(a: float, alpha: float, out: float) -> tuple[float, float]:
    if alpha != alpha:
        return NAN, NAN
    if a > 0:
        return 1.0, 0.0
    return alpha * math.exp(a), math.expm1(a)


def _elu_kink(a: float, alpha: float) -> str | None:
    if a == 0 and alpha != 1:
        return _("{slope}, the slope on the left (PyTorch convention)").format(
            slope=f"elu'(0) = alpha = {_num(alpha)}")
    return None


def _gelu(a: float) -> float:
    # x * Phi(x) with Phi from erfc: accurate for negative x, where 1 + erf(x)
    # cancels; 0 (not nan) at -800, x at +800
    return 0.5 * a * math.erfc(-a * math.sqrt(0.5))


def _gelu_slope(a: float) -> float:
    # Phi(x) + x * phi(x); phi underflows to 0 beyond |x| = 40, where x * phi(x)
    # would be inf * 0 at x = ±inf
    density = a * math.exp(-0.5 * a * a) * _INV_SQRT_2PI if abs(a) < 40.0 else 0.0
    return 0.5 * math.erfc(-a * math.sqrt(0.5)) + density


def _silu_slope(a: float) -> float:
    # sigma(x) + x * sigma(x) * sigma(-x): no cancellation, finite at ±800
    return _sigmoid(a) + a * _sigmoid_slope(a)


def _softsign(a: float) -> float:
    if math.isinf(a):
        return math.copysign(1.0, a)
    return a / (1.0 + abs(a))


def _softsign_slope(a: float) -> float:
    # 1/(1 + |x|)^2 as a square of the reciprocal: neither overflows far out
    r = 1.0 / (1.0 + abs(a))
    return r * r


def _zero_at_zero_underflow(fname: str) -> Callable[[float, float], str | None]:
    """Underflow for functions that are 0 only at 0 (gelu, silu)."""

    def check(out: float, a: float) -> str | None:
        if out == 0.0 and a != 0 and math.isfinite(a):
            return _("{call} underflows to 0 in double precision").format(call=f"{fname}({_num(a)})")
        return None

    return check


def _np_map(fn: Callable[[float], float]) -> Callable[..., Any]:
    """A math-module function over a numpy array (numpy has no erf)."""

    def apply(np: Any, a: Any) -> Any:
        return np.vectorize(fn, otypes=[float])(a)

    return apply


_np_erf = _np_map(math.erf)
_np_erfc = _np_map(math.erfc)


def _np_rsqrt_product(np: Any, u: Any, v: Any) -> Any:
    return 1.0 / (np.sqrt(u) * np.sqrt(v))


def _np_gelu_slope(np: Any, a: Any) -> Any:
    density = np.where(np.abs(a) < 40.0, a * np.exp(-0.5 * np.minimum(a * a, 1e4)) * _INV_SQRT_2PI, 0.0)
    return 0.5 * _np_erfc(np, -a * math.sqrt(0.5)) + density


def _np_atan2_partials(np: Any, y: Any, x: Any, out: Any) -> tuple[Any, Any]:
    s = x * x + y * y
    h = np.hypot(y, x)
    h = np.where(h == 0, INF, h)  # 0 at the origin, as `_atan2_partials`
    plain = (s > 1e-290) & (s < INF)
    s = np.where(plain, s, 1.0)
    flat = np.isinf(x) != np.isinf(y)  # one side infinite: both slopes tend to 0
    return (np.where(plain, x / s, np.where(flat, 0.0, x / h / h)),
            np.where(plain, -y / s, np.where(flat, 0.0, -y / h / h)))


def _np_origin(np: Any, a: Any, b: Any) -> Any:
    return (a == 0) & (b == 0)


def _np_at(points: tuple[float, ...]) -> Callable[..., Any]:
    def marks(np: Any, a: Any) -> Any:
        return np.isin(a, points)

    return marks


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
    #: Values of trailing arguments a call may leave out (leaky_relu's slope):
    #: lowering fills them in as constant nodes.
    defaults: tuple[float, ...] = ()
    #: For ops that take `arity` or more arguments (max, min): templates for a
    #: node with more than `arity` arguments, over {x} (the argument) and
    #: {args} (all of them, comma-separated): (rule, rule_latex, latex). The
    #: op's functions then take any number of arguments (then `out`).
    variadic: tuple[str, str, str] | None = None
    np_forward: Callable[..., Any] = field(kw_only=True)
    np_partials: Callable[..., tuple[Any, ...]] = field(kw_only=True)
    np_kink: Callable[..., Any] | None = field(default=None, kw_only=True)
    #: The numpy ufunc that is np_forward, bit for bit ("multiply"), or "":
    #: the vectorized engine then writes the result into a buffer it reuses.
    np_ufunc: str = field(default="", kw_only=True)
    #: The result is >= 0 wherever it is defined (exp, sqrt, abs, ...): what
    #: the vectorized engine knows of signs without looking at a point.
    nonnegative: bool = field(default=False, kw_only=True)
    #: The forward pass keeping what the partials reuse, and the partials
    #: from it: `(np_forward_kept(np, *args) -> (out, kept),
    #: np_partials_kept(np, kept, *args, out))`, the same numbers as
    #: np_forward and np_partials (the tensor engine's backward pass).
    np_kept: tuple[Callable[..., Any], Callable[..., tuple[Any, ...]]] | None = field(default=None, kw_only=True)
    #: The local partials as bpcalc programs over {a}, {b} where `rule` is
    #: prose (relu's "1 if a > 0 else 0"): what `explain` runs for a tensor
    #: program's backward steps. Empty: `rule` itself is a program.
    rule_program: tuple[str, ...] = field(default=(), kw_only=True)

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

    @property
    def min_args(self) -> int:
        """The fewest arguments a call may give."""
        return self.arity - len(self.defaults)

    def accepts(self, nargs: int) -> bool:
        """Can a call give this many arguments?"""
        return self.min_args <= nargs and (nargs <= self.arity or self.variadic is not None)

    def arguments(self) -> str:
        """How many arguments a call takes, in words: '1 argument', '1 or 2
        arguments', '2 or more arguments' (in the language spoken)."""
        if self.variadic is not None:
            return _("{count} or more arguments").format(count=self.arity)
        if self.defaults:
            return _("{low} or {high} arguments").format(low=self.min_args, high=self.arity)
        return ngettext("{count} argument", "{count} arguments", self.arity).format(count=self.arity)

    def formula(self, position: int, names: Sequence[str], latex: bool = False) -> str:
        """The local derivative with respect to argument `position`, over the
        arguments' names (from `rule` / `rule_latex`)."""
        if len(names) > self.arity and self.variadic is not None:
            template = self.variadic[1 if latex else 0]
            return template.format(x=names[position], args=", ".join(names))
        rules = self.rule_latex if latex else self.rule
        return rules[position].format(**dict(zip("ab", names)))

    def latex_call(self, names: Sequence[str]) -> str | None:
        """LaTeX for a node with more arguments than `arity`, or None."""
        if len(names) > self.arity and self.variadic is not None:
            return self.variadic[2].format(args=", ".join(names))
        return None


#: Printing precedences (higher binds tighter), matching the parser's grammar.
PREC_ADD, PREC_MUL, PREC_UNARY, PREC_POW, PREC_ATOM = 1, 2, 3, 4, 9

def _extreme(name: str, bigger: bool) -> Op:
    """max or min, of two arguments or more (a k-way tie gives each 1/k)."""
    cmp = ">" if bigger else "<"
    return Op(
        name, 2, _max if bigger else _min, _tie_partials(bigger),
        (lambda sp, *xs: sp.Max(*xs)) if bigger else (lambda sp, *xs: sp.Min(*xs)),
        (f"1 if {{a}} {cmp} {{b}} else 0 (0.5 on a tie)", f"1 if {{b}} {cmp} {{a}} else 0 (0.5 on a tie)"),
        (f"[{{a}} {cmp} {{b}}]", f"[{{b}} {cmp} {{a}}]"),
        N_("larger of a and b; max(a, b, c, …) the largest of all") if bigger
        else N_("smaller of a and b; min(a, b, c, …) the smallest of all"),
        latex=f"\\{name}({{a}}, {{b}})", kink=_tie_kink(name, max if bigger else min),
        kink_doc=N_("a tie splits the gradient evenly: 0.5/0.5, 1/k each for a k-way tie"),
        variadic=(f"1 if {{x}} = {name}({{args}}) else 0 (1/k on a k-way tie)",
                  f"[{{x}} = \\{name}({{args}})] / k", f"\\{name}({{args}})"),
        np_forward=_np_extreme(name), np_partials=_np_tie_partials(bigger), np_kink=_np_tie,
    )


_TABLE: tuple[Op, ...] = (
    Op(
        "neg", 1, operator.neg, lambda a, o: (-1.0,), lambda sp, a: -a,
        ("-1",), ("-1",), N_("negation -a"), infix="-", prec=PREC_UNARY, latex="-{a}",
        np_forward=lambda np, a: -a, np_ufunc="negative", np_partials=lambda np, a, o: (-1.0,),
    ),
    Op(
        "add", 2, operator.add, lambda a, b, o: (1.0, 1.0), lambda sp, a, b: a + b,
        ("1", "1"), ("1", "1"), N_("addition a + b"), infix="+", prec=PREC_ADD,
        latex="{a} + {b}",
        np_forward=lambda np, a, b: a + b, np_ufunc="add", np_partials=lambda np, a, b, o: (1.0, 1.0),
    ),
    Op(
        "sub", 2, operator.sub, lambda a, b, o: (1.0, -1.0), lambda sp, a, b: a - b,
        ("1", "-1"), ("1", "-1"), N_("subtraction a - b"), infix="-", prec=PREC_ADD,
        latex="{a} - {b}",
        np_forward=lambda np, a, b: a - b, np_ufunc="subtract", np_partials=lambda np, a, b, o: (1.0, -1.0),
    ),
    Op(
        "mul", 2, operator.mul, lambda a, b, o: (b, a), lambda sp, a, b: a * b,
        ("{b}", "{a}"), ("{b}", "{a}"), N_("multiplication a * b"), infix="*",
        prec=PREC_MUL, latex="{a} \\cdot {b}",
        np_forward=lambda np, a, b: a * b, np_ufunc="multiply", np_partials=lambda np, a, b, o: (b, a),
    ),
    Op(
        "div", 2, operator.truediv,
        _div_partials,
        lambda sp, a, b: a / b,
        ("1/{b}", "-{a}/{b}^2"), ("\\frac{{1}}{{{b}}}", "-\\frac{{{a}}}{{{b}^2}}"),
        N_("division a / b"), infix="/", prec=PREC_MUL,
        latex="\\frac{{{a}}}{{{b}}}", domain=_div_domain,
        np_forward=lambda np, a, b: a / b, np_ufunc="divide", np_partials=lambda np, a, b, o: (1.0 / b, -o / b),
    ),
    Op(
        "pow", 2, _pow, _pow_partials, lambda sp, a, b: a**b,
        ("{b}*{a}^({b} - 1)", "{a}^{b}*log({a})"),
        ("{b}\\,{a}^{{{b}-1}}", "{a}^{{{b}}}\\ln {a}"),
        N_("power a ^ b (also a ** b and pow(a, b))"), infix="^", prec=PREC_POW,
        latex="{{{a}}}^{{{b}}}", domain=_pow_domain, overflow=_pow_overflow,
        kink=_pow_kink,
        kink_doc=N_("at a = 0: ∂/∂a = b*0^(b-1) (0 when b = 0), ∂/∂b = 0 for b >= 0; "
                    "∂/∂b is undefined (nan) for a < 0"),
        underflow=_underflow("pow", exact_at_zero=True),
        np_forward=lambda np, a, b: np.where((a == a) & (b == b), np.power(a, b), NAN),
        np_partials=_np_pow_partials, np_kink=_np_at_zero,
    ),
    Op(
        "exp", 1, _exp, lambda a, o: (o,), lambda sp, a: sp.exp(a),
        ("exp({a})",), ("e^{{{a}}}",), N_("exponential e^a"), latex="e^{{{a}}}",
        underflow=_underflow("exp"),
        np_forward=lambda np, a: np.exp(a), np_ufunc="exp", np_partials=lambda np, a, o: (o,),
        nonnegative=True,
    ),
    Op(
        "log", 1, math.log, lambda a, o: (_reciprocal(a),), lambda sp, a: sp.log(a),
        ("1/{a}",), ("\\frac{{1}}{{{a}}}",), N_("natural logarithm (alias ln)"),
        latex="\\ln {a}", aliases=("ln",), domain=_log_domain,
        np_forward=lambda np, a: np.log(a), np_ufunc="log", np_partials=lambda np, a, o: (1.0 / a,),
    ),
    Op(
        "sqrt", 1, math.sqrt,
        lambda a, o: (0.5 / o if o else INF,),
        lambda sp, a: sp.sqrt(a),
        ("1/(2*sqrt({a}))",), ("\\frac{{1}}{{2\\sqrt{{{a}}}}}",), N_("square root"),
        latex="\\sqrt{{{a}}}", domain=_nonneg_domain("sqrt"),
        kink=_kink_at_zero(N_("sqrt'(0) = +inf (infinite slope; PyTorch gives inf)")),
        kink_doc="sqrt'(0) = +inf",
        np_forward=lambda np, a: np.sqrt(a), np_ufunc="sqrt", np_partials=lambda np, a, o: (0.5 / o,), np_kink=_np_at_zero,
        nonnegative=True,
    ),
    Op(
        "sin", 1, math.sin, lambda a, o: (math.cos(a) if a - a == 0.0 else NAN,), lambda sp, a: sp.sin(a),
        ("cos({a})",), ("\\cos {a}",), N_("sine (radians)"), latex="\\sin {a}",
        domain=_periodic_domain("sin"),
        np_forward=lambda np, a: np.sin(a), np_ufunc="sin", np_partials=lambda np, a, o: (np.cos(a),),
    ),
    Op(
        "cos", 1, math.cos, lambda a, o: (-math.sin(a) if a - a == 0.0 else NAN,), lambda sp, a: sp.cos(a),
        ("-sin({a})",), ("-\\sin {a}",), N_("cosine (radians)"), latex="\\cos {a}",
        domain=_periodic_domain("cos"),
        np_forward=lambda np, a: np.cos(a), np_ufunc="cos", np_partials=lambda np, a, o: (-np.sin(a),),
    ),
    Op(
        "tan", 1, math.tan, lambda a, o: (1.0 + o * o,), lambda sp, a: sp.tan(a),
        ("1 + tan({a})^2",), ("1 + \\tan^2 {a}",), N_("tangent (radians)"),
        latex="\\tan {a}", domain=_periodic_domain("tan"),
        np_forward=lambda np, a: np.tan(a), np_ufunc="tan", np_partials=lambda np, a, o: (1.0 + o * o,),
    ),
    Op(
        "tanh", 1, math.tanh, lambda a, o: (1.0 - o * o,), lambda sp, a: sp.tanh(a),
        ("1 - tanh({a})^2",), ("1 - \\tanh^2 {a}",), N_("hyperbolic tangent"),
        latex="\\tanh {a}",
        np_forward=lambda np, a: np.tanh(a), np_ufunc="tanh", np_partials=lambda np, a, o: (1.0 - o * o,),
    ),
    Op(
        "sigmoid", 1, _sigmoid, lambda a, o: (_sigmoid_slope(a),),
        lambda sp, a: 1 / (1 + sp.exp(-a)),
        ("sigmoid({a})*(1 - sigmoid({a}))",),
        ("\\sigma({a})\\,(1 - \\sigma({a}))",),
        N_("logistic sigmoid 1/(1 + e^-a), computed stably"),
        latex="\\sigma({a})", underflow=_underflow("sigmoid"),
        np_forward=_np_sigmoid, np_partials=lambda np, a, o: (_np_sigmoid_slope(np, a),),
        np_kept=(_np_sigmoid_kept, lambda np, kept, a, o: (kept[0] * kept[1] * kept[1],)),
        nonnegative=True,
    ),
    Op(
        "relu", 1, _relu, lambda a, o: (_step(a),),
        lambda sp, a: sp.Max(0, a),
        ("1 if {a} > 0 else 0",), ("[{a} > 0]",), N_("rectified linear unit max(0, a)"),
        latex="\\mathrm{{relu}}({a})",
        kink=_kink_at_zero(N_("relu'(0) = 0 (PyTorch convention)")),
        kink_doc="relu'(0) = 0",
        np_forward=lambda np, a: np.where(a < 0, 0.0, a), np_partials=lambda np, a, o: (1.0 * (a > 0),),
        np_kink=_np_at_zero, rule_program=("sign(relu({a}))",),
        nonnegative=True,
    ),
    Op(
        "softplus", 1, _softplus, lambda a, o: (_sigmoid(a),),
        lambda sp, a: sp.log(1 + sp.exp(a)),
        ("sigmoid({a})",), ("\\sigma({a})",), N_("softplus log(1 + e^a), computed stably"),
        latex="\\mathrm{{softplus}}({a})",
        np_forward=_np_softplus, np_partials=lambda np, a, o: (_np_sigmoid(np, a),),
        nonnegative=True,
    ),
    Op(
        "abs", 1, math.fabs,
        lambda a, o: (_sign(a),),
        lambda sp, a: sp.Abs(a),
        ("sign({a})",), ("\\operatorname{{sign}}({a})",), N_("absolute value"),
        latex="\\left|{a}\\right|",
        kink=_kink_at_zero(N_("abs'(0) = 0 (PyTorch convention)")),
        kink_doc="abs'(0) = 0",
        np_forward=lambda np, a: np.abs(a), np_ufunc="abs", np_partials=lambda np, a, o: (np.sign(a),), np_kink=_np_at_zero,
        nonnegative=True,
    ),
    _extreme("max", True),
    _extreme("min", False),
    # -- trigonometric and hyperbolic (radians) --
    Op(
        "asin", 1, math.asin, lambda a, o: (_rsqrt_product(1.0 - a, 1.0 + a),), lambda sp, a: sp.asin(a),
        ("1/sqrt(1 - {a}^2)",), ("\\frac{{1}}{{\\sqrt{{1 - {a}^2}}}}",), N_("inverse sine, in [-pi/2, pi/2] (alias arcsin)"),
        latex="\\arcsin {a}", aliases=("arcsin",), domain=_interval_domain("asin", -1.0, 1.0, True),
        kink=_infinite_slope("asin", (-1.0, 1.0), "+"), kink_doc="asin'(±1) = +inf",
        np_forward=lambda np, a: np.arcsin(a), np_ufunc="arcsin",
        np_partials=lambda np, a, o: (_np_rsqrt_product(np, 1.0 - a, 1.0 + a),), np_kink=_np_at((-1.0, 1.0)),
    ),
    Op(
        "acos", 1, math.acos, lambda a, o: (-_rsqrt_product(1.0 - a, 1.0 + a),), lambda sp, a: sp.acos(a),
        ("-1/sqrt(1 - {a}^2)",), ("-\\frac{{1}}{{\\sqrt{{1 - {a}^2}}}}",), N_("inverse cosine, in [0, pi] (alias arccos)"),
        latex="\\arccos {a}", aliases=("arccos",), domain=_interval_domain("acos", -1.0, 1.0, True),
        kink=_infinite_slope("acos", (-1.0, 1.0), "-"), kink_doc="acos'(±1) = -inf",
        np_forward=lambda np, a: np.arccos(a), np_ufunc="arccos",
        np_partials=lambda np, a, o: (-_np_rsqrt_product(np, 1.0 - a, 1.0 + a),), np_kink=_np_at((-1.0, 1.0)),
    ),
    Op(
        "atan", 1, math.atan, lambda a, o: (1.0 / (1.0 + a * a),), lambda sp, a: sp.atan(a),
        ("1/(1 + {a}^2)",), ("\\frac{{1}}{{1 + {a}^2}}",), N_("inverse tangent, in (-pi/2, pi/2) (alias arctan)"),
        latex="\\arctan {a}", aliases=("arctan",),
        np_forward=lambda np, a: np.arctan(a), np_ufunc="arctan", np_partials=lambda np, a, o: (1.0 / (1.0 + a * a),),
    ),
    Op(
        "atan2", 2, math.atan2, _atan2_partials, lambda sp, a, b: sp.atan2(a, b),
        ("{b}/({a}^2 + {b}^2)", "-{a}/({a}^2 + {b}^2)"),
        ("\\frac{{{b}}}{{{a}^2 + {b}^2}}", "-\\frac{{{a}}}{{{a}^2 + {b}^2}}"),
        N_("angle of the point (x, y) = (b, a): atan2(y, x), in [-pi, pi]"),
        latex="\\operatorname{{atan2}}({a}, {b})",
        kink=_origin_kink("atan2", N_("both partials are 0")), kink_doc=N_("at (0, 0): both partials 0"),
        np_forward=lambda np, a, b: np.arctan2(a, b), np_ufunc="arctan2", np_partials=_np_atan2_partials,
        np_kink=_np_origin,
    ),
    Op(
        "sinh", 1, math.sinh, lambda a, o: (_cosh_or_inf(a),), lambda sp, a: sp.sinh(a),
        ("cosh({a})",), ("\\cosh {a}",), N_("hyperbolic sine"), latex="\\sinh {a}", overflow=_odd_overflow,
        np_forward=lambda np, a: np.sinh(a), np_ufunc="sinh", np_partials=lambda np, a, o: (np.cosh(a),),
    ),
    Op(
        "cosh", 1, math.cosh, lambda a, o: (_sinh_or_inf(a),), lambda sp, a: sp.cosh(a),
        ("sinh({a})",), ("\\sinh {a}",), N_("hyperbolic cosine"), latex="\\cosh {a}",
        np_forward=lambda np, a: np.cosh(a), np_ufunc="cosh", np_partials=lambda np, a, o: (np.sinh(a),),
        nonnegative=True,
    ),
    Op(
        "asinh", 1, math.asinh, lambda a, o: (1.0 / math.hypot(a, 1.0),), lambda sp, a: sp.asinh(a),
        ("1/sqrt({a}^2 + 1)",), ("\\frac{{1}}{{\\sqrt{{{a}^2 + 1}}}}",), N_("inverse hyperbolic sine (alias arcsinh)"),
        latex="\\operatorname{{arsinh}} {a}", aliases=("arcsinh",),
        np_forward=lambda np, a: np.arcsinh(a), np_ufunc="arcsinh", np_partials=lambda np, a, o: (1.0 / np.hypot(a, 1.0),),
    ),
    Op(
        "acosh", 1, math.acosh, lambda a, o: (_rsqrt_product(a - 1.0, a + 1.0),), lambda sp, a: sp.acosh(a),
        ("1/sqrt({a}^2 - 1)",), ("\\frac{{1}}{{\\sqrt{{{a}^2 - 1}}}}",),
        N_("inverse hyperbolic cosine, for a >= 1 (alias arccosh)"),
        latex="\\operatorname{{arcosh}} {a}", aliases=("arccosh",), domain=_acosh_domain,
        kink=_infinite_slope("acosh", (1.0,), "+"), kink_doc="acosh'(1) = +inf",
        np_forward=lambda np, a: np.arccosh(a), np_ufunc="arccosh",
        np_partials=lambda np, a, o: (_np_rsqrt_product(np, a - 1.0, a + 1.0),), np_kink=_np_at((1.0,)),
        nonnegative=True,
    ),
    Op(
        "atanh", 1, math.atanh, lambda a, o: (_reciprocal((1.0 - a) * (1.0 + a)),), lambda sp, a: sp.atanh(a),
        ("1/(1 - {a}^2)",), ("\\frac{{1}}{{1 - {a}^2}}",), N_("inverse hyperbolic tangent, for -1 < a < 1 (alias arctanh)"),
        latex="\\operatorname{{artanh}} {a}", aliases=("arctanh",), domain=_interval_domain("atanh", -1.0, 1.0, False),
        np_forward=lambda np, a: np.arctanh(a), np_ufunc="arctanh", np_partials=lambda np, a, o: (1.0 / ((1.0 - a) * (1.0 + a)),),
    ),
    # -- logarithms and exponentials --
    Op(
        "log10", 1, math.log10, lambda a, o: (_reciprocal(a * _LN10),), lambda sp, a: sp.log(a, 10),
        ("1/({a}*log(10))",), ("\\frac{{1}}{{{a} \\ln 10}}",), N_("base-10 logarithm"),
        latex="\\log_{{10}} {a}", domain=_logarithm_domain("log10"),
        np_forward=lambda np, a: np.log10(a), np_ufunc="log10", np_partials=lambda np, a, o: (1.0 / (a * _LN10),),
    ),
    Op(
        "log2", 1, math.log2, lambda a, o: (_reciprocal(a * _LN2),), lambda sp, a: sp.log(a, 2),
        ("1/({a}*log(2))",), ("\\frac{{1}}{{{a} \\ln 2}}",), N_("base-2 logarithm"),
        latex="\\log_{{2}} {a}", domain=_logarithm_domain("log2"),
        np_forward=lambda np, a: np.log2(a), np_ufunc="log2", np_partials=lambda np, a, o: (1.0 / (a * _LN2),),
    ),
    Op(
        "log1p", 1, math.log1p, lambda a, o: (_reciprocal(1.0 + a),), lambda sp, a: sp.log(1 + a),
        ("1/(1 + {a})",), ("\\frac{{1}}{{1 + {a}}}",), N_("log(1 + a), accurate for small a"),
        latex="\\ln(1 + {a})", domain=_logarithm_domain("log1p", -1.0),
        np_forward=lambda np, a: np.log1p(a), np_ufunc="log1p", np_partials=lambda np, a, o: (1.0 / (1.0 + a),),
    ),
    Op(
        "expm1", 1, math.expm1, lambda a, o: (_exp_or_inf(a),), lambda sp, a: sp.exp(a) - 1,
        ("exp({a})",), ("e^{{{a}}}",), N_("e^a - 1, accurate for small a"),
        latex="(e^{{{a}}} - 1)",
        np_forward=lambda np, a: np.expm1(a), np_ufunc="expm1", np_partials=lambda np, a, o: (np.exp(a),),
    ),
    # -- special functions --
    Op(
        "erf", 1, math.erf, lambda a, o: (_TWO_OVER_SQRT_PI * math.exp(-a * a),), lambda sp, a: sp.erf(a),
        ("2/sqrt(pi)*exp(-{a}^2)",), ("\\frac{{2}}{{\\sqrt{{\\pi}}}} e^{{-{a}^2}}",), N_("error function"),
        latex="\\operatorname{{erf}}({a})",
        np_forward=_np_erf, np_partials=lambda np, a, o: (_TWO_OVER_SQRT_PI * np.exp(-a * a),),
    ),
    Op(
        "sign", 1, _sign, lambda a, o: (0.0 if a == a else NAN,),
        lambda sp, a: sp.Piecewise((1, a > 0), (-1, a < 0), (0, True)),  # not sp.sign: its
        ("0",), ("0",), N_("sign: -1, 0 or 1"),  # derivative is 2*DiracDelta, which SymPy cannot chain
        latex="\\operatorname{{sign}}({a})",
        kink=_kink_at_zero(N_("sign'(0) = 0, though sign jumps from -1 to 1 there (PyTorch convention)")),
        kink_doc=N_("sign'(0) = 0 (a jump)"),
        np_forward=lambda np, a: np.sign(a) + 0.0, np_partials=lambda np, a, o: (np.where(a == a, 0.0, NAN),),
        np_kink=_np_at_zero,
    ),
    Op(
        "hypot", 2, _hypot, _hypot_partials, lambda sp, a, b: sp.sqrt(a**2 + b**2),
        ("{a}/hypot({a}, {b})", "{b}/hypot({a}, {b})"),
        ("\\frac{{{a}}}{{\\sqrt{{{a}^2 + {b}^2}}}}", "\\frac{{{b}}}{{\\sqrt{{{a}^2 + {b}^2}}}}"),
        N_("sqrt(a^2 + b^2), without overflow"), latex="\\operatorname{{hypot}}({a}, {b})",
        kink=_origin_kink("hypot", N_("both partials are nan")), kink_doc=N_("at (0, 0): both partials nan"),
        np_forward=lambda np, a, b: np.hypot(a, b), np_ufunc="hypot", np_partials=_np_hypot_partials,
        np_kink=_np_origin,
        nonnegative=True,
    ),
    # -- activations (PyTorch's definitions) --
    Op(
        "leaky_relu", 2, _leaky_relu,
        lambda a, s, o: (1.0, 0.0) if a > 0 and s == s else (s, a),
        lambda sp, a, s: sp.Piecewise((a, a > 0), (s * a, True)),
        ("1 if {a} > 0 else {b}", "0 if {a} > 0 else {a}"),
        ("[{a} > 0] + {b}\\,[{a} \\le 0]", "{a}\\,[{a} \\le 0]"),
        N_("leaky ReLU: a if a > 0 else slope*a; leaky_relu(a) has slope 0.01"),
        latex="\\mathrm{{leaky\\_relu}}({a}, {b})", defaults=(0.01,),
        kink=_leaky_relu_kink, kink_doc=N_("at a = 0: ∂/∂a = b, the slope on the left"),
        np_forward=lambda np, a, s: np.where((a > 0) & (s == s), a, a * s),
        np_partials=lambda np, a, s, o: (np.where(a > 0, 1.0, s), np.where(a > 0, 0.0, a)),
        np_kink=lambda np, a, s: a == 0,
    ),
    Op(
        "elu", 2, _elu, _elu_partials,
        lambda sp, a, alpha: sp.Piecewise((a, a > 0), (alpha * (sp.exp(a) - 1), True)),
        ("1 if {a} > 0 else {b}*exp({a})", "0 if {a} > 0 else exp({a}) - 1"),
        ("[{a} > 0] + {b}\\,e^{{{a}}}\\,[{a} \\le 0]", "(e^{{{a}}} - 1)\\,[{a} \\le 0]"),
        N_("ELU: a if a > 0 else alpha*(e^a - 1); elu(a) has alpha 1"),
        latex="\\mathrm{{elu}}({a}, {b})", defaults=(1.0,),
        kink=_elu_kink, kink_doc=N_("at a = 0: ∂/∂a = b, the slope on the left (smooth when b = 1)"),
        np_forward=lambda np, a, alpha: np.where((a > 0) & (alpha == alpha), a, alpha * np.expm1(np.minimum(a, 0.0))),
        np_partials=lambda np, a, alpha, o: (
            np.where(a > 0, 1.0, alpha * np.exp(np.minimum(a, 0.0))), np.where(a > 0, 0.0, np.expm1(np.minimum(a, 0.0)))
        ),
        np_kink=lambda np, a, alpha: a == 0,
    ),
    Op(
        "gelu", 1, _gelu, lambda a, o: (_gelu_slope(a),),
        lambda sp, a: a * (1 + sp.erf(a / sp.sqrt(2))) / 2,
        ("(1 + erf({a}/sqrt(2)))/2 + {a}*exp(-{a}^2/2)/sqrt(2*pi)",), ("\\Phi({a}) + {a}\\,\\varphi({a})",),
        N_("GELU a*Phi(a), Phi the normal distribution function (the exact erf form, PyTorch's default)"),
        latex="\\mathrm{{gelu}}({a})", underflow=_zero_at_zero_underflow("gelu"),
        np_forward=lambda np, a: 0.5 * a * _np_erfc(np, -a * math.sqrt(0.5)),
        np_partials=lambda np, a, o: (_np_gelu_slope(np, a),),
    ),
    Op(
        "silu", 1, lambda a: a * _sigmoid(a), lambda a, o: (_silu_slope(a),),
        lambda sp, a: a / (1 + sp.exp(-a)),
        ("sigmoid({a})*(1 + {a}*(1 - sigmoid({a})))",),
        ("\\sigma({a})\\,(1 + {a}\\,(1 - \\sigma({a})))",),
        N_("SiLU a*sigmoid(a), computed stably (alias swish)"),
        latex="\\mathrm{{silu}}({a})", aliases=("swish",), underflow=_zero_at_zero_underflow("silu"),
        np_forward=lambda np, a: a * _np_sigmoid(np, a),
        np_partials=lambda np, a, o: (_np_sigmoid(np, a) + a * _np_sigmoid_slope(np, a),),
    ),
    Op(
        "softsign", 1, _softsign, lambda a, o: (_softsign_slope(a),),
        lambda sp, a: a / (1 + sp.Abs(a)),
        ("1/(1 + |{a}|)^2",), ("\\frac{{1}}{{(1 + |{a}|)^2}}",), N_("softsign a/(1 + |a|)"),
        latex="\\mathrm{{softsign}}({a})",
        np_forward=lambda np, a: np.where(np.isinf(a), np.sign(a), a / (1.0 + np.abs(a))),
        np_partials=lambda np, a, o: ((1.0 / (1.0 + np.abs(a))) ** 2,),
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
    return _("scalar") if not shape else "×".join(map(str, shape))


def shape_words(shape: Shape) -> str:
    """() -> 'a number', (3,) -> 'a vector of 3 entries', (2, 3) -> 'a 2×3 matrix'."""
    if not shape:
        return _("a number")
    if len(shape) == 1:
        return ngettext("a vector of {n} entry", "a vector of {n} entries", shape[0]).format(n=shape[0])
    if len(shape) == 2:
        return _("a {shape} matrix").format(shape=shape_text(shape))
    return _("a tensor of shape {shape}").format(shape=shape_text(shape))


def described(name: str, shape: Shape) -> str:
    """'W is 2×2', 'x has 3 entries', 's is a scalar'."""
    if not shape:
        return _("{name} is a scalar").format(name=name)
    if len(shape) == 1:
        return ngettext("{name} has {n} entry", "{name} has {n} entries", shape[0]).format(name=name, n=shape[0])
    return _("{name} is {shape}").format(name=name, shape=shape_text(shape))


def _axis(shape: Shape, axis: int | None, name: str) -> int | None:
    """A valid axis of `shape` (negative counted from the end), or ShapeError."""
    if axis is None:
        return None
    n = len(shape)
    if not -n <= axis < n:
        have = _("{name} has no axes (it is a scalar)").format(name=name) if n == 0 else _(
            "{described}, so axis is one of {axes}").format(described=described(name, shape),
                                                           axes=", ".join(map(str, range(-n, n))))
        raise ShapeError(_("axis={axis} is out of range: {why}").format(axis=axis, why=have))
    return axis % n


def _reduce_shape(names: Sequence[str], shape: Shape, axis: int | None = None) -> Shape:
    k = _axis(shape, axis, names[0])
    return () if k is None else shape[:k] + shape[k + 1:]


def _last_axis_shape(names: Sequence[str], shape: Shape, axis: int = -1) -> Shape:
    if not shape:
        raise ShapeError(_("{name} is a scalar: this works over a vector or the rows of a matrix").format(
            name=names[0]))
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
        raise ShapeError(_("{name} is a scalar: @ multiplies vectors and matrices; use * to scale").format(
            name=scalar))
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        hint = ""
        if len(a) == 2 and a[-2] == inner_b:
            hint = _("did you mean {formula}?").format(formula=f"{_transposed(na)} @ {nb}")
        elif len(b) == 2 and b[-1] == inner_a:
            hint = _("did you mean {formula}?").format(formula=f"{na} @ {_transposed(nb)}")
        raise ShapeError(_("{a} and {b}: the inner sizes {m} and {n} differ").format(
            a=described(na, a), b=described(nb, b), m=inner_a, n=inner_b), hint)
    batch_a, batch_b = a[:-2], b[:-2]
    try:
        batch = _broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ShapeError(_("{a} and {b}: the stacked dimensions do not broadcast").format(
            a=described(na, a), b=described(nb, b))) from None
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


def _matmul_vjp(np: Any, g: Any, a: Any, b: Any, out: Any, need: tuple[bool, ...] = (True, True)) -> tuple[Any, Any]:
    """dA = dC @ B.T, dB = A.T @ dC, with vectors as a row (left) or column
    (right); only the products in `need` (None for the other). Transposes
    are views (BLAS reads them as they are). Stacked (batch) dimensions come
    back broadcast; the engine sums them away, as for every op."""
    if a.ndim == 2 and b.ndim == 2:  # matrices (the common case): g is already (rows of a, columns of b)
        return (g @ b.T if need[0] else None), (a.T @ g if need[1] else None)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.reshape(g, np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1]))
    da = db = None
    if need[0]:
        da = g2 @ np.swapaxes(b2, -1, -2)
        da = da[..., 0, :] if a.ndim == 1 else da
    if need[1]:
        db = np.swapaxes(a2, -1, -2) @ g2
        db = db[..., :, 0] if b.ndim == 1 else db
    return da, db


def _transpose_shape(names: Sequence[str], a: Shape) -> Shape:
    return tuple(reversed(a))


# cross-entropy with PyTorch's F.cross_entropy meaning: logits (C,) or (N, C);
# the target is class indices (shape (), or (N,)) or probabilities (the
# logits' shape); the mean over the batch.

def _ce_shape(names: Sequence[str], x: Shape, t: Shape) -> Shape:
    nx, nt = names
    if len(x) not in (1, 2):
        raise ShapeError(_("{x}: cross_entropy takes logits of shape (C,) or (N, C)").format(x=described(nx, x)))
    if t != x and t != x[:-1]:
        want = _("a class index") if len(x) == 1 else _("{n} class indices").format(n=x[0])
        raise ShapeError(_("{x} and {t}: the target is {want}, or probabilities of the logits' shape {shape}").format(
            x=described(nx, x), t=described(nt, t), want=want, shape=shape_text(x)))
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
        return _("class index {t} (entry {k}) is not a whole number from 0 to {last}: the logits have {c} "
                 "classes").format(t=f"{flat[k]:g}", k=k, last=c - 1, c=c)
    return None


def _ce_forward(np: Any, x: Any, t: Any) -> Any:
    return _ce_forward_kept(np, x, t)[0]


def _ce_forward_kept(np: Any, x: Any, t: Any) -> tuple[Any, Any]:
    """The loss, and log softmax(x): kept for the backward pass."""
    logp = _log_softmax(np, x)
    idx = ce_indices(np, x, t)
    if idx is None:
        per = -np.sum(t * logp, axis=-1)
    elif x.ndim == 1:
        per = -logp[idx]
    else:
        per = -logp[np.arange(x.shape[0]), idx]
    return (np.mean(per) if x.ndim == 2 else per), logp


def _ce_vjp(np: Any, g: Any, x: Any, t: Any, out: Any) -> tuple[Any, Any]:
    return _ce_vjp_kept(np, _log_softmax(np, x), g, x, t, out)


def _ce_vjp_kept(np: Any, logp: Any, g: Any, x: Any, t: Any, out: Any) -> tuple[Any, Any]:
    """The products from log softmax(x) as the forward pass computed it."""
    n = x.shape[0] if x.ndim == 2 else 1
    p = np.exp(logp)
    idx = ce_indices(np, x, t)
    if idx is None:  # d/dx = (p * sum(t) - t) / N, d/dt = -log p / N
        return g * (p * np.sum(t, axis=-1, keepdims=True) - t) / n, g * (-logp) / n
    if x.ndim == 1:
        p[idx] -= 1.0  # p - onehot(t): the same numbers, one entry a row changed
    else:
        p[np.arange(x.shape[0]), idx] -= 1.0
    return g * p / n, None  # class indices are data: no gradient


def _ce_sympy(sp: Any, np: Any, x: Any, t: Any) -> Any:
    logp = _sympy_log_softmax(sp, np, x)
    if t.shape == x.shape:
        per = -np.sum(t * logp, axis=-1)
    else:
        idx = np.vectorize(int, otypes=[object])(t)
        per = -logp[idx] if x.ndim == 1 else -logp[np.arange(x.shape[0]), idx.astype(int)]
    return np.array(np.sum(per) / x.shape[0] if x.ndim == 2 else per, dtype=object)


# The backward steps as bpcalc programs (`TensorOp.program`): each argument's
# vector-Jacobian product written with the language's own operations, over
# the arguments' names, the upstream gradient `g` and the result `out`, for
# the shapes at hand; None where the language cannot say it (a tie mask,
# stacked matrices, a reduction over a chosen axis of a 3-d tensor). A sum
# along an axis keeps no axis of size 1, so a result that must spread over
# the rows of a matrix is spread over the columns of its transpose:
# (Z.T + s).T adds s[i] to row i of Z.

def _matmul_program(names: Sequence[str], g: str, out: str, shapes: Sequence[Shape],
                    **_params: Any) -> tuple[str | None, ...]:
    a, b = names
    sa, sb = shapes
    if len(sa) == 2 and len(sb) == 2:
        return f"{g} @ {_transposed(b)}", f"{_transposed(a)} @ {g}"
    if len(sa) == 1 and len(sb) == 2:
        return f"{g} @ {_transposed(b)}", f"outer({a}, {g})"
    if len(sa) == 2 and len(sb) == 1:
        return f"outer({g}, {b})", f"{_transposed(a)} @ {g}"
    if len(sa) == 1 and len(sb) == 1:
        return f"{g} * {_group(b)}", f"{g} * {_group(a)}"
    return None, None


def _group(text: str) -> str:
    return text if text.replace("_", "").replace(".", "").isalnum() else f"({text})"


def _spread(names: Sequence[str], g: str, shapes: Sequence[Shape], axis: Any, scale: str) -> str | None:
    """g copied back over the entries a reduction of `names[0]` took in."""
    a, shape = names[0], shapes[0]
    ax = None if axis is None else axis % max(len(shape), 1)
    if len(shape) <= 1 or ax is None:
        return f"{g}{scale} + 0 * {_group(a)}"
    if len(shape) == 2 and ax == 0:
        return f"{g}{scale} + 0 * {_group(a)}"
    if len(shape) == 2 and ax == 1:
        return f"({g}{scale} + 0 * {_transposed(a)}).T"
    return None


def _sum_program(names: Sequence[str], g: str, out: str, shapes: Sequence[Shape],
                 axis: Any = None) -> tuple[str | None, ...]:
    return (_spread(names, g, shapes, axis, ""),)


def _mean_program(names: Sequence[str], g: str, out: str, shapes: Sequence[Shape],
                  axis: Any = None) -> tuple[str | None, ...]:
    return (_spread(names, g, shapes, axis, f" / {_count(shapes[0], axis)}"),)


def _last_axis(shape: Shape, axis: Any) -> bool:
    return len(shape) in (1, 2) and axis % len(shape) == len(shape) - 1


def _last_axis_program(vector: str, matrix: str) -> Callable[..., tuple[str | None, ...]]:
    """The program of an op over the last axis (softmax and its kin): one
    template for a vector, one for the rows of a matrix, over {a}, {g}, {out}."""
    def program(names: Sequence[str], g: str, out: str, shapes: Sequence[Shape],
                axis: Any = -1) -> tuple[str | None, ...]:
        if not _last_axis(shapes[0], axis):
            return (None,)
        return ((vector if len(shapes[0]) == 1 else matrix).format(a=names[0], g=g, out=out),)
    return program


_softmax_program = _last_axis_program("{out} * ({g} - sum({g} * {out}))",
                                      "{out} * ({g}.T - sum({g} * {out}, axis=1)).T")
_log_softmax_program = _last_axis_program("{g} - softmax({a}) * sum({g})",
                                          "{g} - (softmax({a}).T * sum({g}, axis=1)).T")
_logsumexp_program = _last_axis_program("{g} * softmax({a})", "(softmax({a}).T * {g}).T")


def _ce_program(names: Sequence[str], g: str, out: str, shapes: Sequence[Shape]) -> tuple[str | None, ...]:
    """`names[1]` is the target as probabilities or one-hot rows (explain
    writes class indices out as one-hot rows first)."""
    a, t = names
    n = shapes[0][0] if len(shapes[0]) == 2 else 1
    per = f" / {n}" if n != 1 else ""
    return f"{g} * (softmax({a}) - {_group(t)}){per}", f"-{g} * log_softmax({a}){per}"


def _outer_shape(names: Sequence[str], a: Shape, b: Shape) -> Shape:
    for name, shape in zip(names, (a, b)):
        if len(shape) != 1:
            raise ShapeError(_("{x}: outer takes two vectors").format(x=described(name, shape)))
    return a + b


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
    #: The vector-Jacobian products as bpcalc programs (see `_matmul_program`):
    #: `program(names, g, out, shapes, **params)`, None where it cannot.
    program: Callable[..., tuple[str | None, ...]] | None = None
    #: `vjp` takes `need` (a bool per argument) and computes only those products.
    selective: bool = False
    #: `(forward_kept(np, *args, **params) -> (out, kept), vjp_kept(np, kept,
    #: g, *args, out, **params))`: the same numbers as forward and vjp, the
    #: backward pass reusing what the forward pass computed.
    kept: tuple[Callable[..., Any], Callable[..., tuple[Any, ...]]] | None = None

    def arguments(self) -> str:
        """How many arguments a call takes, in words (keywords aside; in the
        language spoken)."""
        return ngettext("{count} argument", "{count} arguments", self.arity).format(count=self.arity)


_TENSOR_TABLE: tuple[TensorOp, ...] = (
    TensorOp(
        "matmul", 2, lambda np, a, b: a @ b, _matmul_vjp, _matmul_shape,
        lambda sp, np, a, b: np.array(a @ b, dtype=object),
        ("d{a} = d{out} @ {b}.T", "d{b} = {a}.T @ d{out}"),
        N_("matrix product a @ b (vector @ vector is the dot product; a vector is a row on the left, a column on the right)"),
        infix="@", prec=PREC_MUL, program=_matmul_program, selective=True,
    ),
    TensorOp(
        "outer", 2, lambda np, a, b: np.outer(a, b), lambda np, g, a, b, out: (g @ b, a @ g), _outer_shape,
        lambda sp, np, a, b: np.outer(a, b).astype(object),
        ("d{a} = d{out} @ {b}", "d{b} = {a} @ d{out}"),
        N_("outer product of two vectors: outer(u, v)[i, j] = u[i] * v[j] (a column times a row)"),
        program=lambda names, g, out, shapes: (f"{g} @ {_group(names[1])}", f"{_group(names[0])} @ {g}"),
    ),
    TensorOp(
        "transpose", 1, lambda np, a: np.transpose(a), lambda np, g, a, out: (np.transpose(g),),
        _transpose_shape, lambda sp, np, a: np.transpose(a),
        ("d{a} = d{out}.T",), N_("transpose a.T (also transpose(a)); a vector stays as it is"), postfix=True,
        infix=".T", program=lambda names, g, out, shapes: (f"{g}.T",),
    ),
    TensorOp(
        "sum", 1, _t_sum, _reduce_vjp(lambda shape, axis: 1.0), _reduce_shape,
        lambda sp, np, x, axis=None: np.array(np.sum(x, axis=axis), dtype=object),
        (N_("d{a} = d{out} copied to every entry summed"),), N_("sum of the entries (sum(X, axis=0): down each column)"),
        params=(("axis", None),), program=_sum_program,
    ),
    TensorOp(
        "mean", 1, _t_mean, _reduce_vjp(lambda shape, axis: 1.0 / _count(shape, axis)), _reduce_shape,
        lambda sp, np, x, axis=None: np.array(np.sum(x, axis=axis) / _count(x.shape, axis), dtype=object),
        (N_("d{a} = d{out} / n copied to every entry averaged"),), N_("mean of the entries (mean(X, axis=1): of each row)"),
        params=(("axis", None),), program=_mean_program,
    ),
    TensorOp(
        "amax", 1, _reduce_extreme(True), _reduce_extreme_vjp, _reduce_shape, _reduce_extreme_sympy(True),
        (N_("d{a} = d{out} at the largest entry (split evenly on a tie), 0 elsewhere"),),
        N_("max(X) with one argument: the largest entry (axis= keyword as for sum)"),
        params=(("axis", None),), kink_doc=N_("a tie splits the gradient evenly among the tied entries"),
    ),
    TensorOp(
        "amin", 1, _reduce_extreme(False), _reduce_extreme_vjp, _reduce_shape, _reduce_extreme_sympy(False),
        (N_("d{a} = d{out} at the smallest entry (split evenly on a tie), 0 elsewhere"),),
        N_("min(X) with one argument: the smallest entry (axis= keyword as for sum)"),
        params=(("axis", None),), kink_doc=N_("a tie splits the gradient evenly among the tied entries"),
    ),
    TensorOp(
        "softmax", 1, _softmax, _softmax_vjp, _last_axis_shape, _sympy_softmax,
        ("d{a} = {out} * (d{out} - sum(d{out} * {out}, axis))",),
        N_("softmax exp(x) / sum(exp(x)) over the last axis (each row of a matrix), computed stably"),
        params=(("axis", -1),), program=_softmax_program,
    ),
    TensorOp(
        "log_softmax", 1, _log_softmax, _log_softmax_vjp, _last_axis_shape, _sympy_log_softmax,
        ("d{a} = d{out} - softmax({a}) * sum(d{out}, axis)",),
        N_("log of softmax over the last axis, computed stably"), params=(("axis", -1),),
        program=_log_softmax_program,
    ),
    TensorOp(
        "logsumexp", 1, _logsumexp, _logsumexp_vjp, _reduce_shape, _sympy_logsumexp,
        ("d{a} = d{out} * softmax({a})",),
        N_("log(sum(exp(x))) over the last axis, computed stably"), params=(("axis", -1),),
        program=_logsumexp_program,
    ),
    TensorOp(
        "cross_entropy", 2, _ce_forward, _ce_vjp, _ce_shape, _ce_sympy,
        ("d{a} = d{out} * (softmax({a}) - onehot({b})) / N", N_("none: class indices are data "
         "(probability targets: d{b} = -d{out} * log_softmax({a}) / N)")),
        N_("cross_entropy(logits, target) as PyTorch's F.cross_entropy: logits (C,) or (N, C); target class "
           "indices (N,) or probabilities (N, C); the mean over the batch"),
        program=_ce_program, kept=(_ce_forward_kept, _ce_vjp_kept),
    ),
)

#: Tensor-only operations by name.
TENSOR_OPS: dict[str, TensorOp] = {op.name: op for op in _TENSOR_TABLE}
#: One-argument forms of two-argument functions: max(X) reduces.
REDUCING_FORMS: dict[str, str] = {"max": "amax", "min": "amin"}
for _top in _TENSOR_TABLE:
    if (not _top.infix or _top.postfix) and _top.name not in REDUCING_FORMS.values():
        FUNCTIONS[_top.name] = _top  # type: ignore[assignment]
BINARY["@"] = "matmul"
