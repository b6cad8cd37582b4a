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
        if name in ("log", "sqrt") or (name == "pow" and RNG.random() < 0.5):
            args = (abs(args[0]) + 1e-3, *args[1:])
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
    kinks = {"pow": [(0.0, 0.5), (0.0, 2.5)], "max": [(1.5, 1.5)], "min": [(-2.0, -2.0)]}.get(name, [(0.0,)])
    regular = {"pow": [(2.0, 0.5)], "max": [(1.0, 2.0)], "min": [(1.0, 2.0)]}.get(name, [(0.5,)])
    for args in kinks:
        assert op.kink(*args)
        assert bool(op.np_kink(np, *map(np.float64, args)))
    for args in regular:
        assert not op.kink(*args)
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
