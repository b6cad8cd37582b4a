"""The op table: every op's scalar and numpy functions agree, conventions hold."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from bpcalc.ops import FUNCTIONS, OPS

RNG = random.Random(6)


def _sample(name: str, arity: int) -> list[tuple[float, ...]]:
    """Points inside the op's domain, away from its kinks."""
    points = []
    while len(points) < 200:
        args = tuple(RNG.uniform(-6, 6) for _ in range(arity))
        if name in ("log", "sqrt", "log10", "log2") or (name == "pow" and RNG.random() < 0.5):
            args = (abs(args[0]) + 1e-3, *args[1:])
        if name in ("asin", "acos", "atanh"):
            args = (args[0] / 6.01,)
        if name in ("acosh", "log1p"):
            args = (abs(args[0]) + 1e-3 + (1.0 if name == "acosh" else -1.0),)
        if name == "pow" and args[0] < 0:
            args = (args[0], float(round(args[1])))
        if name == "div" and abs(args[1]) < 1e-3:
            continue
        points.append(args)
    return points


@pytest.mark.parametrize("name", sorted(OPS))
def test_numpy_forward_and_partials_agree_with_the_scalar_ones(name: str) -> None:
    op = OPS[name]
    points = _sample(name, op.arity)
    columns = [np.array([p[k] for p in points]) for k in range(op.arity)]
    with np.errstate(all="raise"):
        out = np.asarray(op.np_forward(np, *columns), dtype=float) * np.ones(len(points))
        partials = [np.asarray(p, dtype=float) * np.ones(len(points)) for p in op.np_partials(np, *columns, out)]
    assert len(partials) == op.arity
    for k, args in enumerate(points):
        value = op.forward(*args)
        assert math.isclose(out[k], value, rel_tol=1e-13, abs_tol=1e-15), (args, out[k], value)
        for j, expected in enumerate(op.partials(*args, value)):
            got = partials[j][k]
            assert (math.isnan(got) and math.isnan(expected)) or math.isclose(
                got, expected, rel_tol=1e-12, abs_tol=1e-15
            ), (args, j, got, expected)


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.kink is not None))
def test_numpy_kink_marks_every_point_where_the_scalar_rule_has_a_kink(name: str) -> None:
    op = OPS[name]
    assert op.np_kink is not None
    kinks = {
        "pow": [(0.0, 0.5), (0.0, 2.5)], "max": [(1.5, 1.5), (1.0, 3.0, 3.0)], "min": [(-2.0, -2.0), (0.0, 0.0, 1.0)],
        "asin": [(1.0,), (-1.0,)], "acos": [(1.0,), (-1.0,)], "acosh": [(1.0,)],
        "atan2": [(0.0, 0.0)], "hypot": [(0.0, -0.0)], "leaky_relu": [(0.0, 0.01)], "elu": [(0.0, 2.0)],
    }.get(name, [(0.0,)])
    regular = {
        "pow": [(2.0, 0.5)], "max": [(1.0, 2.0), (3.0, 3.0, 4.0)], "min": [(1.0, 2.0), (0.0, 1.0, 1.0)],
        "acosh": [(2.0,)], "atan2": [(0.0, 1.0)], "hypot": [(1.0, 0.0)],
        "leaky_relu": [(0.5, 0.01), (0.0, 1.0)], "elu": [(-0.5, 2.0), (0.0, 1.0)],
    }.get(name, [(0.5,)])
    for args in kinks:
        assert op.kink(*args)
        assert bool(op.np_kink(np, *map(np.float64, args)))
    # np_kink may mark a superset: a 3-way min tie under max, a slope of 1
    superset = {(3.0, 3.0, 4.0), (0.0, 1.0, 1.0), (0.0, 1.0)}
    for args in regular:
        assert not op.kink(*args)
        if args not in superset:
            assert not bool(op.np_kink(np, *map(np.float64, args)))


def test_every_op_has_numpy_functions_and_the_table_lookups_agree() -> None:
    for name, op in OPS.items():
        assert op.name == name and callable(op.np_forward) and callable(op.np_partials)
        assert op.arity in (1, 2)
    assert FUNCTIONS["ln"] is OPS["log"] and FUNCTIONS["pow"] is OPS["pow"]
    assert "add" not in FUNCTIONS


