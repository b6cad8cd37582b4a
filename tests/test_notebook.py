"""bpcalc.check, explain, graph and how results show themselves (bpcalc/notebook.py),
and a real notebook run (nbclient with ipykernel).

Reference numbers: CS231n's (x+y)*z at x=-2, y=5, z=-4: f = -12,
df/dx = df/dy = -4, df/dz = 3."""

from __future__ import annotations

import shutil
from fractions import Fraction

import numpy as np
import pytest

import bpcalc

AT = {"x": -2, "y": 5, "z": -4}


def test_a_result_prints_as_the_grad_table_not_a_dataclass():
    text = str(bpcalc.grad("(x+y)*z", at=AT))
    assert text.startswith("bpcalc grad (x+y)*z\nat x = -2, y = 5, z = -4\n")
    assert "GradResult(" not in text and "∂f/∂z = 3" in text and "✓ all agree" in text


def test_a_result_in_html_has_the_table_and_the_picture():
    html = bpcalc.grad("(x+y)*z", at=AT)._repr_html_()
    assert "<pre" in html and "∂f/∂x = -4" in html
    assert ("<svg" in html) == (shutil.which("dot") is not None)


def test_values_may_be_numpy_numbers_ints_and_fractions():
    r = bpcalc.grad("(x+y)*z", at={"x": np.float64(-2), "y": np.int64(5), "z": Fraction(-8, 2)})
    assert r.gradient == {"x": -4.0, "y": -4.0, "z": 3.0}
    third = bpcalc.grad("3*x", at={"x": Fraction(1, 3)}, exact=True)
    assert third.exact.values[third.graph.output] == "1"


def test_messages_speak_of_the_at_argument():
    with pytest.raises(bpcalc.BpcalcError) as missing:
        bpcalc.grad("(x+y)*z", at={"x": 1})
    assert missing.value.message == "missing values for inputs y, z; give them with at={'y': …, 'z': …}"
    with pytest.raises(bpcalc.BpcalcError) as unknown:
        bpcalc.grad("x+1", at={"x": 1, "w": 2})
    assert unknown.value.message.startswith("at={'w': …}: the program has no input 'w'")
    assert "--at" not in unknown.value.message
    with pytest.raises(bpcalc.BpcalcError) as wrt:
        bpcalc.grad("x+1", at={"x": 1}, wrt=["v"])
    assert wrt.value.message.startswith("wrt=['v']: the program has no input 'v'")
    with pytest.raises(bpcalc.BpcalcError) as computed:
        bpcalc.check("q = x+1\nq*2", at={"x": 1, "q": 2}, expect={"x": 2})
    assert computed.value.message.startswith("at={'q': …}: 'q' is computed by the program, not an input")


