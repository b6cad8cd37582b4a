import json
import math

import pytest

import bpcalc
from bpcalc.api import num


def test_grad_of_the_cs231n_example():
    r = bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4})
    assert r.value == -12.0
    assert r.gradient == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert r.ok and r.check is not None and r.check.method == "sympy"
    assert [c.derivative for c in r.check.inputs] == ["z", "z", "x + y"]


def test_result_is_frozen_and_nodes_are_views():
    r = bpcalc.grad("q = x*y\nq + 1", at={"x": 3, "y": 4}, check=False)
    with pytest.raises(AttributeError):
        r.value = 1  # type: ignore[misc]
    assert [(n.label, n.op, n.text, n.value, n.grad) for n in r.nodes] == [
        ("x", "input", "x", 3.0, 4.0),
        ("y", "input", "y", 4.0, 3.0),
        ("q", "mul", "x*y", 12.0, 1.0),
        ("%3", "const", "1", 1.0, None),
        ("%4", "add", "q + 1", 13.0, 1.0),
    ]


def test_to_dict_is_the_json_document():
    r = bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": "-4"}, wrt=["z"])
    doc = r.to_dict()
    assert doc["schema"] == "bpcalc.grad/1"
    assert doc["program"] == "(x+y)*z" and doc["at"] == {"x": -2.0, "y": 5.0, "z": -4.0}
    assert doc["value"] == -12.0 and doc["gradient"] == {"z": 3.0}
    assert doc["nodes"][3] == {
        "id": 3, "label": "%3", "name": None, "op": "add", "inputs": [0, 1], "text": "x+y", "span": [1, 4], "shape": [],
        "value": 3.0, "grad": -4.0,
    }
    assert doc["check"]["ok"] is True and doc["check"]["inputs"]["z"]["derivative"] == "x + y"
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc


def test_fan_out_accumulates():
    r = bpcalc.grad("x*x + x", at={"x": 3})
    assert r.gradient == {"x": 7.0}


def test_reassignment_sees_the_previous_binding():
    r = bpcalc.grad("a = x\na = a*a\na = a*a\na", at={"x": 2})
    assert r.value == 16.0 and r.gradient == {"x": 32.0}


def test_domain_error_names_the_node():
    with pytest.raises(bpcalc.BpcalcError) as info:
        bpcalc.grad("y = x - 2\nlog(y)", at={"x": 1})
    err = info.value
    assert err.kind == "domain"
    assert err.message == "log of a negative number (-1) in %3 `log(y)` on line 2"
    assert err.position == (2, 1)


def test_overflow_is_a_warning_not_silent():
    r = bpcalc.grad("exp(x)", at={"x": 1000}, check=False)
    assert r.value == math.inf
    assert any("exp(1000) overflows to inf" in w.message for w in r.warnings)
    assert r.to_dict()["value"] == "inf"


def test_kinks_warn_and_are_not_mismatches():
    r = bpcalc.grad("relu(x) + abs(y) + max(x, y)", at={"x": 0, "y": 0})
    assert r.gradient == {"x": 0.5, "y": 0.5}
    kinds = [w.kind for w in r.warnings]
    assert kinds.count("kink") == 3
    assert r.ok


def test_num_makes_json_strict():
    assert [num(math.inf), num(-math.inf), num(math.nan), num(1.5), num(None)] == [
        "inf", "-inf", "nan", 1.5, None,
    ]


def test_deep_nesting_and_a_long_chain_work():
    depth = 100_000
    r = bpcalc.grad("(" * depth + "x*2" + ")" * depth, at={"x": 1}, check=False)
    assert r.gradient == {"x": 2.0}
    chain = "sin(" * 20_000 + "x" + ")" * 20_000
    r = bpcalc.grad(chain, at={"x": 0.5}, budget=1.0)
    assert r.check is not None and r.check.method == "local"
    assert any("the local check" in n for n in r.check.notes)
    assert r.ok


def test_a_million_nodes():
    program = "a = x\n" + "a = a*y + sin(a)\n" * 333_334 + "a"
    r = bpcalc.grad(program, at={"x": 0.1, "y": 0.5}, check=False)
    assert len(r.graph) == 1_000_004
    assert all(math.isfinite(v) for v in r.gradient.values())


def test_option_values_must_be_finite() -> None:
    from bpcalc.errors import BpcalcError

    for options in ({"rtol": math.nan}, {"atol": math.inf}, {"budget": math.inf}):
        with pytest.raises(BpcalcError, match="must be a finite number"):
            bpcalc.grad("x", at={"x": 1}, **options)


def test_remembered_names_still_refuse_what_is_wrong_and_follow_wrt():
    import numpy as np

    at = {"W": np.eye(2), "b": np.ones(2), "x": np.array([1.0, 2.0])}
    for _ in range(2):  # the second time from what the first remembered
        assert set(bpcalc.grad("sum(W @ x + b)", at=at, check=False, wrt=["b"]).gradient) == {"b"}
        assert set(bpcalc.grad("sum(W @ x + b)", at=at, check=False).gradient) == {"W", "b", "x"}
        assert list(bpcalc.grad("sum(W @ x + b)", at=at, check=False, wrt=["x", "W"]).gradient) == ["x", "W"]
        with pytest.raises(bpcalc.BpcalcError, match="no input 'c'"):
            bpcalc.grad("sum(W @ x + b)", at=at, check=False, wrt=["c"])
        with pytest.raises(bpcalc.BpcalcError, match="missing value"):
            bpcalc.grad("sum(W @ x + b)", at={"W": np.eye(2), "x": np.ones(2)}, check=False)


def test_with_nothing_to_add_the_tolerances_are_still_checked():
    with pytest.raises(bpcalc.BpcalcError, match="rtol"):
        bpcalc.grad("x * y", at={"x": 1, "y": 2}, check=False, rtol=float("nan"))
    r = bpcalc.grad("x * y", at={"x": 1, "y": 2}, check=False)
    assert r.check is None and r.gradient == {"x": 2.0, "y": 1.0}
