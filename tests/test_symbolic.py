"""SymPy expressions built from the Graph, exact inputs, and LaTeX names."""

from __future__ import annotations

import pytest
import sympy as sp

from bpcalc.errors import Source
from bpcalc.lang.lower import build
from bpcalc.point import constant_value, number_value
from bpcalc.symbolic import exact_input, exact_literal, exact_point, latex_name, latex_symbol_names, to_sympy


@pytest.mark.parametrize("literal, exact", [
    ("1.1", sp.Rational(11, 10)),
    ("-2.5e-3", sp.Rational(-1, 400)),
    ("100", sp.Integer(100)),
    ("pi", sp.pi),
    ("-e", -sp.E),
    ("1e500", sp.oo),  # beyond MAX_EXACT_EXPONENT: the double's value
])
def test_exact_literal_reads_numbers_as_written(literal, exact):
    assert exact_literal(sp, literal) == exact


def test_to_sympy_builds_each_node_from_the_graph():
    graph, _ = build(Source("q = x + y; q * z"))
    exprs = to_sympy(sp, graph)
    assert sp.sstr(exprs[graph.labels.index("q")]) == "x + y"
    assert sp.sstr(exprs[graph.output]) == "z*(x + y)"
    at = to_sympy(sp, graph, symbols={"x": sp.Integer(-2), "y": sp.Integer(5)})
    assert at[graph.output] == 3 * sp.Symbol("z", real=True)


def test_to_sympy_skips_nodes_not_needed():
    graph, _ = build(Source("a = exp(x); x * 2"))
    exprs = to_sympy(sp, graph, needed=graph.reaches_output())
    assert exprs[graph.labels.index("a")] is None
    assert sp.sstr(exprs[graph.output]) == "2*x"


@pytest.mark.parametrize("text, exact", [
    ("1/3", sp.Rational(1, 3)),
    ("pi/4", sp.pi / 4),
    ("1.1", sp.Rational(11, 10)),
    ("0.1+0.2-0.3", sp.Integer(0)),
    ("sqrt(2)", sp.sqrt(2)),
])
def test_exact_input_is_the_value_as_written(text, exact):
    assert exact_input(sp, constant_value("t", text)) == exact


def test_exact_input_of_an_api_float_is_its_shortest_decimal():
    assert exact_input(sp, number_value("w", 0.1)) == sp.Rational(1, 10)
    point = {"a": constant_value("a", "2"), "b": number_value("b", 2.5)}
    assert exact_point(sp, point) == {"a": 2, "b": sp.Rational(5, 2)}


@pytest.mark.parametrize("label, latex", [
    ("x", "x"), ("w0", "w_{0}"), ("x12", "x_{12}"), ("alpha", "\\alpha"), ("Sigma", "\\Sigma"),
    ("apple_price", "\\mathit{apple\\_price}"), ("sigy", "\\mathit{sigy}"), ("%3", "\\%3"),
    ("h@2", "h@2"), ("net_h1@1", "\\mathit{net\\_h1}@1"),
])
def test_latex_name(label, latex):
    assert latex_name(label) == latex


def test_latex_symbol_names_make_sympy_print_our_names():
    expr = sp.Symbol("apple_price", real=True) * sp.Symbol("w0", real=True) * sp.Symbol("alpha", real=True)
    assert sp.latex(expr, symbol_names=latex_symbol_names(expr)) == "\\alpha \\mathit{apple\\_price} w_{0}"
