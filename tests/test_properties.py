"""Property-based tests (hypothesis) across the language, engine and printer.

- Random well-formed programs over every op in the table, with reassignment,
  augmented assignment and fan-out: the engine's gradient agrees with SymPy's
  exact derivative and with central finite differences (torch.autograd.gradcheck
  tolerances: eps 1e-6, atol 1e-5, rtol 1e-3), wherever the point is not a kink.
- An independent parse: programs in the syntax Python shares are parsed by
  Python's own `ast` and evaluated by a tiny tree walker here; the values must
  equal bpcalc's. This catches precedence bugs the SymPy check cannot (SymPy's
  expression is built from our own graph).
- Printing a graph back to text and parsing it again gives the same graph.
- Random byte strings and token soups: only BpcalcError, never another exception.

Profiles: the default ("ci") runs 5 100 generated inputs (2 000 programs in the
finite-difference property alone), derandomized so CI is reproducible;
HYPOTHESIS_PROFILE=long runs 100 000 per property.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import io
import math
import operator
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import bpcalc
from bpcalc.engine import forward
from bpcalc.errors import BpcalcError, Source
from bpcalc.inputs import read_stream
from bpcalc.lang.lower import build
from bpcalc.lang.printer import to_program
from bpcalc.ops import OPS
from bpcalc.point import parse_at
from bpcalc.verify import symbolic_gradients

settings.register_profile(
    "ci", derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
settings.register_profile(
    "long", max_examples=100_000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.large_base_example],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


def examples(n: int) -> int:
    """n generated inputs per CI run; in the long profile 100 000, or
    BPCALC_LONG_EXAMPLES."""
    return int(os.environ.get("BPCALC_LONG_EXAMPLES", 100_000)) if LONG else n

INPUTS = ("x", "y", "z")

# --- a generator of well-formed, mostly domain-safe programs -----------------
# Each template covers one op of the table; arguments of log/sqrt/div are kept
# away from their poles so that most draws evaluate.
UNARY = [
    "-({a})", "exp({a})", "log(1 + ({a})^2)", "sqrt(1 + ({a})^2)", "sin({a})", "cos({a})",
    "tan(sin({a}))", "tanh({a})", "sigmoid({a})", "relu({a})", "softplus({a})", "abs({a})",
    "({a})^2", "({a})**3", "pow(1 + ({a})^2, 0.5)",
    "asin(tanh({a})/2)", "acos(sigmoid({a}))", "atan({a})", "sinh(tanh({a}))", "cosh(tanh({a}))",
    "asinh({a})", "acosh(2 + ({a})^2)", "atanh(tanh({a})/2)", "log10(1 + ({a})^2)", "log2(1 + ({a})^2)",
    "log1p(({a})^2)", "expm1(tanh({a}))", "erf({a})", "sign({a})", "leaky_relu({a})", "elu({a})",
    "gelu({a})", "silu({a})", "softsign({a})",
]
BINARY = [
    "({a}) + ({b})", "({a}) - ({b})", "({a}) * ({b})", "({a}) / (1 + ({b})^2)",
    "max({a}, {b})", "min({a}, {b})", "(1 + ({a})^2)^({b})",
    "atan2({a}, {b})", "hypot({a}, {b})", "leaky_relu({a}, {b})", "elu({a}, sigmoid({b}))",
    "max({a}, {b}, ({a}) * ({b}))", "min({a}, 0.5, {b}, -({a}))",
]
CONSTANTS = ["2", "0.5", "3", "1.5e-1", "pi", "e", ".25"]


@functools.lru_cache(maxsize=None)
def expressions(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Expressions over `names` (built once per tuple: hypothesis strategies
    are costly to construct)."""
    leaves = st.sampled_from(names) | st.sampled_from(CONSTANTS)
    return st.recursive(
        leaves,
        lambda inner: st.builds(lambda t, a: t.format(a=a), st.sampled_from(UNARY), inner)
        | st.builds(lambda t, a, b: t.format(a=a, b=b), st.sampled_from(BINARY), inner, inner),
        max_leaves=6,
    )


@st.composite
def programs(draw) -> str:
    names = list(INPUTS[: draw(st.integers(1, 3))])
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(["a", "b", "c"] + [n for n in names if n not in INPUTS]))
        expr = draw(expressions(tuple(names)))
        op = draw(st.sampled_from(["=", "=", "+=", "*="])) if target in names else "="
        lines.append(f"{target} {op} {expr}")
        if target not in names:
            names.append(target)
    # the output uses several names, so values fan out
    lines.append(draw(expressions(tuple(names))) + " + " + draw(st.sampled_from(names)))
    return "\n".join(lines)