def test_stable_formulas_stay_finite_far_out_scalar_and_numpy() -> None:
    far = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):  # no overflow inside
        sig = OPS["sigmoid"].np_forward(np, far)
        (slope,) = OPS["sigmoid"].np_partials(np, far, sig)
        soft = OPS["softplus"].np_forward(np, far)
    assert list(sig) == [OPS["sigmoid"].forward(v) for v in far]
    assert sig[0] > 0 or sig[0] == 0.0
    assert slope[1] > 0 and OPS["sigmoid"].partials(37.0, OPS["sigmoid"].forward(37.0))[0] > 0
    assert soft[-1] == 800.0 and soft[0] == OPS["softplus"].forward(-800.0)


def test_scalar_conventions_at_kinks_and_ieee_results() -> None:
    assert OPS["relu"].partials(0.0, 0.0) == (0.0,)
    assert OPS["abs"].partials(0.0, 0.0) == (0.0,)
    assert OPS["max"].partials(1.0, 1.0, 1.0) == (0.5, 0.5)
    assert OPS["sqrt"].partials(0.0, 0.0) == (math.inf,)
    assert OPS["pow"].partials(0.0, 2.0, 0.0) == (0.0, 0.0)
    da, db = OPS["pow"].partials(-2.0, 3.0, -8.0)
    assert da == 12.0 and math.isnan(db)
    with pytest.raises(ValueError):
        OPS["log"].forward(-1.0)
    with pytest.raises(OverflowError):
        OPS["exp"].forward(1000.0)
    assert OPS["exp"].underflow(0.0, -1000.0)
    # 0^2 is exactly 0, not an underflow (relu(z)^2 at z < 0); 1e-200^2 is one
    assert OPS["pow"].underflow(0.0, 0.0, 2.0) is None and OPS["pow"].underflow(0.0, -0.0, 3.0) is None
    assert OPS["pow"].underflow(0.0, 1e-200, 2.0)
    # numpy versions never raise: inf / nan instead, for the scalar engine to report
    with np.errstate(all="ignore"):
        assert math.isnan(OPS["log"].np_forward(np, np.float64(-1.0)))
        assert OPS["exp"].np_forward(np, np.float64(1000.0)) == math.inf
        da, db = OPS["pow"].np_partials(np, np.float64(-2.0), np.float64(3.0), np.float64(-8.0))
    assert da == 12.0 and math.isnan(db)


SPECIAL = (math.inf, -math.inf, math.nan, 0.0, -0.0, 1e308, -1e308, 2.0, -2.0, 0.5, 1e-320)


@pytest.mark.parametrize("name", [n for n, op in OPS.items() if op.arity])
def test_local_partials_never_raise(name: str) -> None:
    # the engine's backward loop relies on it: sin'(inf) = cos(inf) is nan, 1/0 is inf
    op = OPS[name]
    for args in itertools.product(SPECIAL, repeat=op.arity):
        for out in (math.inf, -math.inf, math.nan, 0.0, 1.0):
            partials = op.partials(*args, out)
            assert len(partials) == op.arity and all(isinstance(p, float) for p in partials), (args, partials)
    if name in ("sin", "cos"):
        assert math.isnan(op.partials(math.inf, math.nan)[0])
    if name == "div":
        assert op.partials(1.0, 0.0, math.inf) == (math.inf, -math.inf)
    if name == "log":
        assert op.partials(-0.0, -math.inf) == (-math.inf,)


# --- the course functions against independent references (issue 13) ----------

import mpmath  # noqa: E402  (SymPy's dependency: the reference, at 50 digits)

mpmath.mp.dps = 50


def _elu_ref(x, alpha):
    return x if x > 0 else alpha * mpmath.expm1(x)


