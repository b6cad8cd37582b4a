"""The check: whole-expression SymPy for small programs, the O(n) local check
for large ones (or when SymPy runs out of budget), finite differences."""

from __future__ import annotations

import dataclasses
import math

import pytest

import bpcalc
from bpcalc import ops, verify
from bpcalc.errors import Source
from bpcalc.lang.lower import build
from bpcalc.point import as_point


def mlp(layers: int) -> str:
    """A small tanh/sigmoid network, unrolled."""
    lines = []
    prev = ["x0", "x1"]
    for layer in range(layers):
        act = "tanh" if layer % 2 == 0 else "sigmoid"
        cur = []
        for j in range(3):
            terms = " + ".join(f"{0.3 * (j + 1) - 0.2 * k:.2f}*{p}" for k, p in enumerate(prev))
            lines.append(f"h{layer}_{j} = {act}({terms} + 0.1)")
            cur.append(f"h{layer}_{j}")
        prev = cur
    lines.append(" + ".join(prev) + " + softplus(x0) + sqrt(x1*x1 + 1) + x0^3")
    return "\n".join(lines)


AT = {"x0": 0.7, "x1": -1.3}


def test_small_programs_use_sympy_on_the_whole_expression() -> None:
    r = bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4})
    assert r.check is not None and r.check.method == verify.SYMPY and r.ok


def test_large_programs_get_the_local_check_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "WHOLE_MAX_NODES", 20)
    r = bpcalc.grad(mlp(6), at=AT)
    c = r.check
    assert c is not None and c.method == verify.LOCAL and c.ok
    assert all(i.status == verify.OK and i.fd is not None for i in c.inputs)
    assert any("local check" in n and "all agree" in n for n in c.notes)
    assert any("the local check" in n and "nodes" in n for n in c.notes)
    assert r.to_dict()["check"]["method"] == "local"


def test_the_local_check_finds_a_wrong_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "WHOLE_MAX_NODES", 20)
    wrong = dataclasses.replace(ops.OPS["tanh"], partials=lambda a, o: (1.0 - o,))  # not 1 - o^2
    monkeypatch.setitem(ops.OPS, "tanh", wrong)
    r = bpcalc.grad(mlp(6), at=AT)
    c = r.check
    assert c is not None and not c.ok
    assert {i.status for i in c.inputs} == {verify.MISMATCH}
    assert any("tanh" in n and "from SymPy" in n for n in c.notes)


def test_the_chain_rule_redone_catches_a_wrong_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    # every local partial is right, but the gradient handed in is not their sum
    monkeypatch.setattr(verify, "WHOLE_MAX_NODES", 0)
    graph, _ = build(Source("x*x + x*y"))
    point = as_point({"x": 1.5, "y": 2.0})
    c = verify.check(graph, point, {"x": 3.0, "y": 1.5}, [])  # d/dx is 2x + y = 5
    assert c.method == verify.LOCAL
    assert [i.status for i in c.inputs] == [verify.MISMATCH, verify.OK]
    assert [i.symbolic for i in c.inputs] == [5.0, 1.5]  # the sum over SymPy's partials


def test_behind_a_kink_the_chain_stops_and_the_convention_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # at relu(0) the local check skips the node: the chain rule redone with
    # SymPy's partials cannot pass it, so x is judged by finite differences,
    # which straddle the kink: a kink, with the convention used, not a mismatch
    monkeypatch.setattr(verify, "WHOLE_MAX_NODES", 0)
    r = bpcalc.grad("relu(x) + x*y", at={"x": 0, "y": 2})
    assert r.gradient == {"x": 2.0, "y": 0.0}
    assert r.check is not None and r.check.method == verify.LOCAL and r.ok
    assert [i.status for i in r.check.inputs] == [verify.KINK, verify.OK]


def test_an_ill_conditioned_point_is_not_a_mismatch_but_is_warned() -> None:
    # exp(25) is off by 1e-5 in double precision: the exact derivative differs
    # at 7e-6, but every operation and the chain rule agree at the engine's values
    r = bpcalc.grad("a = x + 25\na = sin(exp(a))\nx + a", at={"x": 0})
    assert r.check is not None and r.check.method == verify.SYMPY and r.ok
    assert [i.status for i in r.check.inputs] == [verify.ILL_CONDITIONED]
    assert any("ill-conditioned in double precision" in n for n in r.check.notes)
    assert [w.message for w in r.warnings if w.kind == "ill-conditioned"] == [
        "∂f/∂x = -5.22726e+10 is inaccurate in double precision at this point; SymPy's exact value is "
        "-5.22722e+10 (see the check's note; --exact computes with exact numbers)"
    ]