points = st.tuples(*[st.integers(-150, 150).map(lambda k: k / 100) for _ in INPUTS])


def _at(graph, values) -> dict[str, str]:
    return {name: repr(v) for name, v in zip(INPUTS, values) if name in graph.input_names}


def _evaluate(program: str, values):
    try:
        result = bpcalc.grad(program, at=_at(build(Source(program))[0], values), check=False)
    except BpcalcError as err:
        assume(err.kind != "domain")  # e.g. 0^-1: the function is undefined there
        raise
    assume(math.isfinite(result.value) and all(map(math.isfinite, result.gradient.values())))
    assume(not any(w.kind in ("kink", "overflow", "underflow", "nonfinite") for w in result.warnings))
    return result


def _near_kink(result, distance: float = 1e-3) -> bool:
    """An argument of relu/abs/max/min within `distance` of its kink: finite
    differences straddle the kink there and say nothing useful, and rounding
    can put a double on the other side of it than the exact value."""
    g, v = result.graph, result.values
    for i, op in enumerate(g.ops):
        if op in ("relu", "abs") and abs(v[g.arg0[i]]) < distance:
            return True
        if op in ("max", "min") and abs(v[g.arg0[i]] - v[g.arg1[i]]) < distance:
            return True
    return False


@settings(max_examples=examples(2000))
@given(programs(), points)
def test_engine_agrees_with_finite_differences(program, values):
    result = _evaluate(program, values)
    assume(not _near_kink(result))
    # sin(3e17): a double that large has no digits left after the point, so no
    # difference quotient means anything there (the engine's cos(b)·b' is exact)
    assume(max(map(abs, result.values)) < 1e8)
    g = result.graph
    base = {name: at.value for name, at in result.at.items()}
    for name, engine in result.gradient.items():
        x = base[name]
        h = 1e-6 * max(1.0, abs(x))

        def f(v: float) -> float:
            return forward(g, {**base, name: v})[0][g.output]

        up, down, up2, down2 = f(x + h), f(x - h), f(x + h / 2), f(x - h / 2)
        # rounding in f(x ± h), magnified by 1/h, limits what differences resolve
        roundoff = 64 * 2.2e-16 * max(map(abs, (up, down, up2, down2))) / h
        d1, d2 = (up - down) / (2 * h), (up2 - down2) / h
        if abs(d1 - d2) > 1e-5 + 1e-3 * max(abs(d1), abs(d2)) + roundoff:
            continue  # too curved here for differences to judge at this tolerance
        fd = (4 * d2 - d1) / 3  # Richardson extrapolation
        assert abs(engine - fd) <= 1e-5 + 1e-3 * abs(fd) + roundoff, (program, name, engine, fd)


@settings(max_examples=examples(300))
@given(programs(), points)
@example(program="a = exp((2) + (2))\na += (x) - (x)\na = a\nexp(a) + x", values=(0.0, 0.0, 0.0))
@example(program="b = max((x) - (2), (x) / (1 + (log(1 + (x)^2))^2))\nc = max(x, log(1 + ((x) * (b))^2))\na = x\nx + c",
         values=(0.01, 0.0, 0.0))
def test_engine_agrees_with_sympy(program, values):
    result = _evaluate(program, values)
    # Where the output itself is far from exact in double precision (sin(exp(25)):
    # exp(25) is off by 1e-5), no gradient can be close to exact: skip those
    # ill-conditioned points (the check calls them "ill-conditioned", see test_verify).
    assume(_relative_error_of_value(result) < 1e-12)
    assume(not _near_kink(result, 1e-9))  # min(0, sin(pi)): no tie in doubles, a tie exactly
    bound = _summation_error_bound(result)
    for name, _text, exact, defined in symbolic_gradients(result.graph, result.at, result.wrt):
        assert defined, (program, name)
        engine = result.gradient[name]
        # Backprop sums contributions; where they cancel (exp(a)·(x - x) + x,
        # with exp(a) = 5e23: terms of 5e23 that sum to 1), rounding in the sum
        # alone can be as large as the gradient. Such a gradient must be within
        # the summation's error bound of the exact one; any other, close to it.
        tolerance = max(1e-9 + 1e-7 * abs(exact), bound[result.graph.input_id(name)])
        assert abs(engine - exact) <= tolerance, (program, name, engine, exact)


