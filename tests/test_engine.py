"""The scalar engine: fan-out, warnings, domain errors, and size (correctness
only; timings live in benchmarks/)."""

from __future__ import annotations

import math

import pytest

from bpcalc.api import without_gc
from bpcalc.engine import backward, forward
from bpcalc.errors import BpcalcError, Source
from bpcalc.lang.lower import build


def run(text: str, **point: float):
    with without_gc():
        graph, _ = build(Source(text))
        values, fw = forward(graph, point)
        adjoints, bw = backward(graph, values)
    grad = {n: adjoints[graph.input_id(n)] for n in graph.input_names}
    return graph, values, grad, [*fw, *bw]


def test_fan_out_accumulates_the_seed_example() -> None:
    # a feeds two units z' = w3*a and z'' = w4*a; C = z'^2/2 + z''^2/2:
    # dC/da = w3*dC/dz' + w4*dC/dz'' = w3*z' + w4*z''
    g, values, grad, _ = run("z1 = w3*a; z2 = w4*a; C = z1^2/2 + z2^2/2", a=2.0, w3=3.0, w4=-5.0)
    assert grad["a"] == 3.0 * (3.0 * 2.0) + (-5.0) * (-5.0 * 2.0)
    assert values[g.output] == (6.0**2 + 10.0**2) / 2
    _, _, grad, _ = run("x*x*x + x", x=2.0)
    assert grad["x"] == 3 * 4.0 + 1


def test_an_input_that_does_not_reach_the_output_has_gradient_zero() -> None:
    g, _, grad, _ = run("q = y*2; x + 1", x=1.0, y=3.0)
    assert grad == {"x": 1.0, "y": 0.0}


def test_overflow_is_inf_with_a_warning_and_domain_errors_name_the_node() -> None:
    _, values, grad, warnings = run("exp(x)*2", x=1000.0)
    assert any(w.kind == "overflow" and "exp" in w.message for w in warnings)
    assert grad["x"] == math.inf
    with pytest.raises(BpcalcError) as err:
        run("a = x - 1\nb = log(a)\nb*2", x=0.5)
    assert err.value.kind == "domain" and "log" in err.value.message and "b" in err.value.message
    with pytest.raises(BpcalcError):
        run("1/(x - x)", x=2.0)


def test_a_zero_adjoint_passes_nothing_back() -> None:
    # tanh(inf) = 1 has slope 0; exp(1000) overflowed to inf: 0 * inf is taken as 0
    _, _, grad, warnings = run("tanh(exp(1000*x))", x=1.0)
    assert grad["x"] == 0.0
    assert any(w.kind == "overflow" for w in warnings)


def test_kinks_are_reported_with_their_convention() -> None:
    _, _, grad, warnings = run("relu(x) + abs(y)", x=0.0, y=0.0)
    assert grad == {"x": 0.0, "y": 0.0}
    assert sum(w.kind == "kink" for w in warnings) == 2


def test_a_generated_million_node_program() -> None:
    # a = a*y + sin(a), 333 333 times: 999 999 op nodes plus inputs
    steps = 333_333
    g, values, grad, warnings = run("a = x\n" + "a = a*y + sin(a)\n" * steps + "a", x=0.3, y=0.5)
    assert len(g) >= 1_000_000
    # forward-mode dual numbers, independently: (a, da/dx, da/dy)
    a, ax, ay = 0.3, 1.0, 0.0
    for _ in range(steps):
        c = math.cos(a)
        a, ax, ay = a * 0.5 + math.sin(a), ax * 0.5 + c * ax, ay * 0.5 + a + c * ay
    assert values[g.output] == a
    assert math.isclose(grad["x"], ax, rel_tol=1e-9, abs_tol=1e-300)
    assert math.isclose(grad["y"], ay, rel_tol=1e-9)
    assert not warnings