def test_check_judges_claims():
    good = bpcalc.check("(x+y)*z", at=AT, expect={"x": -4, "y": -4, "z": 3}, expect_value=-12)
    assert good.ok and "✓ all 4 claims hold" in str(good)
    bad = bpcalc.check("(x+y)*z", at=AT, expect={"z": Fraction(5, 2)}, expect_node={"%3": 3})
    assert not bad.ok and [v.ok for v in bad.verdicts] == [False, True]
    assert "✗ 1 of 2 claims is wrong" in str(bad) and "✗" in bad._repr_html_()
    rounded = bpcalc.check("1/(1+exp(-(w0*x0+w1*x1+w2)))", at={"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
                           expect={"w0": "-0.197", "x1": -0.59}, decimals=3)
    assert rounded.ok
    with pytest.raises(bpcalc.BpcalcError, match="nothing to check"):
        bpcalc.check("x", at={"x": 1})


def test_explain_text_markdown_latex_and_the_page(tmp_path):
    e = bpcalc.explain("(x+y)*z", at=AT)
    assert "∂f/∂z = ∂f/∂%4 · %3 = 1 · 3 = 3" in str(e)
    assert "$" in e.markdown() and "align*" in e.latex()
    html = e._repr_html_()
    assert html.startswith("<iframe") and "srcdoc=" in html and "&lt;script&gt;" in html
    e.save(tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text().startswith("<!DOCTYPE html>")


def test_graph_text_dot_and_files(tmp_path):
    g = bpcalc.graph("(x+y)*z", at=AT)
    assert "%4     *       (x+y)*z        -12          1   output f" in str(g)
    assert g.dot.startswith("digraph bpcalc {")
    g.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == g.dot
    if shutil.which("dot"):
        assert g._repr_html_().startswith("<svg")
        g.save(tmp_path / "g.pdf")
        assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF-")


def test_a_real_notebook_shows_the_results():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "import bpcalc\nat = {'x': -2, 'y': 5, 'z': -4}",
        "bpcalc.grad('(x+y)*z', at=at)",
        "bpcalc.check('(x+y)*z', at=at, expect={'x': -4, 'z': 2})",
        "bpcalc.explain('(x+y)*z', at=at)",
        "bpcalc.graph('(x+y)*z', at=at)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [cell.outputs[0]["data"] if cell.outputs else {} for cell in nb.cells]
    grad_html, check_html, explain_html, graph_html = (o["text/html"] for o in outputs[1:])
    assert "∂f/∂z = 3" in grad_html and "GradResult(" not in outputs[1]["text/plain"]
    assert outputs[1]["text/plain"].startswith("bpcalc grad (x+y)*z")
    assert "✗ 1 of 2 claims is wrong" in check_html
    assert explain_html.startswith("<iframe") and "step 1 of 11" in explain_html
    if shutil.which("dot"):
        assert "<svg" in grad_html and graph_html.startswith("<svg")
    else:
        assert "output f" in graph_html


def test_a_matrix_result_shows_its_table():
    """sum(W @ x): d/dx = W's column sums [4, 6], d/dW = rows of x, [[1, -1], [1, -1]]."""
    r = bpcalc.grad("sum(W @ x)", at={"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "x": [1, -1]})
    text = str(r)
    assert "[4, 6]" in text and "[[1, -1]," in text and "GradResult(" not in text
    assert "[4, 6]" in r._repr_html_()
    page = bpcalc.explain("sum(W @ x)", at={"W": np.eye(2), "x": [1, -1]}).html()  # the step-through page
    assert 'data-label="W"' in page and "dW = " in page


def test_without_graphviz_a_notebook_shows_the_tables(monkeypatch):
    import bpcalc.render.graph_dot as graph_dot

    monkeypatch.setattr(graph_dot.shutil, "which", lambda name: None)
    r = bpcalc.grad("(x+y)*z", at=AT)
    assert "<svg" not in r._repr_html_() and "∂f/∂z = 3" in r._repr_html_()
    assert "output f" in bpcalc.graph("(x+y)*z", at=AT)._repr_html_()


def test_explain_and_graph_take_vectors_and_matrices():
    import bpcalc

    # f = sum(x*x): df/dx = 2x = [2, 4] (by hand)
    e = bpcalc.explain("sum(x*x)", at={"x": [1.0, 2.0]})
    assert "      dx = [2, 4]\n" in e.text() and e._repr_html_().startswith('<iframe class="bpcalc-explain"')
    picture = bpcalc.graph("sum(x*x)", at={"x": [1.0, 2.0]})
    assert "Σ 2 [2, 4]" in picture.dot  # x's gradient, with its shape, at its node


# --- 中文 (issue 17) ---------------------------------------------------------------

def test_use_language_switches_what_is_shown_not_the_data():
    try:
        bpcalc.use_language("zh_CN.UTF-8")
        result = bpcalc.grad("(x+y)*z", at=AT)
        text = str(result)
        assert text.startswith("bpcalc grad (x+y)*z\n在 x = -2, y = 5, z = -4 处\n")
        assert "与 SymPy 对照验证（rtol 1e-9, atol 1e-12）：✓ 全部一致" in text
        assert str(bpcalc.graph("(x+y)*z", at=AT)).splitlines()[2].split()[:5] == ["节点", "运算", "表达式", "值", "梯度"]
        assert '<html lang="zh-CN">' in bpcalc.explain("(x+y)*z", at=AT).html()
        with pytest.raises(bpcalc.BpcalcError) as err:
            bpcalc.check("(x+y)*z", at=AT)
        assert err.value.message.startswith("没有要验证的内容：请给出 expect={...}")
        assert result.gradient == {"x": -4.0, "y": -4.0, "z": 3.0}
        with pytest.raises(bpcalc.BpcalcError) as err:
            bpcalc.use_language("klingon")
        assert err.value.kind == "usage" and err.value.message == "未知的语言 'klingon'；可选：en, zh"
    finally:
        bpcalc.use_language("en")
    assert str(bpcalc.grad("(x+y)*z", at=AT)).startswith("bpcalc grad (x+y)*z\nat x = -2")
