"""The vectorized engine agrees with the scalar engine, point by point, and
marks as suspect every point where the scalar engine's exact rules matter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpcalc import vector
from bpcalc.engine import backward, forward
from bpcalc.errors import BpcalcError, Source
from bpcalc.lang.lower import build
from bpcalc.vector import chunk_rows, evaluate, outputs

EVERY_OP = (
    "a = x*y; b = a + x; c = b*b - a/y\n"
    "sigmoid(c) + tanh(a) + relu(b) + softplus(-c) + abs(x) + max(x, y) + min(a, b) + sqrt(x*x + 1)"
    " + x^y + log(y*y + 1) + sin(x)*cos(y) + tan(x/10) + exp(-x*x) - (-y)"
)


def graph_of(text: str):
    return build(Source(text))[0]


def scalar(graph, point):
    values, fw = forward(graph, point)
    adjoints, bw = backward(graph, values)
    return values[graph.output], {n: adjoints[graph.input_id(n)] or 0.0 for n in graph.input_names}, fw + bw


def test_every_op_agrees_with_the_scalar_engine_at_regular_points() -> None:
    g = graph_of(EVERY_OP)
    rng = np.random.default_rng(1)
    cols = {"x": rng.uniform(0.1, 2, 500), "y": rng.uniform(0.1, 2, 500)}
    batch = evaluate(g, cols)
    assert not batch.suspect.any()
    for k in range(500):
        value, grad, warnings = scalar(g, {n: float(c[k]) for n, c in cols.items()})
        assert not warnings
        assert math.isclose(batch.value[k], value, rel_tol=1e-12)
        for j, name in enumerate(batch.wrt):
            assert math.isclose(batch.gradient[j, k], grad[name], rel_tol=1e-10, abs_tol=1e-14)


def test_suspect_points_are_exactly_where_the_scalar_engine_warns_or_fails() -> None:
    g = graph_of(EVERY_OP)
    rng = np.random.default_rng(2)
    cols = {"x": rng.normal(size=2000), "y": rng.normal(size=2000)}
    cols["x"][:5] = [0.0, 1.0, -1.0, 0.5, 3.0]  # abs/relu kinks, ties of max(x, y)
    cols["y"][:5] = [1.0, 1.0, 0.5, 0.5, 0.0]
    batch = evaluate(g, cols)
    for k in range(2000):
        try:
            value, grad, warnings = scalar(g, {n: float(c[k]) for n, c in cols.items()})
        except BpcalcError:
            assert batch.suspect[k]
            continue
        if warnings:
            assert batch.suspect[k], (k, [w.message for w in warnings])
        elif not batch.suspect[k]:
            assert math.isclose(batch.value[k], value, rel_tol=1e-11, abs_tol=1e-13)
    assert batch.suspect[:3].all()
    assert 0 < batch.suspect.sum() < 2000


@pytest.mark.parametrize(
    "program, x",
    [
        ("log(x)", -1.0),  # domain error
        ("1^log(x)", -1.0),  # a nan the output hides: 1^nan = 1
        ("tanh(exp(1000*x))", 1.0),  # overflow, then a zero adjoint times an infinite partial
        ("exp(-1000*x*x) + x", 1.0),  # underflow
        ("sqrt(x)", 0.0),  # infinite slope at a kink
        ("x + 0*exp(1000)", 1.0),  # a constant overflows: every point
        ("max(x, 1/x - x)", 1.0 / math.sqrt(2)),  # suspect exactly when it is a tie in floating point
        ("x*x", 0.5),  # nothing wrong
    ],
)
def test_hidden_trouble_is_always_caught(program: str, x: float) -> None:
    g = graph_of(program)
    points = [x, 0.75]
    batch = evaluate(g, {"x": np.array(points)})
    for k, at in enumerate(points):
        try:
            trouble = bool(scalar(g, {"x": at})[2])
        except BpcalcError:
            trouble = True
        # suspect exactly where there is trouble, or where rounding alone
        # moves the result (a near tie: then the scalar engine decides)
        assert bool(batch.suspect[k]) == (trouble or bool(batch.sensitive[k])), (program, at)


def test_fan_out_and_aliasing_accumulate_like_the_scalar_engine() -> None:
    for program in ("x + x", "x*x + x", "x - x + y", "a = x + y; a + a", "a = x*y; b = a - a*a; b/a + sin(a)"):
        g = graph_of(program)
        cols = {n: np.array([0.3, -1.7, 2.5]) for n in g.input_names}
        batch = evaluate(g, cols)
        for k in range(3):
            _v, grad, _w = scalar(g, {n: float(c[k]) for n, c in cols.items()})
            for j, name in enumerate(batch.wrt):
                assert math.isclose(batch.gradient[j, k], grad[name], rel_tol=1e-12, abs_tol=1e-15), program


def test_chunks_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    g = graph_of("1/(1 + exp(-(w*x + b)))")
    rng = np.random.default_rng(3)
    cols = {n: rng.normal(size=1001) for n in g.input_names}
    whole = evaluate(g, cols)
    monkeypatch.setattr(vector, "CHUNK_ROWS", 7)
    pieces = evaluate(g, cols)
    assert np.array_equal(whole.value, pieces.value) and np.array_equal(whole.gradient, pieces.gradient)
    assert np.array_equal(outputs(g, cols), whole.value)


def test_wrt_order_constants_and_no_inputs() -> None:
    g = graph_of("y*pi + x^2")
    batch = evaluate(g, {"x": np.array([3.0]), "y": np.array([1.0])}, wrt=("x",))
    assert batch.wrt == ("x",) and batch.gradient.shape == (1, 1) and batch.gradient[0, 0] == 6.0
    constant = graph_of("2*3")
    assert list(evaluate(constant, {}).value) == [6.0]
    with pytest.raises(ValueError):
        evaluate(g, {"x": np.array([1.0])})


def test_large_programs_get_small_chunks() -> None:
    g = graph_of("a = x\n" + "a = a*x + 1\n" * 20_000 + "a")
    assert chunk_rows(g) * 16 * len(g) <= vector.MAX_CHUNK_BYTES
    batch = evaluate(g, {"x": np.full(100, 0.5)})
    _v, grad, _w = scalar(g, {"x": 0.5})
    assert np.allclose(batch.gradient[0], grad["x"], rtol=1e-12)


COURSE_OPS = (
    "t = x/(1 + abs(x)) * 0.9\n"
    "asin(t) + acos(t) + atan(x) + atan2(y, x) + sinh(x) + cosh(y) + asinh(x) + acosh(1.5 + y*y)"
    " + atanh(t) + log10(y*y + 1) + log2(x*x + 2) + log1p(y*y) + expm1(x) + erf(x) + sign(x)*y"
    " + hypot(x, y) + leaky_relu(x) + leaky_relu(y, x) + elu(x) + elu(y, 0.5*x) + gelu(x) + silu(y)"
    " + swish(x) + softsign(y) + max(x, y, x*y) + min(x, 0.5, y, -x)"
)


def test_the_course_functions_agree_with_the_scalar_engine() -> None:
    g = graph_of(COURSE_OPS)
    rng = np.random.default_rng(3)
    cols = {"x": rng.normal(size=400) * 2, "y": rng.normal(size=400) * 2}
    cols["x"][:4] = [0.0, 1.0, 2.0, -1.5]  # sign, leaky_relu and elu at 0; ties in max and min
    cols["y"][:4] = [1.0, 1.0, 1.0, -1.5]
    batch = evaluate(g, cols)
    assert batch.suspect[:4].all() and batch.suspect.sum() < 40
    for k in range(400):
        value, grad, warnings = scalar(g, {n: float(c[k]) for n, c in cols.items()})
        if batch.suspect[k]:
            continue
        assert not warnings
        assert math.isclose(batch.value[k], value, rel_tol=1e-12)
        for j, name in enumerate(batch.wrt):
            assert math.isclose(batch.gradient[j, k], grad[name], rel_tol=1e-10, abs_tol=1e-13)


def test_a_tie_among_three_arguments_is_suspect_and_the_rest_is_fast() -> None:
    g = graph_of("max(x, y, z) * 2")
    batch = evaluate(g, {"x": np.array([1.0, 1.0, 3.0]), "y": np.array([1.0, 2.0, 1.0]),
                         "z": np.array([1.0, 0.0, 2.0])})
    assert list(batch.suspect) == [True, False, False]
    assert batch.gradient[:, 1].tolist() == [0.0, 2.0, 0.0] and batch.gradient[:, 2].tolist() == [2.0, 0.0, 0.0]
    assert list(outputs(g, {"x": np.array([1.0]), "y": np.array([5.0]), "z": np.array([-1.0])})) == [10.0]


def test_every_other_point_agrees_with_the_scalar_engine_to_1e_11() -> None:
    # random nested programs over every op at
    # random points: where the vectorized engine keeps a point, its numbers are
    # within 1e-11 (relative) of the scalar engine's; elsewhere it is suspect
    import random

    rng = random.Random(3)
    templates = ["exp({a})", "log(1 + ({a})^2)", "sqrt(1 + ({a})^2)", "sin({a})", "cos({a})", "tan({a})",
                 "tanh({a})", "sigmoid({a})", "relu({a})", "softplus({a})", "abs({a})", "({a})^3",
                 "({a}) * ({b})", "({a}) / (2 + cos({b}))", "max({a}, {b})", "min({a}, {b})", "({a}) - ({b})",
                 "-({a})", "(1 + ({a})^2)^({b})"]
    checked = 0
    for _ in range(300):
        text = "x"
        for _ in range(rng.randint(2, 6)):
            t = rng.choice(templates)
            text = t.format(a=text, b=rng.choice(["x", "y", "0.5", text]))
        text += " + y"
        g = graph_of(text)
        cols = {"x": np.array([rng.uniform(-3, 3) for _ in range(20)]), "y": np.array([rng.uniform(-3, 3) for _ in range(20)])}
        batch = evaluate(g, cols)
        for k in np.flatnonzero(~batch.suspect):
            value, grad, _ = scalar(g, {n: float(c[k]) for n, c in cols.items()})
            assert math.isclose(batch.value[k], value, rel_tol=1e-11, abs_tol=1e-300), text
            for j, name in enumerate(batch.wrt):
                assert math.isclose(batch.gradient[j, k], grad[name], rel_tol=1e-11, abs_tol=1e-300), (text, name)
            checked += 1
    assert checked > 3000