def _summation_error_bound(result) -> list[float]:
    """Per node, a bound on the rounding error of its adjoint: backprop again
    with every local derivative's absolute value (the sum of the absolute
    contributions), times the number of nodes and the unit roundoff (the
    classic bound for a floating-point sum, generously)."""
    g, values = result.graph, result.values
    magnitude = [0.0] * len(g)
    magnitude[g.output] = 1.0
    for i in range(g.output, -1, -1):
        args = g.args(i)
        if not args or magnitude[i] == 0.0:
            continue
        partials = OPS[g.ops[i]].partials(*(values[j] for j in args), values[i])
        for j, d in zip(args, partials):
            magnitude[j] += magnitude[i] * abs(d)
    return [4 * len(g) * 2.2e-16 * m if math.isfinite(m) else 0.0 for m in magnitude]


def _relative_error_of_value(result) -> float:
    import sympy as sp

    from bpcalc.symbolic import to_sympy

    g = result.graph
    exprs = to_sympy(sp, g, needed=g.reaches_output())
    point = {exprs[i]: to_sympy(sp, result.at[n].graph)[result.at[n].graph.output]
             for i, n in zip(g.inputs, g.input_names) if exprs[i] is not None}
    try:
        exact = float(exprs[g.output].xreplace(point).evalf(30))
    except (TypeError, ValueError):
        # SymPy cannot decide max/min of two numbers it cannot tell apart at
        # its working precision ("not comparable"): no exact value to judge by
        return math.inf
    return abs(result.value - exact) / max(abs(exact), 1e-300)


# --- an independent parse: Python's ast and a tiny tree walker ------------------

