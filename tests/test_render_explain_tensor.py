"""bpcalc.render.explain_tensor: the backward pass of a tensor program as
steps of a bpcalc program, run through bpcalc itself.

References come from the samples' expect files (hand-worked, published or
PyTorch numbers) and from NumPy formulas written here, never from bpcalc."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bpcalc.api import grad
from bpcalc.render.explain import Notation
from bpcalc.render.explain_tensor import explanation, math_text, run_steps, tensor_steps

from conftest import SAMPLES

MATRIX = sorted(p.stem for p in (SAMPLES / "matrix").glob("*.bp"))


def _sample(stem: str):
    bp = SAMPLES / "matrix" / f"{stem}.bp"
    point = json.loads((SAMPLES / "matrix" / f"{stem}.point.json").read_text())
    expect = json.loads((SAMPLES / "matrix" / f"{stem}.expect.json").read_text())
    return grad(bp.read_text(), at=point, check=False), expect


@pytest.mark.parametrize("stem", MATRIX)
def test_the_steps_run_through_bpcalc_give_the_reference_gradients(stem):
    result, expect = _sample(stem)
    steps = tensor_steps(result)
    assert not any(s.literal for s in steps.steps)  # every step is a formula of the language
    ran = run_steps(steps)  # bpcalc's parser and engine, not Python's eval
    graph = result.graph
    tol = expect.get("tolerance", 1e-9)
    for name, want in expect["gradient"].items():
        if want is None:  # class indices: data, no step
            assert steps.grads[graph.input_id(name)] not in ran
            continue
        got = ran[steps.grads[graph.input_id(name)]]
        np.testing.assert_allclose(got, np.asarray(want, dtype=float), rtol=tol, atol=tol, err_msg=name)


def test_matmul_steps_carry_the_rule_and_the_shapes():
    result, _ = _sample("dlfs_affine_softmax")
    steps = {s.target: s for s in tensor_steps(result).steps}
    assert steps["dW"].formula == "X.T @ dn4"
    assert steps["dW"].shapes == "(3×2)(2×3) → (3×3)"
    assert steps["dX"].formula == "dn4 @ W.T"
    assert steps["dX"].shapes == "(2×3)(3×3) → (2×3)"
    assert steps["db"].formula == "sum(dY, axis=0)"
    assert steps["db"].note == "b was added to each of the 2 rows of Y, so db sums dY over the rows"
    assert "(p − t)/2" in steps["dY"].note


def test_softmax_cross_entropy_comes_to_p_minus_t_over_n():
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = [2, 0]
    result = grad("cross_entropy(s, y)", at={"s": x.tolist(), "y": y}, check=False)
    steps = tensor_steps(result)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    t = np.eye(3)[y]
    ran = run_steps(steps)
    np.testing.assert_allclose(ran["onehot_y"], t)
    np.testing.assert_allclose(ran["ds"], (p - t) / 2, rtol=1e-12)
    assert [s.formula for s in steps.steps if s.target == "ds"] == ["dn2 * (softmax(s) - onehot_y) / 2"]


def test_a_fan_out_sums_its_contributions_and_broadcasts_are_undone():
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    b, c = np.array([[1.0], [2.0]]), np.array([[1.0, 2.0, 0.0]])
    result = grad("sum(X*X, axis=1) @ [1, 2] + sum(b * X) + sum(c * X)",
                  at={"X": x.tolist(), "b": b.tolist(), "c": c.tolist()}, check=False)
    steps = tensor_steps(result)
    by = {s.target: s for s in steps.steps}
    assert "X feeds" in by["dX"].note or "both arguments" in by["dX"].note
    assert by["db"].formula == "outer(sum(db_n7, axis=1), [1])"
    assert "each of the 3 columns" in by["db"].note
    ran = run_steps(steps)
    np.testing.assert_allclose(ran["dX"], 2 * x * np.array([[1.0], [2.0]]) + b + c)
    np.testing.assert_allclose(ran["db"], x.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ran["dc"], x.sum(axis=0, keepdims=True))


def test_a_step_the_language_cannot_write_is_the_engines_numbers_and_says_so():
    result = grad("max(X)", at={"X": [[1.0, 5.0], [2.0, 0.0]]}, check=False)
    (step,) = [s for s in tensor_steps(result).steps if s.target == "dX"]
    assert step.literal and "cannot write this step" in step.note
    np.testing.assert_allclose(run_steps(tensor_steps(result))["dX"], [[0, 1], [0, 0]])


def test_wrt_keeps_the_steps_on_the_paths_from_one_input():
    result, _ = _sample("cs231n_two_layer")
    targets = [s.target for s in tensor_steps(result, "W2").steps]
    assert "dW2" in targets and "dW1" not in targets and "dX" not in targets and "dreg" not in targets


def test_latex_writes_transposes_products_and_matrices():
    n = Notation(latex=True)
    assert math_text("X.T @ dY", n) == "X^{\\top} \\mathit{dY}"
    assert math_text("dn8 * (2*n8^(2 - 1))", n) == "\\mathit{dn8} \\odot (2 \\odot n_{8}^{(2 - 1)})"
    result, _ = _sample("cs231n_dwx")
    expl = explanation(result, n)
    gradient = {line.chain[0]: line.chain[1] for line in expl.sections[2].lines}
    assert gradient["\\frac{\\partial f}{\\partial W}"] == \
        "\\begin{bmatrix}4 & -2 & -7 \\\\ -2 & 3 & 12.5\\end{bmatrix}"


from conftest import run_cli  # noqa: E402
from test_render_explain import compile_latex, needs_latex, needs_xelatex  # noqa: E402


@needs_latex
@pytest.mark.parametrize("stem", MATRIX)
def test_every_matrix_sample_compiles_and_has_its_gradients_in_the_pdf(tmp_path, stem):
    bp, point = SAMPLES / "matrix" / f"{stem}.bp", SAMPLES / "matrix" / f"{stem}.point.json"
    run = run_cli("explain", "-f", str(bp), "--at-file", str(point), "--format", "latex")
    assert run.code == 0, run.err
    log, text = compile_latex(tmp_path, run.out)
    assert re.findall(r"Overfull \\[hv]box.*", log) == []  # wide matrices are smallmatrix, long prose breaks
    gradient = text[text.rindex("Gradient"):text.rindex("The backward steps")]
    for name in json.loads((SAMPLES / "matrix" / f"{stem}.expect.json").read_text())["gradient"]:
        assert f"∂{name}" in gradient.replace("\n", ""), (name, gradient)


def test_a_wide_matrix_is_a_smallmatrix_in_latex():
    # d sum(W * C)/dW = C: a 1×4 row of 10-character numbers, too wide for a page's line as a bmatrix
    n = Notation(latex=True)
    c = [[-0.0104163, 0.00310635, 0.00834355, -0.0103055]]
    result = grad("sum(W * C)", at={"W": [[1.0, 1.0, 1.0, 1.0]], "C": c}, check=False)
    gradient = {line.chain[0]: line.chain[1] for line in explanation(result, n).sections[2].lines}
    assert gradient["\\frac{\\partial f}{\\partial W}"] == ("\\left[\\begin{smallmatrix}-0.0104163 & 0.00310635 & "
                                                          "0.00834355 & -0.0103055\\end{smallmatrix}\\right]")
    assert gradient["\\frac{\\partial f}{\\partial C}"] == "\\begin{bmatrix}1 & 1 & 1 & 1\\end{bmatrix}"


@needs_xelatex
@pytest.mark.parametrize("stem", MATRIX)
def test_every_matrix_sample_compiles_in_chinese(tmp_path, stem):
    bp, point = SAMPLES / "matrix" / f"{stem}.bp", SAMPLES / "matrix" / f"{stem}.point.json"
    run = run_cli("explain", "-f", str(bp), "--at-file", str(point), "--format", "latex", "--lang", "zh")
    assert run.code == 0, run.err
    log, text = compile_latex(tmp_path, run.out, engine="xelatex", documentclass="ctexart")
    assert re.findall(r"Overfull \\[hv]box.*", log) == []
    assert "反向传播" in text and "梯度" in text


def test_steps_bpcalc_refuses_at_the_point_are_reported_not_checked():
    # d sqrt(x)/dx = 1/(2 sqrt(x)) is infinite at 0: the engine's gradient is inf, and
    # bpcalc refuses the step's division by zero, so the steps are not claimed to agree
    result = grad("sum(sqrt(x))", at={"x": [0.0, 1.0]}, check=False)
    expl = explanation(result, Notation(latex=False))
    last = expl.sections[-1].lines[-1].note
    assert last.startswith("not run through bpcalc: division by zero") and "✓" not in last


def test_max_of_three_tensors_is_explained_with_the_engines_numbers():
    # d/dx sum(max(x, y, z)) at x = [3, 0], y = [1, 2], z = [1, 2]: x wins entry 0, y and z tie at entry 1
    from conftest import run_cli

    run = run_cli("explain", "sum(max(x, y, z))", "--at", "x=[3,0],y=[1,2],z=[1,2]")
    assert run.code == 0, run.err
    assert "  ∂f/∂x = [1, 0]  (2)" in run.out and "  ∂f/∂y = [0, 0.5]  (2)" in run.out