def test_nesting_a_hundred_thousand_deep() -> None:
    depth = 100_000
    g, values, grad, _ = run("sin(" * depth + "x" + ")" * depth, x=1.0)
    a, da = 1.0, 1.0
    for _ in range(depth):
        a, da = math.sin(a), math.cos(a) * da
    assert values[g.output] == a and math.isclose(grad["x"], da, rel_tol=1e-9)
    g, values, grad, _ = run("(" * depth + "-" * 1001 + "x" + ")" * depth + "*3", x=2.0)
    assert values[g.output] == -6.0 and grad["x"] == -3.0


def test_a_local_derivative_at_a_non_finite_argument_is_nan_not_a_crash():
    # found by the long hypothesis run: cos(inf), the slope of sin at an overflowed value
    from bpcalc.errors import Source
    from bpcalc.lang.lower import build
    from bpcalc.engine import backward, forward

    graph, _ = build(Source("c = (1 + x^2)^(exp(exp(3)))\nsin(c) + x"))
    values, warnings = forward(graph, {"x": 0.01})
    adjoints, back = backward(graph, values)
    assert math.isnan(adjoints[0])
    assert any("overflows to inf" in w.message for w in warnings)
    assert any("is nan: an infinite or undefined local derivative" in w.message for w in back)


@pytest.mark.parametrize(
    "program, x, message",
    [
        ("y = acosh(x)\ny*2", 0.5, "acosh of a number less than 1 (0.5) in y `acosh(x)` on line 1"),
        ("atanh(x) + 1", 1.0, "atanh of 1 (it is +inf) in %1 `atanh(x)`"),
        ("a = 2*x\nasin(a)", 1.0, "asin of a number outside [-1, 1] (2) in %3 `asin(a)` on line 2"),
        ("log10(x)", -1.0, "log10 of a negative number (-1) in %1 `log10(x)`"),
        ("log1p(x - 1)", 0.0, "log1p of -1 (it is -inf) in %3 `log1p(x - 1)`"),
    ],
)
def test_course_functions_domain_errors_name_the_node(program: str, x: float, message: str) -> None:
    with pytest.raises(BpcalcError) as err:
        run(program, x=x)
    assert err.value.kind == "domain" and err.value.message == message


@pytest.mark.parametrize(
    "program, point, gradient, warned",
    [
        ("leaky_relu(x)", {"x": 0.0}, {"x": 0.01}, "leaky_relu'(0) = 0.01, the slope on the left"),
        ("leaky_relu(x, s)", {"x": 0.0, "s": 0.2}, {"x": 0.2, "s": 0.0}, "leaky_relu'(0) = 0.2"),
        ("elu(x, 2)", {"x": 0.0}, {"x": 2.0}, "elu'(0) = alpha = 2"),
        ("sign(x)", {"x": 0.0}, {"x": 0.0}, "sign'(0) = 0"),
        ("atan2(y, x)", {"y": 0.0, "x": 0.0}, {"y": 0.0, "x": 0.0}, "atan2(0, 0) is not differentiable"),
        ("max(x, y, z)", {"x": 2.0, "y": 2.0, "z": 2.0}, {"x": 1 / 3, "y": 1 / 3, "z": 1 / 3}, "1/3 each"),
        ("min(x, y, z, w)", {"x": 1.0, "y": 5.0, "z": 1.0, "w": 3.0}, {"x": 0.5, "y": 0.0, "z": 0.5, "w": 0.0},
         "2 of the 4 arguments equal 1"),
    ],
)
def test_course_functions_conventions_are_warned(program: str, point: dict, gradient: dict, warned: str) -> None:
    _, _, grad, warnings = run(program, **point)
    assert grad == gradient
    assert [w.kind for w in warnings] == ["kink"] and warned in warnings[0].message


