"""`--derivative` for vectors and matrices (`bpcalc.derivative_tensor`):
matrix notation where the rules compose, verified at the point; entry by
entry otherwise. The formulas are the textbooks' (worked by hand in the
comments), never taken from bpcalc."""

from __future__ import annotations

import numpy as np

import bpcalc
from bpcalc.derivative_tensor import M, evaluate, latex_of, num, text_of, verified

# J = ½‖T1·x1 − y‖² (the example): ∂J/∂T1 = (T1·x1 − y)·x1ᵀ,
# ∂J/∂x1 = T1ᵀ·(T1·x1 − y), ∂J/∂y = −(T1·x1 − y).
LSQ = "J = 0.5 * sum((T1 @ x1 - y)^2)"
LSQ_AT = {"T1": [[1, 2], [3, 4]], "x1": [1, 2], "y": [1, 1]}


def formulas(result):
    return {f.name: f for f in result.derivatives.formulas}


def test_least_squares_in_matrix_notation():
    r = bpcalc.grad(LSQ, at=LSQ_AT, derivative=True, check=False)
    found = formulas(r)
    assert {name: (f.how, f.text) for name, f in found.items()} == {
        "T1": ("matrix", "(T1·x1 − y)·x1ᵀ"),
        "x1": ("matrix", "T1ᵀ·(T1·x1 − y)"),
        "y": ("matrix", "−(T1·x1 − y)"),
    }
    assert found["T1"].latex == "\\left(\\mathbf{T}_{1} \\mathbf{x}_{1} - \\mathbf{y}\\right) \\mathbf{x}_{1}^\\top"
    assert r.derivatives.ok and r.derivatives.note == ""
    # by hand: T1·x1 = [5, 11], minus y = [4, 10]; times x1ᵀ = [[4, 8], [10, 20]]
    assert r.gradient["T1"].tolist() == [[4, 8], [10, 20]]


def test_named_nodes_stand_for_themselves_and_biases_are_summed():
    # Deep Learning from Scratch's affine + softmax-with-loss: dY = (softmax(Y) − t)/N,
    # dW = Xᵀ·dY, db = dY summed over the batch (down the columns)
    r = bpcalc.grad("Y = X @ W + b\nL = cross_entropy(Y, t)",
                    at={"X": [[1, 0.5], [0.2, -1]], "W": [[0.1, -0.2], [0, 0.4]], "b": [0.01, -0.02],
                        "t": [[0, 1], [1, 0]]}, derivative=True, check=False, budget=0)
    found = formulas(r)
    assert found["W"].text == "Xᵀ·((softmax(Y) − t) / 2)"
    assert found["b"].text == "sum((softmax(Y) − t) / 2, axis=0)"
    assert found["X"].text == "((softmax(Y) − t) / 2)·Wᵀ"


def test_a_rule_that_does_not_compose_gives_formulas_entry_by_entry():
    # f = max(w0 x0, w1 x1): ∂f/∂w0 = x0·H(w0 x0 − w1 x1), one formula per entry
    r = bpcalc.grad("f = max(w * x)", at={"w": [1, -1], "x": [2, 3]}, derivative=True, check=False)
    w = formulas(r)["w"]
    assert w.how == "entries" and w.entries == ["x[0]*Heaviside(w[0]*x[0] - w[1]*x[1])",
                                                "x[1]*Heaviside(-w[0]*x[0] + w[1]*x[1])"]
    assert w.entries_latex[0] == "x_{0} \\theta\\left(w_{0} x_{0} - w_{1} x_{1}\\right)"
    assert r.derivatives.note == "∂f/∂w, ∂f/∂x entry by entry: f `max(w * x)` has no rule in matrix notation here"


def test_relu_and_class_indices_in_matrix_notation():
    # the course notes' fully-connected net: the residual goes back through the ReLU as an
    # entrywise product with its slope, 1 where T0·x0 > 0 (0 at 0, the engine's convention)
    r = bpcalc.grad("x1 = relu(T0 @ x0)\nyhat = T1 @ x1\nJ = 0.5 * sum((yhat - y)^2)",
                    at={"x0": [1, -2, 0.5], "T0": [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], "T1": [[0.3, -0.1]],
                        "y": [1]}, derivative=True, check=False, budget=0)
    assert formulas(r)["T0"].text == "((T1ᵀ·(yhat − y)) ⊙ 𝟙[T0·x0 > 0])·x0ᵀ"
    # CS231n: class indices y as one-hot rows, dS = (softmax(S) − onehot(y)) / N, plus 2·reg·W
    r = bpcalc.grad("S = X @ W\nL = cross_entropy(S, y) + reg * sum(W * W)",
                    at={"X": [[1, 2], [0, 1], [1, -1]], "W": [[0.1, 0.2], [0.3, -0.1]], "y": [0, 1, 1], "reg": 0.1},
                    derivative=True, check=False, budget=0)
    assert formulas(r)["W"].text == "2·reg·W + Xᵀ·((softmax(S) − onehot(y)) / 3)"
    assert "y" not in formulas(r)  # data: no gradient, no formula


def test_matrix_formulas_need_no_sympy_and_entries_say_when_the_budget_runs_out():
    r = bpcalc.grad(LSQ, at=LSQ_AT, derivative=True, check=False, budget=0)
    assert r.derivatives.ok and formulas(r)["T1"].text == "(T1·x1 − y)·x1ᵀ"
    r = bpcalc.grad("f = max(w * x)", at={"w": [1, -1], "x": [2, 3]}, derivative=True, check=False, budget=0)
    assert not r.derivatives.ok and r.derivatives.formulas == ()
    assert r.derivatives.note.endswith("; no formula: SymPy ran out of its 0 s budget")


def test_a_formula_that_does_not_give_the_gradient_is_never_kept():
    # a deliberately wrong formula: xᵀ instead of x for ∂(w·x)/∂w is fine in value, 2·x is not
    env = {"x": np.array([1.0, 2.0])}
    x = M("name", shape=(2,), name="x")
    assert verified(x, env, np.array([1.0, 2.0]))
    assert not verified(M("mul", (num(2), x), (2,)), env, np.array([1.0, 2.0]))
    assert not verified(num(1), env, np.array([1.0, 1.0]))  # the shape counts too
    assert evaluate(M("outer", (x, x), (2, 2)), env).tolist() == [[1, 2], [2, 4]]


def test_printing_keeps_matrix_and_entrywise_products_apart():
    a, b, c = (M("name", shape=(2, 2), name=n) for n in "ABC")
    had = M("mul", (a, b), (2, 2))
    assert text_of(M("matmul", (had, c), (2, 2))) == "(A ⊙ B)·C"
    assert text_of(M("mul", (M("matmul", (a, b), (2, 2)), c), (2, 2))) == "(A·B) ⊙ C"
    assert latex_of(M("T", (M("sub", (a, b), (2, 2)),), (2, 2))) == "\\left(\\mathbf{A} - \\mathbf{B}\\right)^\\top"
