"""The check of tensor programs (bpcalc.verify_tensor): it must accept the
engine's right answers and catch a wrong rule, naming the entry."""

from __future__ import annotations

import numpy as np
import pytest

import bpcalc
from bpcalc import ops
from bpcalc.verify import FD_MISMATCH, FD_OK, FINITE_DIFFERENCES, KINK, MISMATCH, OK, SYMPY
from bpcalc.verify_tensor import FD_MAX_ENTRIES, check_tensor


def result(program: str, **at):
    return bpcalc.grad(program, at=at)


def test_small_programs_are_checked_by_sympy_entry_by_entry():
    r = result("sum(softmax(W @ x) * [1, 2])", W=[[0.5, -1.0], [2.0, 0.25]], x=[1.0, 3.0])
    assert r.check.method == SYMPY and r.check.ok
    assert [c.status for c in r.check.inputs] == [OK, OK]
    w = next(c for c in r.check.inputs if c.name == "W")
    assert np.allclose(w.symbolic, r.gradient["W"], rtol=1e-12)


def test_a_wrong_rule_is_caught_and_the_entry_named(monkeypatch):
    table = dict(ops.TENSOR_OPS)
    wrong = ops.TensorOp(**{**table["matmul"].__dict__,
                            "vjp": lambda np_, g, a, b, out: (np_.outer(g, b) * 1.5, a.T @ g)})
    monkeypatch.setitem(ops.TENSOR_OPS, "matmul", wrong)
    r = result("sum(W @ x)", W=[[1.0, 2.0], [3.0, 4.0]], x=[1.0, -1.0])
    assert r.check.ok is False
    bad = next(c for c in r.check.inputs if c.name == "W")
    assert bad.status == MISMATCH
    assert any(note.startswith("∂/∂W[0, 0]: engine 1.5") for note in r.check.notes)


def test_finite_differences_decide_for_large_inputs():
    rng = np.random.default_rng(1)
    X, W = rng.standard_normal((40, 30)), rng.standard_normal((30, 5))
    r = result("mean(tanh(X @ W))", X=X, W=W)
    assert r.check.method == FINITE_DIFFERENCES and r.check.ok
    by_name = {c.name: c for c in r.check.inputs}
    assert by_name["X"].status == FD_OK and by_name["X"].directions == 12  # 1200 entries > FD_MAX_ENTRIES
    assert X.size > FD_MAX_ENTRIES >= W.size and by_name["W"].fd.shape == (30, 5)
    assert "SymPy works on at most" in r.check.notes[0]


def test_finite_differences_catch_a_wrong_rule(monkeypatch):
    graph = bpcalc.grad("sum(W @ x)", at={"W": np.ones((2, 2)), "x": [1.0, -1.0]}, check=False).graph
    verdict = check_tensor(graph, {"W": np.ones((2, 2)), "x": np.array([1.0, -1.0])},
                           {"W": np.ones((2, 2)), "x": np.array([2.0, 2.0])}, budget=0)
    assert verdict.method == FINITE_DIFFERENCES and not verdict.ok
    assert {c.name: c.status for c in verdict.inputs} == {"W": FD_MISMATCH, "x": FD_OK}


def test_a_kink_is_reported_as_the_convention_not_a_mismatch():
    r = result("sum(relu(x))", x=[1.0, 0.0, -3.0])
    assert r.check.ok and r.check.inputs[0].status == KINK


def test_class_indices_are_not_checked():
    r = result("cross_entropy(s, y)", s=[[1.0, 2.0, 0.5]], y=[2])
    assert [c.name for c in r.check.inputs] == ["s"] and r.check.ok


@pytest.mark.parametrize("budget", [0.0])
def test_budget_zero_means_finite_differences(budget):
    r = bpcalc.grad("sum(x * x)", at={"x": [1.0, 2.0]}, budget=budget)
    assert r.check.method == FINITE_DIFFERENCES and r.check.ok


def test_the_local_check_names_a_wrong_rule_in_a_large_program(monkeypatch):
    rng = np.random.default_rng(5)
    X, W = rng.standard_normal((20, 8)), rng.standard_normal((8, 3))
    good = bpcalc.grad("s = X @ W; mean(tanh(s))", at={"X": X, "W": W})
    assert good.check.ok and any(n.startswith("local check: 4 vector-Jacobian products") for n in good.check.notes)
    table = dict(ops.TENSOR_OPS)
    wrong = ops.TensorOp(**{**table["matmul"].__dict__,
                            "vjp": lambda np_, g, a, b, out: (g @ b.T, 1.01 * (a.T @ g))})
    monkeypatch.setitem(ops.TENSOR_OPS, "matmul", wrong)
    r = bpcalc.grad("s = X @ W; mean(tanh(s))", at={"X": X, "W": W})
    assert r.check.ok is False
    assert "local check: the rule of s `X @ W` disagrees with finite differences" in r.check.notes[-1]
    assert {c.name: c.status for c in r.check.inputs} == {"X": MISMATCH, "W": MISMATCH}


def test_equal_infinities_agree_with_sympy():
    # d/dx sum(x*x) = 2x = [inf, inf] in doubles at x = 1e308 (2e308 overflows); SymPy's exact 2e308 is
    # a finite number beyond the doubles, which it reports as inf too: not a mismatch
    r = result("sum(x*x)", x=[1e308, 1e308])
    assert r.check.ok and "✗" not in str(r)


# --- in Chinese (issue 17) ----------------------------------------------------------


def test_in_chinese_the_notes_of_the_tensor_check(monkeypatch):
    from bpcalc.i18n import speaking

    at = {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, -1.0]}
    with speaking("zh"):
        assert bpcalc.grad("sum(W @ x)", at=at, budget=0).check.notes == (
            "未用 SymPy 验证：SymPy 的时间预算为 0",
            "局部验证：3 个单个运算的向量-雅可比积与只对该运算在其自身参数处做的有限差分一致",
        )
        table = dict(ops.TENSOR_OPS)
        wrong = ops.TensorOp(**{**table["matmul"].__dict__,
                                "vjp": lambda np_, g, a, b, out: (np_.outer(g, b) * 1.5, a.T @ g)})
        monkeypatch.setitem(ops.TENSOR_OPS, "matmul", wrong)
        assert bpcalc.grad("sum(W @ x)", at=at).check.notes == ("∂/∂W[0, 0]：引擎 1.5，SymPy 1",)
        assert bpcalc.grad("sum(W @ x)", at=at, budget=0).check.notes == (
            "未用 SymPy 验证：SymPy 的时间预算为 0",
            "∂/∂W[0, 0]：引擎 1.5，有限差分 1",
            "局部验证：%2 `W @ x` 的规则与只对该运算在其自身参数处做的有限差分不一致",
        )