#: name -> (mpmath function, points inside the domain and away from kinks)
WIDE = [-800.0, -40.0, -10.0, -3.7, -1.0, -0.3, -1e-9, 1e-12, 0.25, 0.7, 1.0, 2.5, 9.0, 40.0, 800.0]
UNIT = [-0.999999, -0.9, -0.5, -0.1, -1e-9, 1e-15, 0.3, 0.75, 0.99, 0.999999]
REFERENCES = {
    "asin": (mpmath.asin, UNIT),
    "acos": (mpmath.acos, UNIT),
    "atan": (mpmath.atan, WIDE + [1e200, -1e200]),
    "sinh": (mpmath.sinh, [p for p in WIDE if abs(p) < 700] + [700.0, -700.0]),
    "cosh": (mpmath.cosh, [p for p in WIDE if abs(p) < 700] + [700.0, -700.0]),
    "asinh": (mpmath.asinh, WIDE + [1e200, -1e200]),
    "acosh": (mpmath.acosh, [1.0 + 1e-10, 1.001, 1.5, 2.0, 10.0, 1e6, 1e200]),
    "atanh": (mpmath.atanh, UNIT),
    "log10": (mpmath.log10, [1e-300, 1e-9, 0.5, 1.0, 3.0, 1e10, 1e300]),
    "log2": (lambda x: mpmath.log(x, 2), [1e-300, 1e-9, 0.5, 1.0, 3.0, 1e10, 1e300]),
    "log1p": (mpmath.log1p, [-0.999999, -0.5, -1e-10, 1e-20, 1e-10, 0.5, 3.0, 1e10, 1e300]),
    "expm1": (mpmath.expm1, [-800.0, -40.0, -1.0, -1e-10, 1e-20, 1e-10, 0.5, 3.0, 700.0]),
    "erf": (mpmath.erf, [-30.0, -5.0, -1.0, -0.2, -1e-10, 1e-10, 0.2, 1.0, 3.0, 5.5, 30.0]),
    "sign": (mpmath.sign, [-1e300, -2.0, -1e-300, 1e-300, 3.0, 1e300]),
    "gelu": (lambda x: x * mpmath.ncdf(x), WIDE),
    "silu": (lambda x: x / (1 + mpmath.exp(-x)), WIDE),
    "softsign": (lambda x: x / (1 + abs(x)), WIDE + [1e150, -1e150, 1e300]),
    "leaky_relu": (lambda x, s: x if x > 0 else s * x, [(x, s) for x in WIDE for s in (0.01, 0.2, 3.0)]),
    "elu": (_elu_ref, [(x, a) for x in WIDE for a in (1.0, 0.5, 2.0)]),
    "atan2": (mpmath.atan2, [(y, x) for y in (-3.0, -1e-5, 0.5, 2.0, 1e150) for x in (-2.0, -1e-200, 0.7, 4.0, 1e150)]),
    "hypot": (mpmath.hypot, [(a, b) for a in (-3.0, -1e-200, 0.5, 1e200) for b in (-2.0, 1e-5, 4.0, 1e200)]),
    "max": (lambda *xs: max(xs), [(1.0, 2.0, 3.0), (-1.0, 5.0, 2.0, 0.0), (7.0, -7.0)]),
    "min": (lambda *xs: min(xs), [(1.0, 2.0, 3.0), (-1.0, 5.0, 2.0, 0.0), (7.0, -7.0)]),
}


def _close(got: float, expected, rel: float = 4e-15, tiny: float = 1e-300) -> bool:
    expected = float(expected)
    return got == expected or abs(got - expected) <= rel * abs(expected) + tiny


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_course_functions_agree_with_mpmath_value_and_derivative(name: str) -> None:
    # values to a few ulps, each partial against mpmath's derivative (taken
    # numerically at 50 digits, independently of bpcalc's formulas)
    fn, points = REFERENCES[name]
    op = OPS[name]
    for point in points:
        args = point if isinstance(point, tuple) else (point,)
        value = op.forward(*args)
        assert _close(value, fn(*map(mpmath.mpf, args))), (name, args, value)
        partials = op.partials(*args, value)
        assert len(partials) == len(args)
        for k, got in enumerate(partials):
            def along(t, k=k):
                moved = [mpmath.mpf(a) for a in args]
                moved[k] = t
                return fn(*moved)

            with mpmath.workdps(600):  # atan2(-3, -1e-200) changes by 1e-221 relative
                h = mpmath.mpf(abs(args[k])) * mpmath.mpf("1e-100") or mpmath.mpf("1e-120")
                expected = mpmath.diff(along, mpmath.mpf(args[k]), h=h)
            assert _close(got, expected, rel=1e-12), (name, args, k, got, expected)