def test_conventions_that_are_not_kinks_are_not_warned() -> None:
    # elu with alpha = 1 is smooth at 0; hypot(0, 0) is a kink whose partials are nan
    _, _, grad, warnings = run("elu(x)", x=0.0)
    assert grad == {"x": 1.0} and not warnings
    _, _, grad, warnings = run("hypot(x, y)", x=0.0, y=0.0)
    assert math.isnan(grad["x"]) and math.isnan(grad["y"])
    assert [w.kind for w in warnings] == ["kink", "nonfinite"]


def test_a_three_way_tie_is_not_a_chain_of_two_way_ties() -> None:
    # max(max(x, y), z) splits 0.25/0.25/0.5; max(x, y, z) 1/3 each
    _, _, chained, _ = run("max(max(x, y), z)", x=1.0, y=1.0, z=1.0)
    _, values, grad, _ = run("max(x, y, z)", x=1.0, y=1.0, z=1.0)
    assert chained == {"x": 0.25, "y": 0.25, "z": 0.5}
    assert grad == {"x": 1 / 3, "y": 1 / 3, "z": 1 / 3}
    # an argument given twice collects both shares; the losers get 0
    _, _, grad, _ = run("m = max(x, y, x, z - 5)\nm * 3", x=4.0, y=4.0, z=1.0)
    assert grad == {"x": 2.0, "y": 1.0, "z": 0.0}
    _, values, grad, warnings = run("min(x, 2*x, x*x, 7)", x=3.0)
    assert values[-1] == 3.0 and grad == {"x": 1.0} and not warnings


def test_course_functions_through_the_engine_match_the_math_module() -> None:
    _, values, grad, _ = run("atan(x) + sinh(x) + log2(x) + erf(x) + softsign(x)", x=0.75)
    assert values[-1] == pytest.approx(math.atan(0.75) + math.sinh(0.75) + math.log2(0.75) + math.erf(0.75)
                                       + 0.75 / 1.75, rel=1e-15)
    expected = (1 / (1 + 0.75**2) + math.cosh(0.75) + 1 / (0.75 * math.log(2))
                + 2 / math.sqrt(math.pi) * math.exp(-0.5625) + 1 / 1.75**2)
    assert grad["x"] == pytest.approx(expected, rel=1e-14)
    _, _, grad, warnings = run("gelu(x) + silu(x) + swish(2*x)", x=-800.0)
    assert grad == {"x": 0.0} and [w.kind for w in warnings] == ["underflow"] * 3


# --- issue 12: a zero local derivative wins; nan stays nan -----------------------


@pytest.mark.parametrize(
    "program, point, expected",
    [
        # by hand: relu(x) = 0 for x < 0, so sqrt(relu(x)) is 0 near -1 and its slope 0
        ("sqrt(relu(x))", {"x": -1.0}, {"x": 0.0}),
        # max(x, 1) = 1 near 0.5: the function is sqrt(0) = 0 there
        ("sqrt(max(x, 1) - 1)", {"x": 0.5}, {"x": 0.0}),
        # x^relu(x) = x^0 = 1 for x < 0: slope 0 (d/db at a negative base is nan, relu' is 0)
        ("x^relu(x)", {"x": -0.5}, {"x": 0.0}),
        # x^(x^0) = x^1: slope 1
        ("x^(x^0)", {"x": -0.66}, {"x": 1.0}),
        # 0 - exp(max(x, y)) with x > y: -exp(x), so d/dy = 0 and d/dx = -exp(1000) = -inf
        ("0 - exp(max(x, y))", {"x": 1000.0, "y": 0.0}, {"x": -math.inf, "y": 0.0}),
    ],
)
def test_a_zero_local_derivative_passes_nothing_back(program, point, expected) -> None:
    _, _, grad, _ = run(program, **point)
    assert grad == expected


def test_a_zero_adjoint_passes_nothing_back() -> None:
    # 0*sqrt(x) at 0: the product's partial for sqrt(x) is 0, so the infinite slope never meets it
    _, _, grad, _ = run("0*sqrt(x) + x", x=0.0)
    assert grad == {"x": 1.0}


