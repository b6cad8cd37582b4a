"""bpcalc.grad_batch: the batch engine in memory gives bpcalc grad's numbers
at every point; the jittered pass's shortcut holds only where it may."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bpcalc
from bpcalc import vector
from bpcalc.errors import Source
from bpcalc.lang.lower import build

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"


def test_values_and_gradients_are_grads_at_every_point() -> None:
    rng = np.random.default_rng(4)
    points = {name: rng.normal(size=300) for name in ("w0", "x0", "w1", "x1", "w2")}
    r = bpcalc.grad_batch(NEURON, points)
    assert r.wrt == ("w0", "x0", "w1", "x1", "w2") and len(r) == 300
    for k in range(0, 300, 7):
        one = bpcalc.grad(NEURON, at={n: float(c[k]) for n, c in points.items()}, check=False)
        assert math.isclose(r.value[k], one.value, rel_tol=1e-11)
        for name in r.wrt:
            assert math.isclose(r.gradient[name][k], one.gradient[name], rel_tol=1e-11, abs_tol=1e-300)


def test_errors_warnings_wrt_and_ill_conditioned_points() -> None:
    r = bpcalc.grad_batch("x*y + log(x)", {"x": [1.0, -1.0, 2.0], "y": np.array([3.0, 4.0, 5.0])}, wrt=["y"])
    assert r.wrt == ("y",) and list(r.gradient) == ["y"]
    assert r.gradient["y"][0] == 1.0 and math.isnan(r.value[1]) and "log" in r.errors[1]
    program = "1.5*cos(exp(y)^exp(sigmoid(3)))"
    r = bpcalc.grad_batch(program, {"y": [230.72562134532865, 1.0]})
    one = bpcalc.grad(program, at={"y": 230.72562134532865}, check=False)
    assert (r.value[0], r.gradient["y"][0]) == (one.value, one.gradient["y"])
    assert r.ill_conditioned.tolist() == [True, False] and 0 in r.warnings and 1 not in r.warnings


def test_missing_inputs_are_refused() -> None:
    with pytest.raises(bpcalc.BpcalcError):
        bpcalc.grad_batch("x*y", {"x": [1.0]})
    with pytest.raises(bpcalc.BpcalcError, match="same number of points"):
        bpcalc.grad_batch("sum(W @ x)", {"W": np.zeros((2, 2, 2)), "x": np.zeros((3, 2))})


def test_a_program_with_vectors_and_matrices_point_by_point() -> None:
    # f = sum(W @ x): df/dW[i, j] = x[j], df/dx[j] = sum_i W[i, j] (by hand, per point)
    W = np.array([[[1, 2], [3, 4]], [[0, 1], [1, 0]]], dtype=float)
    x = np.array([[1, 0], [2, 3]], dtype=float)
    r = bpcalc.grad_batch("f = sum(W @ x)", {"W": W, "x": x})
    assert r.value.tolist() == [4.0, 5.0]
    assert r.gradient["W"].tolist() == [[[1, 0], [1, 0]], [[2, 3], [2, 3]]]
    assert r.gradient["x"].tolist() == [[4, 6], [1, 1]]
    # log of a negative entry at the second point: nan there, and its message
    bad = bpcalc.grad_batch("sum(log(x))", {"x": [[1.0, 1.0], [-1.0, 1.0]]})
    assert bad.value[0] == 0.0 and np.isnan(bad.value[1]) and np.isnan(bad.gradient["x"][1]).all()
    assert bad.gradient["x"][0].tolist() == [1.0, 1.0]
    assert bad.errors == {1: "log of a negative number (-1) in %1 `log(x)` at entry [0]"}


def tape_of(text: str) -> vector.VectorTape:
    return vector.vector_tape(build(Source(text))[0])


def test_the_second_pass_recomputes_only_what_rounding_can_move() -> None:
    # exp, then 2 - e (which can cancel), then 1/(...): three nodes again, one frontier (the exponent's adjoint)
    near = tape_of("1/(2 - exp(-(w0*x0 + w1*x1 + w2)))")
    assert len(near.tainted) == 3 and near.frontier is not None and len(near.frontier) == 1 and not near.bounded
    # the neuron's 1 + e cannot cancel: bounded, no second pass at all
    neuron = tape_of(NEURON)
    assert neuron.bounded and neuron.tainted == ()
    assert tape_of("(x + y) * z - x / y").tainted == ()  # correctly rounded operations only
    # an adjoint summed from two paths below the inexact part can cancel: the whole pass runs again
    assert tape_of("exp(x*y - x*z)").frontier is None


def test_cancellation_below_the_frontier_is_still_found() -> None:
    # adj_x = g*y - g*z with y and z nearly equal: g's last bit decides
    text = "exp(a*y - a*z + 1) * 3 + a"
    g = build(Source(text))[0]
    y = np.array([1.0 + 2.0**-50, 0.5])
    z = np.array([1.0, -0.5])
    a = np.array([0.3, 0.3])
    batch = vector.evaluate(g, {"a": a, "y": y, "z": z})
    assert batch.suspect[0] or math.isclose(
        batch.gradient[0, 0], bpcalc.grad(text, at={"a": 0.3, "y": float(y[0]), "z": 1.0}, check=False).gradient["a"],
        rel_tol=1e-11)