def test_numbers_a_student_checks_by_hand() -> None:
    assert OPS["atan"].forward(1.0) == math.pi / 4 and OPS["atan"].partials(1.0, math.pi / 4) == (0.5,)
    assert OPS["asin"].partials(0.5, math.asin(0.5))[0] == pytest.approx(2 / math.sqrt(3), rel=1e-15)
    assert OPS["log10"].forward(1000.0) == 3.0 and OPS["log2"].forward(8.0) == 3.0
    assert OPS["atan2"].forward(1.0, -1.0) == 3 * math.pi / 4
    assert OPS["atan2"].partials(1.0, -1.0, 0.0) == (-0.5, -0.5)
    assert OPS["hypot"].forward(3.0, 4.0) == 5.0 and OPS["hypot"].partials(3.0, 4.0, 5.0) == (0.6, 0.8)
    assert OPS["sign"].forward(-3.0) == -1.0 and OPS["sign"].partials(-3.0, -1.0) == (0.0,)
    assert OPS["leaky_relu"].forward(-2.0, 0.01) == -0.02 and OPS["leaky_relu"].partials(-2.0, 0.01, -0.02) == (0.01, -2.0)
    assert OPS["elu"].partials(-1.0, 2.0, 0.0) == (2 * math.exp(-1.0), math.expm1(-1.0))
    assert OPS["max"].forward(1.0, 5.0, 3.0) == 5.0 and OPS["min"].forward(4.0, -1.0, 3.0, 2.0) == -1.0


def test_max_and_min_ties_split_evenly_among_every_tied_argument() -> None:
    # a chain of two-way splits would give 0.25/0.25/0.5 for a three-way tie
    assert OPS["max"].partials(2.0, 2.0, 2.0, 2.0) == (1 / 3, 1 / 3, 1 / 3)
    assert OPS["max"].partials(1.0, 3.0, 3.0, 3.0) == (0.0, 0.5, 0.5)
    assert OPS["min"].partials(0.0, 0.0, 1.0, 0.0, 0.0) == (1 / 3, 1 / 3, 0.0, 1 / 3)
    assert OPS["min"].partials(0.0, 0.0, 1.0, 0.0, 0.0, 0.0) == (0.25, 0.25, 0.0, 0.25, 0.25)
    assert OPS["max"].partials(1.0, 3.0, 2.0, 3.0) == (0.0, 1.0, 0.0)
    assert "1/3 each" in OPS["max"].kink(2.0, 2.0, 2.0)
    assert OPS["max"].kink(1.0, 2.0, 2.0) and not OPS["max"].kink(2.0, 2.0, 3.0)
    for args in itertools.product(SPECIAL[:6], repeat=3):  # never raise, with three arguments too
        for name in ("max", "min"):
            out = OPS[name].forward(*args)
            assert all(isinstance(p, float) for p in OPS[name].partials(*args, out))
            OPS[name].kink(*args)
    # a nan argument: the result and its partials stay nan
    assert math.isnan(OPS["max"].forward(1.0, math.nan, 3.0))
    assert all(math.isnan(p) for p in OPS["max"].partials(1.0, math.nan, 3.0, math.nan))
    with np.errstate(all="ignore"):
        cols = [np.array([2.0, 1.0]), np.array([2.0, 3.0]), np.array([2.0, 3.0])]
        out = OPS["max"].np_forward(np, *cols)
        partials = OPS["max"].np_partials(np, *cols, out)
        ties = OPS["max"].np_kink(np, *cols)
    assert list(out) == [2.0, 3.0] and list(ties) == [True, True]
    assert [list(p) for p in partials] == [[1 / 3, 0.0], [1 / 3, 0.5], [1 / 3, 0.5]]