def test_cancelling_contributions_are_ill_conditioned() -> None:
    # found by the long property run: contributions of ±5e23 to x sum to 0 in
    # doubles where the exact gradient is 1
    r = bpcalc.grad("a = exp(4)\na += x - x\nexp(a) + x", at={"x": 0})
    assert r.gradient == {"x": 0.0} and r.ok
    assert r.check is not None and [i.status for i in r.check.inputs] == [verify.ILL_CONDITIONED]
    assert r.check.inputs[0].symbolic == 1.0
    assert any("SymPy's exact value is 1 " in w.message for w in r.warnings)


def test_last_bit_differences_are_rounding() -> None:
    r = bpcalc.grad("1/(1+exp(-(w0*x0+w1*x1+w2)))", at={"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
                    rtol=0, atol=0)
    assert r.check is not None and r.ok and verify.ROUNDING in [i.status for i in r.check.inputs]
    assert not r.check.ill_conditioned and not any(w.kind == "ill-conditioned" for w in r.warnings)


def test_sympy_out_of_budget_falls_back_to_the_local_check() -> None:
    r = bpcalc.grad(mlp(2), at=AT, budget=1e-4)
    assert r.check is not None and r.check.method == verify.LOCAL and r.ok
    assert any("budget" in n and "local check" in n for n in r.check.notes)
    r = bpcalc.grad(mlp(2), at=AT, budget=0)
    assert r.check is not None and r.check.method == verify.FINITE_DIFFERENCES and r.ok


def test_overflowing_and_undefined_floating_point_derivatives_are_asked_exactly() -> None:
    graph, _ = build(Source("sigmoid(x) + softplus(y) + z^2 + sqrt(x*x)"))
    from bpcalc.engine import forward

    values, _ = forward(graph, {"x": -800.0, "y": 800.0, "z": 0.0})
    local = verify.local_partials(graph, values, set())
    # SymPy's exp(-a)/(1 + exp(-a))^2 overflows in doubles at a = -800: exact evaluation agrees
    assert local.mismatched == () and local.unverified == 0 and local.checked >= 5
    assert "sigmoid" in local.kinds and "pow" in local.kinds


def test_vector_finite_differences_match_the_scalar_ones() -> None:
    graph, _ = build(Source(mlp(3)))
    point = as_point(AT)
    scalar = verify.finite_differences(graph, point, ("x0", "x1"))
    vec = verify.vector_finite_differences(graph, {k: v.value for k, v in point.items()}, ("x0", "x1"))
    assert vec is not None
    for name in ("x0", "x1"):
        assert math.isclose(scalar[name], vec[name], rel_tol=1e-6)


def test_a_hundred_thousand_node_program_is_checked_locally() -> None:
    program = "a = x\nb = y\n" + "a = a*b + sin(a)\n" * 33_333 + "a"
    r = bpcalc.grad(program, at={"x": 0.5, "y": 0.9})
    assert r.check is not None and r.check.method == verify.LOCAL and r.ok
    assert any("local partial derivatives" in n and "all agree" in n for n in r.check.notes)


def test_heavy_reuse_goes_straight_to_the_local_check() -> None:
    # 47 lines of `a = a*b + sin(a)`: 143 nodes, but 160 000 operations written out
    program = "a = x\nb = y\n" + "a = a*b + sin(a)\n" * 47 + "a"
    graph, _ = build(Source(program))
    assert len(graph) < verify.WHOLE_MAX_NODES and verify.tree_size(graph, 10**9) > 100_000
    r = bpcalc.grad(program, at={"x": 0.5, "y": 0.9})
    assert r.check is not None and r.check.method == verify.LOCAL and r.ok
    assert r.check.seconds < 5  # not a SymPy run into its 10 s budget
    assert any("written out as one expression" in n for n in r.check.notes)
    assert verify.tree_size(build(Source("(x+y)*(x+y)"))[0], 100) == 7


def test_the_course_functions_pass_both_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    # max of three (SymPy's derivative is a Heaviside over the others' Max),
    # a left-out slope, elu's alpha as an input: the whole-expression check,
    # then operation by operation
    program = "m = max(x, y*y, 0.5)\nleaky_relu(m - 2) + elu(x, y) + atan2(y, x) + gelu(m) + log1p(hypot(x, y))"
    at = {"x": -0.7, "y": 1.6}
    whole = bpcalc.grad(program, at=at)
    assert whole.check is not None and whole.check.method == verify.SYMPY and whole.ok
    assert {i.status for i in whole.check.inputs} == {verify.OK}
    monkeypatch.setattr(verify, "WHOLE_MAX_NODES", 0)
    local = bpcalc.grad(program, at=at)
    assert local.check is not None and local.check.method == verify.LOCAL and local.ok
    assert {i.status for i in local.check.inputs} == {verify.OK}
    assert local.gradient == whole.gradient
    note = next(n for n in local.check.notes if "compared with SymPy's derivative" in n)
    assert "max" in note and "leaky_relu" in note and "all agree" in note


def test_the_local_check_finds_a_wrong_rule_of_a_three_argument_max(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "WHOLE_MAX_NODES", 0)
    right = ops.OPS["max"]
    wrong = dataclasses.replace(right, partials=lambda *v: right.partials(*v) if len(v) == 3 else (0.0, 1.0, 0.0))
    monkeypatch.setitem(ops.OPS, "max", wrong)
    r = bpcalc.grad("max(x, y, z) * x", at={"x": 3, "y": 1, "z": 2})
    assert r.check is not None and not r.ok
    assert any("d/da0 is 0 in the engine, 1 from SymPy" in n for n in r.check.notes)


@pytest.mark.parametrize(
    "program, at, note",
    [
        ("x^-1e308", {"x": 1.5}, "%2 `x^-1e308` raises 1.5 to the power -1e+308"),
        ("x^0.5^0.5^0.5^1e308", {"x": 1.5}, "%5 `0.5^1e308` raises 0.5 to the power 1e+308"),
        ("h = 1e-8^6.02E23; sigmoid(z)*h", {"z": 1.0}, "h `1e-8^6.02E23` raises 1e-08 to the power 6.02e+23"),
        ("(1 + 1e-15)^1e15 * x", {"x": 1.5}, "raises 1.000000000000001 to the power 1000000000000000.0"),
    ],
)
def test_tiny_programs_that_sympy_cannot_evaluate_exactly_do_not_wait_for_the_budget(program, at, note) -> None:
    r = bpcalc.grad(program, at=at, budget=10.0)
    assert r.check is not None and r.check.method == verify.LOCAL and r.ok
    assert note in r.check.notes[0] and "evaluating that exactly could take unbounded time" in r.check.notes[0]
    assert r.check.seconds < 5.0  # the budget is 10 s; it took it all before



# --- in Chinese (issue 17) ----------------------------------------------------------


def test_in_chinese_the_local_check_says_what_it_did(monkeypatch: pytest.MonkeyPatch) -> None:
    from bpcalc.i18n import speaking

    monkeypatch.setattr(verify, "WHOLE_MAX_NODES", 20)
    with speaking("zh"):
        c = bpcalc.grad(mlp(6), at=AT).check
        wrong = dataclasses.replace(ops.OPS["tanh"], partials=lambda a, o: (1.0 - o,))
        monkeypatch.setitem(ops.OPS, "tanh", wrong)
        bad = bpcalc.grad(mlp(6), at=AT).check
    assert c is not None and c.ok and c.notes == (
        "逐个运算验证（局部验证）：程序有 203 个节点（SymPy 只对不超过 20 个节点的程序整体求导）",
        "局部验证：169 个局部导数（add, mul, pow, sigmoid, softplus, sqrt, tanh）已与 SymPy 对各运算求的导数比较，全部一致",
        "局部验证：用 SymPy 的偏导数重做的链式法则覆盖了 2 个输入中的 2 个",
    )
    assert bad is not None and not bad.ok
    assert bad.notes[1].endswith("已与 SymPy 对各运算求的导数比较；8 个不一致")
    assert bad.notes[2].startswith("局部验证：第 1 行的 h0_0 `tanh(0.30*x0 + 0.10*x1 + 0.1)`")
    assert bad.notes[2].endswith("：d/da 在引擎中是 0.82191913188266985，SymPy 给出 0.96828720441057803（1 - tanh(a)**2）")


def test_in_chinese_without_a_budget_finite_differences_decide() -> None:
    from conftest import run_cli

    r = run_cli("grad", "x*y", "--at", "x=1.5,y=2", "--budget", "0", "--lang", "zh")
    assert r.code == 0, r.err
    assert any(line.endswith("SymPy 用完了 0 秒的时间预算；改用中心差分验证") for line in r.out.splitlines())
