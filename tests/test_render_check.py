"""`bpcalc check`'s output: the verdict table, where it went wrong, JSON."""

from __future__ import annotations

import io

from rich.console import Console

import bpcalc
from bpcalc.homework import GRADIENT, NODE_GRAD, NODE_VALUE, VALUE, Judging, judge_claims, parse_claims
from bpcalc.render.check import SCHEMA, check_document, render_report, summary, where_wrong
from bpcalc.render.explain import Notation

ADD_MUL = "q = x + y\nf = q * z"
AT = {"x": "-2", "y": "5", "z": "-4"}


def report(claims: dict[str, str], judging: Judging = Judging(), **kw):
    result = bpcalc.grad(ADD_MUL, at=AT, check=False, **kw)
    parsed = [c for kind, text in claims.items() for c in parse_claims(kind, text)]
    return judge_claims(result, parsed, judging)


def printed(rep) -> str:
    out = io.StringIO()
    render_report(rep, Console(file=out, width=200, no_color=True, highlight=False), 6)
    return out.getvalue()


def test_summary_counts_wrong_claims():
    assert summary(report({GRADIENT: "x=-4"})) == "✓ the claim holds"
    assert summary(report({GRADIENT: "x=-4,y=-4"})) == "✓ all 2 claims hold"
    assert summary(report({GRADIENT: "x=4,y=-4"})) == "✗ 1 of 2 claims is wrong"
    assert summary(report({GRADIENT: "x=4,y=4"})) == "✗ 2 of 2 claims are wrong"


def test_a_wrong_gradient_shows_upstream_and_local():
    rep = report({NODE_GRAD: "q=4"})
    lines = where_wrong(rep, rep.verdicts[0], Notation(latex=False))
    assert [(" = ".join(line.chain), line.note) for line in lines] == [
        ("q = x + y", ""),
        ("∂f/∂f = 1", "upstream, from f = q * z"),
        ("∂f/∂q = z = -4", "local derivative"),
        ("∂f/∂q = ∂f/∂f · z = 1 · (-4) = -4", "upstream × local = downstream"),
    ]


def test_a_wrong_value_shows_the_forward_step():
    rep = report({NODE_VALUE: "q=2"})
    (line,) = where_wrong(rep, rep.verdicts[0], Notation(latex=False))
    assert line.chain == ("q", "x + y", "(-2) + 5", "3")


def test_the_table_says_what_was_claimed_and_how_it_was_judged():
    text = printed(report({GRADIENT: "x=-4,y=0.39", VALUE: "-12.0"}))
    rows = [line.split() for line in text.splitlines()]
    assert ["∂f/∂x", "-4", "-4", "0", "✓", "within", "the", "tolerance"] in rows
    assert ["∂f/∂y", "0.39", "-4", "4.39", "✗", "rounded", "to", "2", "decimals", "(as", "written):", "-4.00"] in rows
    assert ["f", "-12.0", "-12", "0", "✓", "rounded", "to", "1", "decimal", "(as", "written):", "-12.0"] in rows
    assert "tolerance: |claimed - correct| <= 1e-12 + 1e-9·|correct|" in text
    assert "✗ 1 of 3 claims is wrong" in text
    assert "∂f/∂y: you wrote 0.39; the correct step is\n  y  (an input)\n      ∂f/∂q = -4  (upstream, from q = x + y)\n" in text


def test_json_document():
    doc = check_document(report({GRADIENT: "x=4", VALUE: "-12", NODE_VALUE: "q=3"}))
    assert doc["schema"] == SCHEMA == "bpcalc.check/1"
    assert doc["ok"] is False and doc["summary"] == "✗ 1 of 3 claims is wrong"
    assert doc["judging"] == {"rtol": 1e-9, "atol": 1e-12, "decimals": None, "sig_figs": None, "as_written": True}
    x, f, q = doc["claims"]
    assert {k: x[k] for k in ("name", "kind", "what", "claimed", "correct", "ok", "difference")} == {
        "name": "x", "kind": "gradient", "what": "∂f/∂x", "claimed": 4.0, "correct": -4.0, "ok": False,
        "difference": 8.0,
    }
    assert x["terms"] == [{"user": "q", "upstream": -4.0, "local": 1.0, "local_formula": "1", "contribution": -4.0}]
    assert (f["name"], f["kind"], f["ok"], "terms" in f) == ("f", "value", True, False)
    assert (q["name"], q["kind"], q["judged"]["rule"]) == ("q", "node-value", "tolerance")
    assert doc["result"]["schema"] == "bpcalc.grad/1" and doc["result"]["value"] == -12.0


