"""Exact mode for vectors and matrices (`bpcalc.exact_tensor`): every entry
exact, with the float fallback of scalars. Every reference number below is
worked by hand (in the comments), never taken from bpcalc."""

from __future__ import annotations

import numpy as np

import bpcalc

# The textbook apples with vectors: total = (100·2 + 150·3)·1.1 = 650·1.1 = 715;
# ∂total/∂price = n·tax = [2·11/10, 3·11/10] = [11/5, 33/10] (doubles: 2.2 and
# 3.3000000000000003); ∂total/∂n = price·tax = [110, 165]; ∂total/∂tax = 650.
APPLES = "total = sum(price * n) * tax"
APPLES_AT = {"price": [100, 150], "n": [2, 3], "tax": "1.1"}


def test_entries_are_exact_fractions():
    r = bpcalc.grad(APPLES, at=APPLES_AT, exact=True, check=False)
    assert r.exact is not None and r.exact.ok and r.exact.note == ""
    assert r.exact_gradient == {"price": ["11/5", "33/10"], "n": ["110", "165"], "tax": "650"}
    assert r.exact.values[r.graph.output] == "715"
    assert r.exact.values[r.graph.input_id("tax")] == "11/10"  # as written, not the double
    # the exact numbers rounded to doubles: 33/10 is 3.3, the engine's product 3.3000000000000003
    price = r.graph.input_id("price")
    assert r.exact.adjoint_floats[price].tolist() == [2.2, 3.3]
    assert r.exact.latex_adjoints[price] == "\\begin{bmatrix}\\frac{11}{5} & \\frac{33}{10}\\end{bmatrix}"


def test_matrix_entries_and_intermediate_nodes():
    # D = W @ X with W = [[1, 2], [3, 4]], X = [[0.5], [0.25]]: D = [[1], [5/2]];
    # f = sum(D) = 7/2; ∂f/∂W = 1 Xᵀ = [[1/2, 1/4], [1/2, 1/4]]; ∂f/∂X = Wᵀ 1 = [[4], [6]].
    r = bpcalc.grad("D = W @ X\nf = sum(D)", at={"W": [[1, 2], [3, 4]], "X": [[0.5], [0.25]]}, exact=True,
                    check=False)
    g = r.graph
    assert r.exact.values[g.labels.index("D")] == [["1"], ["5/2"]]
    assert r.exact.adjoints[g.labels.index("D")] == [["1"], ["1"]]
    assert r.exact_gradient == {"W": [["1/2", "1/4"], ["1/2", "1/4"]], "X": [["4"], ["6"]]}
    assert r.exact.values[g.output] == "7/2"


def test_softmax_cross_entropy_is_exact():
    # L = -log(e^0 / (e^0 + e^0)) = log 2 against t = [1, 0];
    # ∂L/∂z = softmax(z) - t = [1/2 - 1, 1/2] = [-1/2, 1/2]; ∂L/∂t = -log softmax(z) = [log 2, log 2]
    r = bpcalc.grad("L = cross_entropy(z, t)", at={"z": [0, 0], "t": [1, 0]}, exact=True, check=False)
    assert r.exact.values[r.graph.output] == "log(2)"
    assert r.exact_gradient == {"z": ["-1/2", "1/2"], "t": ["log(2)", "log(2)"]}


def test_conventions_at_kinks_and_ties_are_the_engines_exactly():
    # max of [1, 3, 3]: the tie splits the gradient 1/2 : 1/2; relu'(0) = 0, relu'(2) = 1
    r = bpcalc.grad("m = max(x)", at={"x": [1, 3, 3]}, exact=True, check=False)
    assert r.exact_gradient == {"x": ["0", "1/2", "1/2"]}
    r = bpcalc.grad("sum(relu(x))", at={"x": [0, 2, -1]}, exact=True, check=False)
    assert r.exact_gradient == {"x": ["0", "1", "0"]}


def test_class_indices_have_no_exact_gradient():
    # logits [0, 0] and class 1: L = log 2, ∂L/∂z = softmax - onehot = [1/2, -1/2]; y is data
    r = bpcalc.grad("L = cross_entropy(z, y)", at={"z": [[0, 0]], "y": [1]}, exact=True, check=False)
    assert r.exact_gradient == {"z": [["1/2", "-1/2"]], "y": None}


def test_over_the_limits_or_the_budget_the_values_are_floats_with_a_note():
    r = bpcalc.grad("sum(x * x)", at={"x": np.ones(65)}, exact=True, check=False)
    assert not r.exact.ok and r.exact_gradient == {"x": None}
    assert r.exact.note == "exact mode: the inputs have 65 entries (SymPy works on at most 64); values are floats"
    assert [w.message for w in r.warnings] == [r.exact.note]
    r = bpcalc.grad(APPLES, at=APPLES_AT, exact=True, check=False, budget=0)
    assert r.exact.note == "exact mode: SymPy ran out of its 0 s budget; values are floats"
    assert r.gradient["tax"] == 650.0  # the engine's numbers stand


def test_json_mirrors_the_scalar_keys_with_nested_lists():
    doc = bpcalc.grad(APPLES, at=APPLES_AT, exact=True, check=False).to_dict()
    exact = doc["exact"]
    assert exact["ok"] is True and exact["value"] == "715"
    assert exact["gradient"] == {"price": ["11/5", "33/10"], "n": ["110", "165"], "tax": "650"}
    assert exact["latex"]["gradient"]["n"] == "\\begin{bmatrix}110 & 165\\end{bmatrix}"
    price = doc["nodes"][0]
    assert price["exact"] == {"value": ["100", "150"], "grad": ["11/5", "33/10"]}