def test_stable_forms_far_out_and_close_to_zero() -> None:
    for name, x, expected in [
        ("gelu", -800.0, 0.0), ("gelu", 800.0, 800.0), ("silu", -800.0, 0.0), ("silu", 800.0, 800.0),
        ("softsign", 1e300, 1.0), ("softsign", -math.inf, -1.0), ("log1p", 1e-20, 1e-20), ("expm1", 1e-20, 1e-20),
        ("expm1", -800.0, -1.0),
    ]:
        assert OPS[name].forward(x) == expected, (name, x)
    for name, x, expected in [
        ("gelu", -800.0, 0.0), ("gelu", 800.0, 1.0), ("silu", -800.0, 0.0), ("silu", 800.0, 1.0),
        ("softsign", 1e150, 1e-300), ("log1p", 1e-20, 1.0), ("expm1", -40.0, float(mpmath.exp(-40))),
        ("acosh", 1e200, 1e-200), ("asinh", -1e200, 1e-200),
    ]:
        got = OPS[name].partials(x, OPS[name].forward(x))[0]
        assert _close(got, expected, rel=1e-14), (name, x, got)
    # gelu below 0 from erfc: 1 + erf(x) would cancel to 0 at x = -10
    assert _close(OPS["gelu"].forward(-10.0), -10 * mpmath.ncdf(-10), rel=1e-14)
    assert OPS["gelu"].underflow(-0.0, -800.0) and not OPS["gelu"].underflow(0.0, 0.0)
    assert OPS["silu"].underflow(-0.0, -800.0) and not OPS["silu"].underflow(0.0, 0.0)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        far = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
        for name in ("gelu", "silu", "softsign"):
            out = OPS[name].np_forward(np, far)
            (slope,) = OPS[name].np_partials(np, far, out)
            assert list(out) == [OPS[name].forward(v) for v in far], name
            assert all(math.isfinite(v) for v in slope), name


def test_domains_and_overflow_of_the_course_functions() -> None:
    for name, x, message in [
        ("acosh", 0.5, "acosh of a number less than 1 (0.5)"),
        ("atanh", 1.0, "atanh of 1 (it is +inf)"),
        ("atanh", -1.0, "atanh of -1 (it is -inf)"),
        ("atanh", 2.0, "atanh of a number outside (-1, 1) (2)"),
        ("asin", 2.0, "asin of a number outside [-1, 1] (2)"),
        ("acos", -1.5, "acos of a number outside [-1, 1] (-1.5)"),
        ("log10", -1.0, "log10 of a negative number (-1)"),
        ("log2", 0.0, "log2 of 0 (it is -inf)"),
        ("log1p", -1.0, "log1p of -1 (it is -inf)"),
        ("log1p", -2.0, "log1p of a number less than -1 (-2)"),
    ]:
        with pytest.raises(ValueError):
            OPS[name].forward(x)
        assert OPS[name].domain(x) == message
    for name, x, expected in [("sinh", -1000.0, -math.inf), ("sinh", 1000.0, math.inf),
                              ("cosh", -1000.0, math.inf), ("expm1", 1000.0, math.inf)]:
        with pytest.raises(OverflowError):
            OPS[name].forward(x)
        assert OPS[name].overflow(x) == expected
    # partials never raise there either
    assert OPS["cosh"].partials(-1000.0, math.inf) == (-math.inf,)
    assert OPS["sinh"].partials(-1000.0, -math.inf) == (math.inf,)
    assert OPS["expm1"].partials(1000.0, math.inf) == (math.inf,)
    assert OPS["asin"].partials(1.0, math.pi / 2) == (math.inf,)
    assert math.isnan(OPS["asin"].partials(2.0, math.nan)[0])
    # a nan never becomes a number
    assert math.isnan(OPS["hypot"].forward(math.inf, math.nan))
    assert math.isnan(OPS["softsign"].forward(math.nan)) and math.isnan(OPS["sign"].forward(math.nan))
    assert math.isnan(OPS["sign"].partials(math.nan, math.nan)[0])


