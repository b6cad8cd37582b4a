"""Exact mode: exact values and gradients of every node, within a budget."""

from __future__ import annotations

import math

import pytest
import sympy as sp

import bpcalc
from bpcalc.api import analyze
from bpcalc.errors import Source
from bpcalc.exact import MAX_EXACT_TEXT, ExactResult, exact_values, to_float
from conftest import SAMPLES

APPLES = "apple_price = apple * num\nprice = apple_price * tax"
NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = {"w0": "2", "x0": "-1", "w1": "-3", "x1": "-2", "w2": "-3"}


def exact(program: str, at: dict[str, str], budget: float = 10.0):
    graph, point, _wrt, values, adjoints, _w, _tensor = analyze(Source(program), at)
    return graph, values, adjoints, exact_values(graph, point, budget)


def test_apples_give_exact_fractions():
    graph, _v, _a, r = exact(APPLES, {"apple": "100", "num": "2", "tax": "1.1"})
    assert r.ok and r.note == ""
    by = dict(zip(graph.labels, zip(r.values, r.adjoints)))
    assert by["apple"] == ("100", "11/5")
    assert by["tax"] == ("11/10", "200")
    assert by["num"] == ("2", "110")
    assert by["price"] == ("220", "1")
    assert r.latex_adjoints[graph.labels.index("apple")] == "\\frac{11}{5}"
    assert r.adjoint_floats[graph.labels.index("apple")] == 2.2  # correctly rounded
    assert r.partials[graph.labels.index("price")] == ("11/10", "200")


def test_sigmoid_neuron_gradient_is_exact():
    graph, values, adjoints, r = exact(NEURON, NEURON_AT)
    w2 = graph.input_id("w2")
    assert r.adjoints[w2] == "exp(-1)/(exp(-1) + 1)**2"
    assert r.adjoint_floats[w2] == pytest.approx(0.19661193324148185, rel=1e-15)
    assert r.values[graph.output] == "1/(exp(-1) + 1)"
    assert r.latex_values[graph.output] == "\\frac{1}{e^{-1} + 1}"
    # every node agrees with the engine to rounding
    for i in range(len(graph)):
        assert r.value_floats[i] == pytest.approx(values[i], rel=1e-12)
        if adjoints[i] is None:
            assert r.adjoints[i] is None and r.partials[i] == ()
        else:
            assert r.adjoint_floats[i] == pytest.approx(adjoints[i], rel=1e-12)


@pytest.mark.parametrize("program, at, node, partials", [
    ("relu(x)", {"x": "0"}, 1, ("0",)),  # relu'(0) = 0, not SymPy's Heaviside(0) = 1/2
    ("max(x, y)", {"x": "1", "y": "1"}, 2, ("1/2", "1/2")),  # a tie splits the gradient
    ("sqrt(x)", {"x": "0"}, 1, ("oo",)),
    ("x^0", {"x": "0"}, 2, ("0", None)),  # SymPy's 0*0**(-1) is nan; the engine's convention is 0
    ("abs(x)", {"x": "0"}, 1, ("0",)),
    ("relu(x)", {"x": "1/3"}, 1, ("1",)),
])
def test_conventions_at_kinks_match_the_engine(program, at, node, partials):
    _g, _v, adjoints, r = exact(program, at)
    assert r.ok
    assert r.partials[node] == partials
    assert r.adjoint_floats == tuple(adjoints)  # the same gradient as the engine


def test_exact_arithmetic_sees_what_floats_miss():
    graph, values, _a, r = exact("2*x", {"x": "0.1+0.2-0.3"})
    assert values[graph.input_id("x")] == pytest.approx(5.55e-17, rel=1e-2)
    assert r.values[graph.input_id("x")] == "0" and r.values[graph.output] == "0"


def test_no_overflow_in_exact_mode():
    graph, values, _a, r = exact("exp(x)", {"x": "1000"})
    assert math.isinf(values[graph.output])
    assert r.values[graph.output] == "exp(1000)" and r.adjoints[0] == "exp(1000)"
    assert math.isinf(r.value_floats[graph.output])


def test_long_exact_forms_become_decimals_with_a_note():
    graph, _v, _a, r = exact("x*y", {"x": "1e300", "y": "1e300"})
    assert r.ok
    assert r.values[graph.output] is None and r.value_floats[graph.output] == math.inf
    assert f"longer than {MAX_EXACT_TEXT} characters" in r.note


def test_running_out_of_budget_says_so():
    graph, _v, _a, r = exact(APPLES, {"apple": "100", "num": "2", "tax": "1.1"}, budget=0)
    assert not r.ok
    assert r.note == "exact mode: SymPy ran out of its 0 s budget; values are floats"
    assert r.values == (None,) * len(graph) and r.partials == ((),) * len(graph)


