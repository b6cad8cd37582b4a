"""explain --format html: the page's steps, its escaping, its packaging.

Reference numbers are the samples' published answers (CS231n's (x+y)*z at
x=-2, y=5, z=-4: dq = -4, dz = 3, dx = dy = -4; the course notes' fan-out)."""

from __future__ import annotations

import re
import shutil
from html import unescape
from importlib import resources

import pytest

import bpcalc
from bpcalc.render.html import page, script
from conftest import SAMPLES, run_cli

ADD_MUL = (SAMPLES / "cs231n_add_mul.bp").read_text()
AT = {"x": -2, "y": 5, "z": -4}
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz")


def steps_of(html: str) -> list[tuple[str, str, str, str]]:
    """(phase, label, users, visible text) of each step, as the page has them."""
    out = []
    for m in re.finditer(r'<li class="step[^"]*" id="step-\d+" data-step="\d+" data-phase="(\w+)" '
                         r'data-node="\d*" data-label="([^"]*)" data-users="([^"]*)">(.*?)</li>', html, re.S):
        text = unescape(re.sub(r"<[^>]+>", " ", m.group(4)))
        out.append((m.group(1), unescape(m.group(2)), m.group(3), " ".join(text.split())))
    return out


def test_steps_walk_forward_then_backward_node_by_node():
    html = page(bpcalc.grad(ADD_MUL, at=AT, check=False))
    steps = steps_of(html)
    assert [(p, label) for p, label, _u, _t in steps] == [
        ("forward", "x"), ("forward", "y"), ("forward", "z"), ("forward", "q"), ("forward", "f"),
        ("backward", "f"), ("backward", "q"), ("backward", "z"), ("backward", "y"), ("backward", "x"),
        ("gradient", ""),
    ]
    assert "q = x + y = (-2) + 5 = 3" in steps[3][3]
    assert "f = q * z = 3 * (-4) = -12" in steps[4][3]
    assert "∂f/∂q = ∂f/∂f · z = 1 · (-4) = -4" in steps[6][3]
    assert "∂f/∂z = ∂f/∂f · q = 1 · 3 = 3" in steps[7][3]
    assert "∂f/∂x = ∂f/∂q · 1 = (-4) · 1 = -4" in steps[9][3]
    assert "upstream × local = downstream" in steps[6][3]
    assert 'id="counter"' in html and "step 1 of 11" in html


def test_a_backward_step_names_the_nodes_its_gradient_comes_from():
    result = bpcalc.grad((SAMPLES / "fan_out.bp").read_text(), at={"a": 0.5, "w3": 2, "w4": -1, "y": 1}, check=False)
    steps = steps_of(page(result))
    phase, label, users, text = next(s for s in steps if s[0] == "backward" and s[1] == "a")
    labels = result.graph.labels
    assert sorted(labels[int(u)] for u in users.split()) == ["z1", "z2"]
    assert "it feeds z1 and z2: its gradient is the sum of their contributions" in text
    assert "∂C/∂a = ∂C/∂z1 · w3 + ∂C/∂z2 · w4 = (-0.5) · 2 + (-0.5) · (-1) = -0.5" in text


def test_program_text_is_escaped_and_the_only_script_is_bpcalcs():
    program = "# </script><script>alert(1)</script> <b>bold</b> & \"q\"\nq = x + y  # <img src=x onerror=alert(2)>\nf = q*z"
    html = page(bpcalc.grad(program, at=AT, check=False))
    assert html.count("<script") == 1 and html.count("</script>") == 1
    assert "<img" not in html and "<b>bold" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_needs_nothing_from_the_network():
    html = page(bpcalc.grad(ADD_MUL, at=AT, check=False))
    assert "<link" not in html and not re.search(r'\b(src|href)="(https?:)?//', html)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_step_js_is_packaged_and_inlined():
    packaged = resources.files("bpcalc.render").joinpath("static/step.js")
    assert packaged.is_file()
    assert script() in page(bpcalc.grad(ADD_MUL, at=AT, check=False))
    assert len(script().splitlines()) < 300


@needs_dot
def test_the_picture_is_inline_and_names_each_node():
    result = bpcalc.grad(ADD_MUL, at=AT, check=False)
    html = page(result)
    assert "<svg" in html and "<?xml" not in html
    titles = set(re.findall(r"<title>(n\d+)</title>", html))
    assert {f"n{i}" for i in range(len(result.graph))} <= titles


def test_cli_writes_the_page(tmp_path):
    out = tmp_path / "page.html"
    run = run_cli("explain", "-f", str(SAMPLES / "cs231n_neuron.bp"), "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
                  "--format", "html", "-o", str(out))
    assert run.code == 0, run.err
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "0.731059" in html  # the neuron's output, published as 0.73