def test_conventions_at_the_course_functions_kinks() -> None:
    # PyTorch: leaky_relu'(0) and elu'(0) are the left slopes, sign'(0) = 0,
    # atan2 at the origin has partials 0, hypot's are 0/0 = nan
    assert OPS["leaky_relu"].partials(0.0, 0.01, 0.0) == (0.01, 0.0)
    assert OPS["leaky_relu"].kink(0.0, 0.01) == "leaky_relu'(0) = 0.01, the slope on the left (PyTorch convention)"
    assert OPS["elu"].partials(0.0, 2.0, 0.0) == (2.0, 0.0)
    assert OPS["elu"].kink(0.0, 2.0) and OPS["elu"].kink(0.0, 1.0) is None  # smooth when alpha = 1
    assert OPS["sign"].partials(0.0, 0.0) == (0.0,) and "sign'(0) = 0" in OPS["sign"].kink(0.0)
    assert OPS["atan2"].partials(0.0, 0.0, 0.0) == (0.0, 0.0) and "atan2(0, 0)" in OPS["atan2"].kink(0.0, 0.0)
    assert all(math.isnan(p) for p in OPS["hypot"].partials(0.0, 0.0, 0.0)) and OPS["hypot"].kink(0.0, 0.0)
    assert OPS["acosh"].kink(1.0) == "acosh'(1) = +inf (infinite slope; PyTorch gives +inf)"
    assert OPS["acos"].partials(-1.0, math.pi) == (-math.inf,)


def test_table_lookups_for_the_new_names() -> None:
    for alias, name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                        ("arccosh", "acosh"), ("arctanh", "atanh"), ("swish", "silu")]:
        assert FUNCTIONS[alias] is OPS[name]
    assert OPS["leaky_relu"].defaults == (0.01,) and OPS["elu"].defaults == (1.0,)
    assert OPS["leaky_relu"].accepts(1) and OPS["leaky_relu"].accepts(2) and not OPS["leaky_relu"].accepts(3)
    assert OPS["max"].accepts(7) and not OPS["max"].accepts(1) and not OPS["atan2"].accepts(3)
    assert OPS["max"].arguments() == "2 or more arguments" and OPS["elu"].arguments() == "1 or 2 arguments"
    assert OPS["max"].formula(2, ["x", "y", "z"]) == "1 if z = max(x, y, z) else 0 (1/k on a k-way tie)"
    assert OPS["max"].formula(1, ["x", "y"]) == "1 if y > x else 0 (0.5 on a tie)"
    assert OPS["min"].latex_call(["x", "y", "z"]) == "\\min(x, y, z)" and OPS["min"].latex_call(["x", "y"]) is None


TORCH_POINTS = [-800.0, -40.0, -3.0, -1.0, -0.999, -0.5, -1e-8, 1e-8, 0.5, 0.999, 1.5, 3.0, 40.0, 700.0, 800.0]


def test_course_functions_agree_with_torch_in_float64() -> None:
    # a developer check: skipped where PyTorch is not installed (CI)
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    unary = {
        "asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
        "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh, "log10": torch.log10,
        "log2": torch.log2, "log1p": torch.log1p, "expm1": torch.expm1, "erf": torch.erf, "sign": torch.sign,
        "gelu": functional.gelu, "silu": functional.silu, "softsign": functional.softsign,
        "leaky_relu": lambda t: functional.leaky_relu(t, 0.2), "elu": lambda t: functional.elu(t, 2.0),
    }
    extra = {"leaky_relu": (0.2,), "elu": (2.0,)}
    # where PyTorch's formula cancels (expm1' as result + 1, gelu from 1 + erf)
    # bpcalc keeps the accurate value: compare those with an absolute tolerance
    loose = {("expm1", -40.0), ("gelu", -40.0), ("gelu", -3.0)}
    for name, fn in unary.items():
        op = OPS[name]
        for x in TORCH_POINTS + [0.0]:
            args = (x, *extra.get(name, ()))
            try:
                value = op.forward(*args)
            except (ValueError, OverflowError):
                continue
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            out = fn(t)
            out.backward()
            rel, tiny = (1e-6, 1e-15) if (name, x) in loose else (1e-13, 1e-300)
            assert _close(value, out.item(), rel, tiny), (name, x, value, out.item())
            assert _close(op.partials(*args, value)[0], t.grad.item(), rel, tiny), (name, x, t.grad.item())
    for y in (-2.0, 0.0, 0.5, 3.0):
        for x in (-2.0, 0.0, 0.5, 3.0):
            for name, fn in (("atan2", torch.atan2), ("hypot", torch.hypot)):
                ty, tx = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (y, x))
                fn(ty, tx).backward()
                value = OPS[name].forward(y, x)
                for got, want in zip(OPS[name].partials(y, x, value), (ty.grad.item(), tx.grad.item())):
                    assert (math.isnan(got) and math.isnan(want)) or _close(got, want, 1e-14), (name, y, x)
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, 1.0, 3.0, 3.0)]
    torch.stack(ts).amax().backward()
    assert OPS["max"].partials(3.0, 1.0, 3.0, 3.0, 3.0) == tuple(t.grad.item() for t in ts)