def test_failed_result_has_a_slot_per_node():
    r = ExactResult.failed(3, "why")
    assert (r.ok, r.note, r.adjoints, r.latex_values) == (False, "why", (None,) * 3, (None,) * 3)


@pytest.mark.parametrize("value, expected", [
    (sp.Rational(11, 5), 2.2), (sp.oo, math.inf), (-sp.oo, -math.inf), (sp.Integer(10) ** 400, math.inf),
])
def test_to_float(value, expected):
    assert to_float(sp, value) == expected


def test_to_float_of_undefined_is_nan():
    assert math.isnan(to_float(sp, sp.nan)) and math.isnan(to_float(sp, sp.I))


# --- through the CLI ------------------------------------------------------------


def test_grad_exact_table_and_json(cli):
    args = ("grad", "-f", str(SAMPLES / "apples.bp"), "--at", "apple=100,num=2,tax=1.1", "--exact", "--no-check")
    run = cli(*args)
    assert run.code == 0, run.err
    assert "∂price/∂apple = 11/5 ≈ 2.2" in run.out
    row = next(line for line in run.out.splitlines() if line.startswith("tax "))
    assert row.split()[-2:] == ["11/10", "200"]
    doc = cli(*args, "--json").json()
    assert doc["exact"]["ok"] is True
    assert doc["exact"]["gradient"] == {"apple": "11/5", "num": "110", "tax": "200"}
    assert doc["exact"]["latex"]["gradient"]["apple"] == "\\frac{11}{5}"
    assert doc["nodes"][2]["exact"] == {"value": "11/10", "grad": "200"}
    assert doc["gradient"]["apple"] == 2.2


def test_grad_exact_out_of_budget_falls_back_to_floats(cli):
    run = cli("grad", "x/3", "--at", "x=1", "--exact", "--budget", "0", "--no-check")
    assert run.code == 0
    assert "warning: exact mode: SymPy ran out of its 0 s budget; values are floats" in run.out
    assert "f = 0.333333" in run.out and "exact value" not in run.out
    doc = cli("grad", "x/3", "--at", "x=1", "--exact", "--budget", "0", "--no-check", "--json").json()
    assert doc["exact"]["ok"] is False and doc["exact"]["gradient"] == {"x": None}


def test_grad_json_has_null_exact_and_derivatives_by_default(cli):
    doc = cli("grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--no-check", "--json").json()
    assert doc["exact"] is None and doc["derivatives"] is None
    assert "exact" not in doc["nodes"][0]


@pytest.mark.parametrize("program, at, node, partials", [
    ("max(x, y, z)", {"x": "1", "y": "1", "z": "1"}, 3, ("1/3", "1/3", "1/3")),  # SymPy's Heaviside(0) is 1/2
    ("min(x, y, z)", {"x": "2", "y": "1", "z": "1"}, 3, ("0", "1/2", "1/2")),
    ("leaky_relu(x)", {"x": "0"}, 2, ("1/100", None)),  # the slope on the left; the default is a constant
    ("elu(x, 2)", {"x": "0"}, 2, ("2", None)),
    ("sign(x)", {"x": "0"}, 1, ("0",)),
    ("atan2(y, x)", {"x": "0", "y": "0"}, 2, ("0", "0")),
])
def test_course_functions_conventions_match_the_engine(program, at, node, partials):
    _g, _v, adjoints, r = exact(program, at)
    assert r.ok
    assert r.partials[node] == partials
    assert r.adjoint_floats == tuple(adjoints)


def test_course_functions_exact_values_and_gradients():
    graph, values, adjoints, r = exact("atan(x) + elu(y, a) + log2(x) + max(x, y, a)", {"x": "1", "y": "-1", "a": "3"})
    assert r.ok
    assert r.values[graph.output] == "pi/4 + 3*exp(-1)"  # atan(1) + 3*(exp(-1) - 1) + 0 + 3
    by = dict(zip(graph.labels, r.adjoints))
    assert by["x"] == "1/2 + 1/log(2)" and by["y"] == "3*exp(-1)" and by["a"] == "exp(-1)"
    assert r.adjoint_floats[graph.input_id("x")] == 0.5 + 1 / math.log(2)


def test_a_huge_power_is_not_asked_of_sympy() -> None:
    # exactly, 1.5^-1e308 has 10^307 digits: exact mode says so at once
    # instead of waiting out its budget, and the values stay floats
    import time

    start = time.monotonic()
    r = bpcalc.grad("x^-1e308 + x", at={"x": "1.5"}, check=False, exact=True, budget=10.0)
    assert time.monotonic() - start < 5.0
    assert r.exact is not None and not r.exact.ok
    assert r.exact.note == ("exact mode: %2 `x^-1e308` raises 1.5 to the power -1e+308, and evaluating "
                            "that exactly could take unbounded time and memory; values are floats")
    assert r.value == 1.5 and r.gradient == {"x": 1.0}