def test_cli_names_html_among_the_formats():
    run = run_cli("explain", "x*y", "--at", "x=1,y=2", "--format", "pdf")
    assert run.code == 2 and "text, markdown, latex, html" in run.err


@needs_dot
def test_graph_writes_pdf(tmp_path):
    out = tmp_path / "g.pdf"
    run = run_cli("graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "-o", str(out))
    assert run.code == 0, run.err
    assert out.read_bytes().startswith(b"%PDF-")


def test_exact_mode_shows_exact_numbers(tmp_path):
    """Deep Learning from Scratch ch. 5: 2 apples at 100 with 10 % tax: ∂price/∂apple = 2.2 = 11/5."""
    out = tmp_path / "apples.html"
    run = run_cli("explain", "-f", str(SAMPLES / "apples.bp"), "--at", "apple=100,num=2,tax=1.1", "--exact",
                  "--format", "html", "-o", str(out))
    assert run.code == 0, run.err
    gradient = steps_of(out.read_text())[-1]
    assert gradient[0] == "gradient" and "∂price/∂apple = 11/5 ≈ 2.2" in gradient[3]


def test_a_program_without_inputs_has_its_forward_pass_only():
    steps = steps_of(page(bpcalc.grad("2*3", check=False)))
    assert [s[0] for s in steps] == ["forward", "gradient"]  # unnamed constants are numbers where used
    assert "the program has no inputs" in steps[-1][3]


def test_without_graphviz_the_page_has_the_steps_and_says_why(monkeypatch):
    import bpcalc.render.graph_dot as graph_dot

    monkeypatch.setattr(graph_dot.shutil, "which", lambda name: None)
    html = page(bpcalc.grad(ADD_MUL, at=AT, check=False))
    assert "<svg" not in html and "No picture: Graphviz is not installed" in html
    assert len(steps_of(html)) == 11


# --- 中文 (issue 17) ---------------------------------------------------------------

def test_the_page_in_chinese(tmp_path):
    out = tmp_path / "page.html"
    run = run_cli("explain", "-f", str(SAMPLES / "cs231n_add_mul.bp"), "--at", "x=-2,y=5,z=-4",
                  "--format", "html", "-o", str(out), "--lang", "zh")
    assert run.code == 0, run.err
    html = out.read_text()
    assert '<html lang="zh-CN">' in html and "<h1>反向传播，逐步演示</h1>" in html
    assert '<p class="at">在 x = -2, y = 5, z = -4 处</p>' in html
    assert '<button type="button" id="first" title="第一步（Home）">« 首步</button>' in html
    assert '<button type="button" id="prev" title="上一步（←）">◀ 上一步</button>' in html
    assert '<span id="counter" aria-live="polite">第 1 步，共 11 步</span>' in html
    assert '<button type="button" id="next" title="下一步（→）">下一步 ▶</button>' in html
    assert '<button type="button" id="last" title="最后一步（End）">末步 »</button>' in html
    assert '<p class="hint">用方向键 ← → 逐步切换；地址（#step=N）链接到当前显示的步骤。</p>' in html
    # what step.js writes itself comes from the page, as data (the page's only script is still step.js)
    assert '<body data-words="{&quot;counter&quot;: &quot;第 {current} 步，共 {total} 步&quot;}">' in html
    assert html.count("<script") == 1
    assert "输出：梯度为 1" in html
    if shutil.which("dot"):
        assert ('<p class="legend">图中：<span class="value">边上方为值</span>，<span class="grad">下方为梯度</span>；'
                '当前步骤的节点已<span class="mark-current">标出</span>，反向传播时其梯度所来自的节点'
                '<span class="mark-user">也已标出</span>。</p>') in html


def test_the_english_page_says_english(tmp_path):
    html = page(bpcalc.grad(ADD_MUL, at=AT, check=False))
    assert '<html lang="en">' in html and '<body data-words="{&quot;counter&quot;: &quot;step {current} of ' \
                                          '{total}&quot;}">' in html


def test_without_graphviz_the_chinese_page_says_why(monkeypatch, chinese):
    import bpcalc.render.graph_dot as graph_dot

    monkeypatch.setattr(graph_dot.shutil, "which", lambda name: None)
    html = page(bpcalc.grad(ADD_MUL, at=AT, check=False))
    frame = bpcalc.explain(ADD_MUL, at=AT)._repr_html_()
    assert '<p class="no-picture">没有图：未安装 Graphviz：' in html
    assert 'title="bpcalc explain：逐步演示反向传播"></iframe>' in frame