def test_no_op_turns_a_nan_into_a_number() -> None:
    nan = math.nan
    for name, op in OPS.items():
        args = (nan,) * op.arity
        assert math.isnan(op.forward(*args)), name
        for k in range(op.arity):  # nan in one argument, an ordinary number in the other
            mixed = tuple(nan if j == k else 1.0 for j in range(op.arity))
            try:
                assert math.isnan(op.forward(*mixed)), (name, mixed)
            except (ValueError, ZeroDivisionError):
                pass
        # a partial that is exactly 0 would pass nothing back: the gradient would lose the nan
        assert all(p != 0.0 for p in op.partials(*args, nan)), name
    assert math.isnan(OPS["pow"].forward(1.0, nan)) and math.isnan(OPS["pow"].forward(nan, 0.0))  # IEEE says 1
    assert all(map(math.isnan, OPS["relu"].partials(nan, nan) + OPS["abs"].partials(nan, nan)))
    assert all(map(math.isnan, OPS["max"].partials(nan, 1.0, nan) + OPS["min"].partials(1.0, nan, nan)))


@pytest.mark.parametrize("b", [math.inf, -math.inf, math.nan, 1e308])
def test_pow_rules_take_any_exponent(b: float) -> None:
    pow_ = OPS["pow"]
    for a in (0.0, -2.0, 0.5, 3.0):
        pow_.partials(a, b, pow_.overflow(a, b))
        assert pow_.kink is not None and pow_.domain is not None
        pow_.kink(a, b)
        pow_.domain(a, b)
    assert pow_.kink(0.0, math.inf) is None  # no kink message for a non-finite exponent
    assert pow_.overflow(-2.0, 1e308) == math.inf  # 1e308 is even
    assert pow_.overflow(-2.0, 3.0) == -math.inf


def test_atan2_slopes_vanish_when_one_side_is_infinite() -> None:
    # found by the differential run: atan2(-inf, 0.5) is -pi/2 and flat there (PyTorch: 0.5/inf = 0)
    import numpy as np

    assert OPS["atan2"].partials(-math.inf, 0.5, -math.pi / 2) == (0.0, 0.0)
    assert OPS["atan2"].partials(2.0, math.inf, 0.0) == (0.0, 0.0)
    assert all(map(math.isnan, OPS["atan2"].partials(math.inf, math.inf, math.pi / 4)))
    with np.errstate(all="ignore"):  # as the engines call it
        got = OPS["atan2"].np_partials(np, np.array([-math.inf, 1.0]), np.array([0.5, 2.0]), None)
    assert got[0].tolist() == [0.0, 2.0 / 5.0] and got[1].tolist() == [0.0, -1.0 / 5.0]


# --- tensor ops: outer, and the backward steps as programs ----------------------------

from bpcalc.ops import TENSOR_OPS  # noqa: E402


