"""d output / d input as formulas, simplified within a budget."""

from __future__ import annotations

from bpcalc import derivative
from bpcalc.budget import Outcome
from bpcalc.derivative import Derivatives, Formula, derivatives
from bpcalc.errors import Source
from bpcalc.lang.lower import build
from conftest import SAMPLES


def graph_of(program: str):
    return build(Source(program))[0]


def test_formulas_in_text_and_latex():
    graph = graph_of("q = x + y; f = q * z")
    found = derivatives(graph, ("x", "z"))
    assert (found.ok, found.simplified, found.note) == (True, True, "")
    assert found.formulas == (Formula("x", "z", "z"), Formula("z", "x + y", "x + y"))


def test_simplified_with_our_latex_names():
    graph = graph_of("sigmoid(w0*x0 + b)")
    (w0,) = derivatives(graph, ("w0",)).formulas
    assert w0.text == "x0/(4*cosh(b/2 + w0*x0/2)**2)"
    assert w0.latex == "\\frac{x_{0}}{4 \\cosh^{2}{\\left(\\frac{b}{2} + \\frac{w_{0} x_{0}}{2} \\right)}}"


def test_an_input_that_does_not_reach_the_output_has_derivative_zero():
    graph = graph_of("a = exp(u); x * 2")
    assert [f.text for f in derivatives(graph, ("u", "x")).formulas] == ["0", "2"]


def test_simplify_out_of_budget_gives_the_unsimplified_formula(monkeypatch):
    real = derivative.run_with_budget

    def simplify_times_out(fn, args, seconds):
        if args[2]:  # the simplifying call
            return Outcome("timeout", seconds=seconds)
        return real(fn, args, seconds)

    monkeypatch.setattr(derivative, "run_with_budget", simplify_times_out)
    found = derivatives(graph_of("exp(x)*exp(x)"), ("x",), budget=3)
    assert (found.ok, found.simplified) == (True, False)
    assert found.note == "not simplified: SymPy ran out of its 3 s budget"
    assert found.formulas[0].text == "2*exp(2*x)"


def test_no_budget_no_formula():
    found = derivatives(graph_of("x*y"), ("x",), budget=0)
    assert found == Derivatives(False, False, "no formula: SymPy ran out of its 0 s budget", (), found.seconds)


def test_grad_derivative_prints_and_carries_the_formulas(cli):
    args = ("grad", "-f", str(SAMPLES / "cs231n_add_mul.bp"), "--at", "x=-2,y=5,z=-4", "--derivative", "--no-check")
    run = cli(*args)
    assert run.code == 0, run.err
    assert "derivatives (simplified by SymPy):\n  ∂f/∂x = z\n  ∂f/∂y = z\n  ∂f/∂z = x + y\n" in run.out
    assert "  \\frac{\\partial f}{\\partial z} = x + y\n" in run.out
    doc = cli(*args, "--json").json()
    assert doc["derivatives"]["ok"] is True and doc["derivatives"]["simplified"] is True
    assert doc["derivatives"]["formulas"]["z"] == {"text": "x + y", "latex": "x + y"}


def test_grad_derivative_out_of_budget_says_so(cli):
    run = cli("grad", "x*y", "--at", "x=1,y=2", "--derivative", "--budget", "0", "--no-check")
    assert run.code == 0
    assert "derivatives: none\n  no formula: SymPy ran out of its 0 s budget" in run.out