def test_json_in_exact_mode_carries_exact_strings():
    doc = check_document(report({GRADIENT: "z=3"}, exact=True))
    assert doc["claims"][0]["exact"] == "3"
    assert doc["result"]["exact"]["gradient"] == {"x": "-4", "y": "-4", "z": "3"}


def test_a_wrong_tensor_entry_in_json_and_where_it_went_wrong():
    # f = sum(W @ x * c): dW[i, j] = c[i] x[j], dx = W.T @ c (by hand)
    result = bpcalc.grad("sum(W @ x * c)", at={"W": [[1, 2], [3, 4]], "x": [5, -1], "c": [2, -3]}, check=False)
    rep = judge_claims(result, parse_claims(GRADIENT, "W[1,0]=15") + parse_claims(GRADIENT, "x=[-7, -8]"))
    assert [v.ok for v in rep.verdicts] == [False, True, True]
    doc = check_document(rep)
    first = doc["claims"][0]
    assert (first["what"], first["index"], first["correct"]) == ("∂f/∂W[1, 0]", [1, 0], -15.0)
    assert [t["contribution"] for t in first["terms"]] == [-15.0]
    (line,) = [line for line in where_wrong(rep, rep.verdicts[0], Notation(latex=False)) if line.level == 1]
    # dW[1, 0] = d(W @ x)[1] · x[0] = c[1] · x[0]
    assert line.chain == ("from n3", "dn3[1] · x[0]", "(-3) · 5", "-15")


# --- in Chinese (issue 17) ----------------------------------------------------------


def test_in_chinese_the_summary_counts_wrong_claims():
    from bpcalc.i18n import speaking

    with speaking("zh"):
        assert summary(report({GRADIENT: "x=-4"})) == "✓ 答案正确"
        assert summary(report({GRADIENT: "x=-4,y=-4"})) == "✓ 2 个答案全部正确"
        assert summary(report({GRADIENT: "x=4"})) == "✗ 答案错误"
        assert summary(report({GRADIENT: "x=4,y=-4"})) == "✗ 2 个答案中有 1 个错误"
        assert summary(report({GRADIENT: "x=4,y=4"})) == "✗ 2 个答案中有 2 个错误"
    assert summary(report({GRADIENT: "x=4"})) == "✗ 1 of 1 claim is wrong"  # English again after the block


def test_in_chinese_the_table_lines_up_at_80_columns():
    from rich.cells import cell_len

    from bpcalc.i18n import speaking

    with speaking("zh"):
        rep = report({GRADIENT: "x=-4,y=4", VALUE: "-12.0"})
        out = io.StringIO()
        render_report(rep, Console(file=out, width=80, no_color=True, highlight=False), 6)
    lines = out.getvalue().splitlines()
    head = lines[2]
    rows = lines[4:7]
    assert [row.split()[0] for row in rows] == ["∂f/∂x", "∂f/∂y", "f"] and "判定方式" in head
    marks = {cell_len(row[: max(row.find("✓"), row.find("✗"))]) for row in rows}
    judged = {cell_len(row[: row.find(word)]) for row, word in zip(rows, ("在容差", "超出容差", "舍入到"))}
    assert len(marks) == 1 and judged == {cell_len(head[: head.find("判定方式")])}
    assert rows[2].endswith("舍入到 1 位小数（按所写位数）：-12.0")
    assert "∂f/∂y：你写的是 4；正确的一步是" in lines
    assert all(cell_len(line) <= 80 for line in lines[:8])  # the table (a formula under it may be longer)