def test_outer_is_a_column_times_a_row_with_its_vjp():
    u, v = np.array([1.0, -2.0]), np.array([3.0, 0.5, 4.0])
    op = TENSOR_OPS["outer"]
    np.testing.assert_array_equal(op.forward(np, u, v), [[3.0, 0.5, 4.0], [-6.0, -1.0, -8.0]])
    g = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    du, dv = op.vjp(np, g, u, v, None)
    # d/du_i sum_j g_ij u_i v_j = sum_j g_ij v_j; d/dv_j = sum_i g_ij u_i
    np.testing.assert_array_equal(du, [3 + 1 + 12, 12 + 2.5 + 24])
    np.testing.assert_array_equal(dv, [1 - 8, 2 - 10, 3 - 12])
    assert op.shape(["u", "v"], (2,), (3,)) == (2, 3)


@pytest.mark.parametrize("shapes, expected", [
    (((2, 3), (3, 4)), ("dC @ B.T", "A.T @ dC")),
    (((3,), (3, 4)), ("dC @ B.T", "outer(A, dC)")),
    (((2, 3), (3,)), ("outer(dC, B)", "A.T @ dC")),
    (((3,), (3,)), ("dC * B", "dC * A")),
    (((5, 2, 3), (3, 4)), (None, None)),
])
def test_matmul_program_for_each_pair_of_shapes(shapes, expected):
    assert TENSOR_OPS["matmul"].program(["A", "B"], "dC", "C", shapes) == expected


def test_every_tensor_op_has_a_program():
    assert all(op.program is not None for op in TENSOR_OPS.values() if op.name not in ("amax", "amin"))
    assert TENSOR_OPS["sum"].program(["X"], "ds", "s", [(2, 3)], axis=1) == ("(ds + 0 * X.T).T",)
    assert TENSOR_OPS["mean"].program(["X"], "dm", "m", [(2, 3)]) == ("dm / 6 + 0 * X",)
    assert TENSOR_OPS["softmax"].program(["X"], "dp", "p", [(2, 3)], axis=0) == (None,)


def test_an_ops_ufunc_is_its_numpy_forward_bit_for_bit() -> None:
    # the vectorized engine writes these ops' results into reused buffers
    # through the ufunc: the numbers must be np_forward's, nan and inf included
    special = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-310, -1e-310, 1e308, -1e308, 710.0, -745.5,
               math.inf, -math.inf, math.nan, math.pi, 1 - 2**-53, 1 + 2**-52]
    rng = np.random.default_rng(5)
    x = np.concatenate([np.array(special), rng.normal(size=400) * 3, rng.uniform(-1, 1, 200)])
    y = np.concatenate([np.array(special[::-1]), rng.normal(size=400), rng.uniform(0.1, 4, 200)])
    with_ufunc = [op for op in OPS.values() if op.np_ufunc]
    assert {op.name for op in with_ufunc} >= {"neg", "add", "sub", "mul", "div", "exp", "log", "sqrt", "tanh"}
    with np.errstate(all="ignore"):
        for op in with_ufunc:
            args = (x,) if op.arity == 1 else (x, y)
            expected = op.np_forward(np, *args)
            got = getattr(np, op.np_ufunc)(*args, out=np.empty(len(x)))
            assert np.array_equal(got.view(np.int64), np.asarray(expected, dtype=np.float64).view(np.int64)), op.name


def test_an_op_marked_nonnegative_never_gives_a_negative_number() -> None:
    # the vectorized engine takes the sign of these ops' results for granted
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(size=500) * 10, [0.0, -0.0, 1.0, -1.0, 1e-310, 745.0, -745.0, 1e308]])
    y = rng.normal(size=len(x)) * 10
    marked = [op for op in OPS.values() if op.nonnegative]
    assert {op.name for op in marked} >= {"exp", "sqrt", "abs", "sigmoid", "softplus", "relu"}
    with np.errstate(all="ignore"):
        for op in marked:
            out = np.asarray(op.np_forward(np, *((x,) if op.arity == 1 else (x, y))))
            assert not (out < 0).any(), op.name
            assert all(op.forward(*((v,) if op.arity == 1 else (v, 1.0))) >= 0 for v in [1.5, 2.0, 3.0]), op.name