def _python_value(text: str, env: dict[str, float]) -> float:
    """Evaluate `text` (bpcalc syntax Python shares, with ^ as **) by walking
    Python's own syntax tree. Not bpcalc code: the oracle for precedence."""
    tree = ast.parse(text.replace("^", "**"), mode="exec")
    scope = {"pi": math.pi, "e": math.e, **env}
    functions = {"exp": math.exp, "sin": math.sin, "cos": math.cos, "tanh": math.tanh,
                 "log": math.log, "sqrt": math.sqrt, "abs": abs, "max": max, "min": min}
    binary = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.Pow: math.pow}

    def walk(node: ast.AST) -> float:
        # The walker recurses, but generated expressions are shallow.
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return scope[node.id]
        if isinstance(node, ast.BinOp):
            return binary[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call):
            return functions[node.func.id](*[walk(a) for a in node.args])
        raise AssertionError(f"unexpected syntax {ast.dump(node)}")

    value = math.nan
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            value = scope[stmt.targets[0].id] = walk(stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            value = scope[stmt.target.id] = binary[type(stmt.op)](scope[stmt.target.id], walk(stmt.value))
        else:
            value = walk(stmt.value)  # type: ignore[attr-defined]
    last = tree.body[-1]
    if isinstance(last, ast.Assign):
        return scope[last.targets[0].id]
    if isinstance(last, ast.AugAssign):
        return scope[last.target.id]
    return value


spaces = st.sampled_from(["", " ", "  "])


@st.composite
def grammar_expression(draw, depth: int = 0) -> str:
    """An expression drawn from the grammar itself (sums of terms of unary
    factors of powers of atoms), so operator precedence decides its meaning."""
    def atom() -> str:
        choice = draw(st.integers(0, 9 if depth < 2 else 4))
        if choice <= 2:
            return draw(st.sampled_from(INPUTS))
        if choice <= 4:
            return draw(st.sampled_from(["2", "0.5", "3", "1.25", "pi", "e", "1e-1"]))
        if choice <= 6:
            return "(" + draw(grammar_expression(depth + 1)) + ")"
        if choice == 7:
            fn = draw(st.sampled_from(["exp", "sin", "cos", "tanh", "abs"]))
            return f"{fn}({draw(grammar_expression(depth + 1))})"
        fn = draw(st.sampled_from(["max", "min"]))
        return f"{fn}({draw(grammar_expression(depth + 1))},{draw(spaces)}{draw(grammar_expression(depth + 1))})"

    def power() -> str:
        base = atom()
        if draw(st.integers(0, 4)) == 0:
            # mostly integer exponents: a negative base with a real one is undefined
            exponent = unary() if draw(st.integers(0, 3)) == 0 else draw(
                st.sampled_from(["2", "3", "-1", "-2", "+2", "2^2", "-3^1"]))
            return base + draw(spaces) + draw(st.sampled_from(["^", "**"])) + draw(spaces) + exponent
        return base

    def unary() -> str:
        prefix = draw(st.sampled_from(["", "", "", "-", "+", "--", "-+"]))
        return prefix + power()

    def term() -> str:
        out = unary()
        for _ in range(draw(st.integers(0, 2 - depth))):
            out += draw(spaces) + draw(st.sampled_from(["*", "/"])) + draw(spaces) + unary()
        return out

    out = term()
    for _ in range(draw(st.integers(0, 3 - depth))):
        out += draw(spaces) + draw(st.sampled_from(["+", "-"])) + draw(spaces) + term()
    return out


@st.composite
def grammar_programs(draw) -> str:
    lines = []
    bound = set(INPUTS)
    for target in draw(st.lists(st.sampled_from(["a", "b", "x"]), max_size=3)):
        op = draw(st.sampled_from(["=", "+=", "-=", "*=", "/="])) if target in bound else "="
        bound.add(target)
        lines.append(f"{target} {op} {draw(grammar_expression())}")
    lines.append(draw(grammar_expression()))
    return draw(st.sampled_from(["\n", "; "])).join(lines)


@settings(max_examples=examples(500))
@given(grammar_programs(), points)
def test_values_match_pythons_own_parse(program, values):
    env = dict(zip(INPUTS, values))
    try:
        expected = _python_value(program, env)
    except (ZeroDivisionError, ValueError, OverflowError, KeyError):
        assume(False)  # undefined at this point, or a name used before assignment
    assume(math.isfinite(expected))
    try:
        graph, _ = build(Source(program))
        result = bpcalc.grad(program, at={n: env[n] for n in graph.input_names}, check=False)
    except BpcalcError as err:
        raise AssertionError(f"{program!r}: {err.render()}") from None
    assert math.isclose(result.value, expected, rel_tol=1e-9, abs_tol=1e-12), (program, result.value, expected)


# --- printing a graph back to text ----------------------------------------------

def structure(graph) -> tuple[Counter, str]:
    """Each node's structural digest (its op with its constant value or input
    name, and its arguments' digests: independent of node numbering and of
    the order inputs were met in); compare the multisets of digests and the
    output's."""
    digests: list[str] = []
    for i, op in enumerate(graph.ops):
        if op == "input":
            key = ("input", graph.names[i])
        elif op == "const":
            key = ("const", graph.consts[i][0])
        else:
            key = (op, *[digests[j] for j in graph.args(i)])
        digests.append(hashlib.sha256(repr(key).encode()).hexdigest())
    return Counter(digests), digests[graph.output]


@settings(max_examples=examples(500))
@given(st.one_of(programs(), grammar_programs()))
@example(program="x += y^x^x^2\nx = x^2\nx = x\ny")  # found by the long run: inputs met in another order
def test_printed_graph_parses_to_the_same_graph(program):
    graph, _ = build(Source(program))
    printed = to_program(graph)
    again, _ = build(Source(printed))
    assert structure(again) == structure(graph), (program, printed)
    assert set(again.input_names) == set(graph.input_names)


# --- garbage in: only our error --------------------------------------------------

TOKENS = ["x", "y", "1", "2.5", "(", ")", "+", "-", "*", "/", "^", "**", ",", "=", "+=", ";", "\n",
          "exp", "max", "sigmoid", "pi", "e", "#", "1e999", "[", "'", "lambda", ":", ".", "\x00", "θ"]


def _only_our_error(text: str) -> None:
    try:
        bpcalc.grad(text, at={"x": 0.5, "y": -1.5}, check=False)
    except BpcalcError as err:
        assert err.render()


@settings(max_examples=examples(1000))
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join))
def test_token_soup_gives_only_our_error(text):
    _only_our_error(text)


@settings(max_examples=examples(500))
@given(st.binary(max_size=200))
def test_random_bytes_give_only_our_error(data):
    try:
        source = read_stream(io.BytesIO(data), "<stdin>", 1000)
    except BpcalcError:
        return
    _only_our_error(source.text)


@settings(max_examples=examples(300))
@given(st.text(max_size=60))
def test_random_at_values_give_only_our_error(text):
    try:
        parse_at([text])
    except BpcalcError as err:
        assert err.render()


def test_generated_programs_cover_every_op():
    used = set()
    for template in UNARY + BINARY:
        graph, _ = build(Source(template.format(a="x", b="y")))
        used |= set(graph.ops)
    assert used - {"input", "const"} == set(OPS)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