@pytest.mark.parametrize(
    "program, maker",
    [
        ("relu(sin(exp(x)))", "%2 `sin(exp(x))`: sin(inf) is undefined (nan)"),
        ("relu(exp(x) - exp(x)) + x", "%3 `exp(x) - exp(x)`: sub(inf, inf) is undefined (nan)"),
        ("max(exp(x) - exp(x), 1)", "%3 `exp(x) - exp(x)`: sub(inf, inf) is undefined (nan)"),
        ("1^(exp(x) - exp(x)) + x", "%4 `exp(x) - exp(x)`: sub(inf, inf) is undefined (nan)"),
    ],
)
def test_a_nan_never_becomes_a_number_and_names_the_node_that_made_it(program, maker) -> None:
    g, values, grad, warnings = run(program, x=1000.0)
    assert math.isnan(values[g.output])
    assert math.isnan(grad["x"])
    assert [w.message for w in warnings if w.kind == "nan"] == [maker + "; every value computed from it is nan"]


def test_inf_over_zero_is_inf_as_in_ieee() -> None:
    g, values, grad, _ = run("1e400/0 + x", x=1.0)
    assert values[g.output] == math.inf
    assert grad == {"x": 1.0}
    g, values, _, _ = run("-exp(x)/0", x=1000.0)
    assert values[g.output] == -math.inf


@pytest.mark.parametrize(
    "program, point, value",
    [
        ("x^1e400", {"x": 0.0}, 0.0),  # 0^inf = 0
        ("0^exp(x)", {"x": 1000.0}, 0.0),
        ("x^(exp(y) - exp(y))", {"x": 0.0, "y": 1000.0}, math.nan),
    ],
)
def test_a_non_finite_exponent_is_no_internal_error(program, point, value) -> None:
    g, values, _, _ = run(program, **point)
    assert values[g.output] == value or (math.isnan(value) and math.isnan(values[g.output]))


# --- in Chinese (issue 17) ----------------------------------------------------------


def test_in_chinese_overflow_nan_and_infinite_gradient_warnings() -> None:
    from bpcalc.i18n import speaking

    with speaking("zh"):
        _, _, _, warnings = run("exp(x) - exp(x)", x=1000.0)
        many = run(" + ".join(f"relu({k}*x)" for k in range(1, 23)), x=0.0)[3]
    assert [(w.kind, w.message) for w in warnings] == [
        ("overflow", "%1 `exp(x)`：exp(1000) 溢出为 inf"),
        ("overflow", "%2 `exp(x)`：exp(1000) 溢出为 inf"),
        ("nan", "%3 `exp(x) - exp(x)`：sub(inf, inf) 无定义（nan）；由它算出的每个值都是 nan"),
        ("nonfinite", "x `x` 处的梯度是 nan：反向传播途中有一个无穷大或无定义的局部导数"),
    ]
    assert many[0].message.startswith("%3 `relu(1*x)`：relu'(0)")
    assert many[-1].message == "……还有 2 条不可导点警告"


def test_in_chinese_a_domain_error_names_the_node() -> None:
    from conftest import run_cli

    r = run_cli("grad", "x * log(x)", "--at", "x=-1", "--lang", "zh")
    assert r.code == 2
    first, line, caret = r.err.splitlines()
    assert first.startswith("错误：第 1 行第 5 列：") and first.endswith("（在 %1 `log(x)` 中）")
    assert (line, caret) == ("  x * log(x)", "      ^^^^^^")
    r = run_cli("grad", "exp(x)", "--at", "x=1000", env={"BPCALC_LANG": "zh"})
    assert r.code == 0
    # (the "warning:" before it is the table's)
    assert any(line.endswith(": %1 `exp(x)`：exp(1000) 溢出为 inf") or line.endswith("：%1 `exp(x)`：exp(1000) 溢出为 inf")
               for line in r.out.splitlines())
