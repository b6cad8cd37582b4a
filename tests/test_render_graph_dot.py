"""DOT source and Graphviz rendering: bpcalc.render.graph_dot."""

from __future__ import annotations

import shutil
import stat
import xml.etree.ElementTree as ET

import pytest

import bpcalc
from bpcalc.errors import BpcalcError, Source
from bpcalc.render.graph import drawing
from bpcalc.render.graph_dot import GRAD_COLOUR, VALUE_COLOUR, html, quoted, render, to_dot

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")

_TABLE = '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
_LINE = '<tr><td port="p" border="1" sides="t" color="#555555" height="1" cellpadding="0"></td></tr>'


def _edge(k: int, src: int, dst: int, value: str, grad: str) -> str:
    return (
        f'  e{k} [shape=plaintext, margin=0, fontsize=11, label=<{_TABLE}'
        f'<tr><td><font color="#004488">{value}</font></td></tr>{_LINE}'
        f'<tr><td><font color="#BB5566"><b><i>{grad}</i></b></font></td></tr></table>>];\n'
        f"  n{src} -> e{k}:p:w [arrowhead=none];\n"
        f"  e{k}:p:e -> n{dst};\n"
    )


ADD_MUL_DOT = (
    "digraph bpcalc {\n"
    '  graph [rankdir=LR, ordering=in, nodesep=0.18, ranksep=0.3, fontname="Helvetica", labelloc=t, '
    'labeljust=l, label=<<b>(x+y)*z</b>   at x = -2, y = 5, z = -4<br align="left"/>'
    '<font color="#004488">value above the edge</font>    '
    '<font color="#BB5566"><b><i>gradient below</i></b></font><br align="left"/>>];\n'
    '  node [fontname="Helvetica", fontsize=14];\n'
    '  edge [color="#555555", arrowsize=0.6, penwidth=1.2];\n'
    '  n0 [shape=plaintext, label=<<b>x</b>>, tooltip="x: x = -2, gradient -4"];\n'
    '  n1 [shape=plaintext, label=<<b>y</b>>, tooltip="y: y = 5, gradient -4"];\n'
    '  n2 [shape=plaintext, label=<<b>z</b>>, tooltip="z: z = -4, gradient 3"];\n'
    '  n3 [shape=circle, margin=0.04, label=<+>, tooltip="%3: x+y = 3, gradient -4"];\n'
    '  n4 [shape=circle, margin=0.04, label=<*>, tooltip="%4: (x+y)*z = -12, gradient 1"];\n'
    '  n5 [shape=plaintext, label=<<b>f</b>>, tooltip="output f"];\n'
    + _edge(0, 0, 3, "-2", "-4") + _edge(1, 1, 3, "5", "-4") + _edge(2, 3, 4, "3", "-4")
    + _edge(3, 2, 4, "-4", "3") + _edge(4, 4, 5, "-12", "1")
    + "}\n"
)


def dot_of(program: str | Source, at: dict, **options) -> str:
    return to_dot(drawing(bpcalc.grad(program, at=at, check=False), **options))


def svg_texts(svg: bytes) -> tuple[list[str], list[str]]:
    """The text runs and the tooltips of an SVG (parsing fails on bad XML)."""
    root = ET.fromstring(svg)
    texts = [(t.text or "").replace("\xa0", " ").strip() for t in root.iter(SVG + "text")]
    tooltips = [a.get(XLINK_TITLE) or "" for a in root.iter(SVG + "a")]
    return texts, tooltips


def test_dot_of_the_cs231n_example_byte_for_byte():
    assert dot_of("(x+y)*z", {"x": -2, "y": 5, "z": -4}) == ADD_MUL_DOT


def test_dot_is_deterministic():
    program = "z1 = w3*a\nz2 = w4*a\nC = 0.5*(z1 + z2 - y)^2"
    at = {"a": 0.5, "w3": 2, "w4": -1, "y": 1}
    assert dot_of(program, at) == dot_of(program, at)


def test_colours_are_the_colour_blind_safe_pair():
    assert (VALUE_COLOUR, GRAD_COLOUR) == ("#004488", "#BB5566")


def test_fan_out_sum_and_legend():
    dot = dot_of("z1 = w3*a\nz2 = w4*a\nC = 0.5*(z1 + z2 - y)^2", {"a": 0.5, "w3": 2, "w4": -1, "y": 1})
    assert '<b>a</b><br/><font color="#BB5566"><b><i>Σ -0.5</i></b></font>' in dot
    assert "at a node: the sum of its edges' gradients" in dot
    assert "shape=ellipse" in dot  # z1: operator, name: two rows


def test_no_grad_has_values_only():
    dot = dot_of("(x+y)*z", {"x": -2, "y": 5, "z": -4}, show_grad=False)
    assert GRAD_COLOUR not in dot and "gradient" not in dot.replace("tooltip", "")
    assert '<font color="#004488">-12</font>' in dot


def test_unused_nodes_and_edges_are_dashed():
    dot = dot_of("a = x*2\nx + 1", {"x": 3})
    assert 'n2 [shape=ellipse, margin=0.04, label=<*<br/><font point-size="10">a</font>>' in dot
    assert "style=dashed" in dot.split("  n2 [", 1)[1].split("\n", 1)[0]
    assert "  n0 -> e0:p:w [arrowhead=none, style=dashed];" in dot


def test_html_and_quoted_escape_everything_special():
    assert html('a<b>&"c"') == "a&lt;b&gt;&amp;&quot;c&quot;"
    assert quoted('say "hi" \\N & more') == '"say \\"hi\\" \\\\N &amp; more"'


@needs_dot
def test_svg_is_well_formed_and_shows_every_number():
    d = drawing(bpcalc.grad("1/(1+exp(-(w0*x0+w1*x1+w2)))",
                            at={"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}, check=False))
    texts, _tooltips = svg_texts(render(to_dot(d), "svg"))
    # the course figure's numbers (CS231n "Backpropagation, Intuitions")
    for shown in ("-0.1966", "0.3932", "-0.3932", "-0.5898", "0.1966", "0.3679", "-0.5344", "1.368", "0.7311"):
        assert shown in texts
    for node in d.nodes:
        assert node.symbol in texts
    for edge in d.edges:
        assert edge.value is None or edge.value in texts
        assert edge.grad is None or edge.grad in texts


@needs_dot
def test_program_text_is_escaped_for_dot_html_and_xml():
    nasty = '(θ + # a "<b>&amp;</b>" \\ ]]> \n w₁)*2'
    d = drawing(bpcalc.grad(Source(nasty, 'my "<&>" \\ prog.bp'), at={"θ": 1, "w₁": 2}, check=False))
    texts, tooltips = svg_texts(render(to_dot(d), "svg"))
    assert texts[0] == 'my "<&>" \\ prog.bp'
    assert "θ" in texts and "w₁" in texts
    assert '%2: θ + # a "<b>&amp;</b>" \\ ]]> w₁ = 3, gradient 2' in tooltips


@needs_dot
def test_png_is_a_png():
    assert render(dot_of("x*y", {"x": 1, "y": 2}), "png").startswith(b"\x89PNG\r\n\x1a\n")


def _fake_dot(tmp_path, monkeypatch, script: str) -> None:
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\n" + script + "\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_without_graphviz_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BpcalcError) as err:
        render("digraph {}", "svg")
    assert err.value.kind == "usage"
    assert "Graphviz is not installed" in err.value.message and "apt-get install graphviz" in err.value.message
    assert "--format dot, mermaid or text" in err.value.message


def test_a_slow_graphviz_is_stopped(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, f"exec {shutil.which('sleep')} 30")
    with pytest.raises(BpcalcError) as err:
        render("digraph {}", "svg", timeout=0.3)
    assert err.value.kind == "limit" and "did not finish drawing within 0.3 s" in err.value.message


def test_a_failing_graphviz_is_reported(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, "echo 'Error: syntax error in line 1' >&2; exit 1")
    with pytest.raises(BpcalcError) as err:
        render("digraph {}", "svg")
    assert err.value.kind == "io"
    assert err.value.message == "Graphviz `dot -Tsvg` failed (exit 1): Error: syntax error in line 1"


# --- 中文 (issue 17) ---------------------------------------------------------------

FAN_OUT = ("z1 = w3*a\nz2 = w4*a\nC = 0.5*(z1 + z2 - y)^2", {"a": 0.5, "w3": 2, "w4": -1, "y": 1})
CJK_FONTS = '"Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"'


def test_the_legend_tooltips_and_font_in_chinese(chinese):
    dot = dot_of(*FAN_OUT)
    assert f"fontname={CJK_FONTS}, labelloc=t" in dot and f"node [fontname={CJK_FONTS}, fontsize=14];" in dot
    assert ('label=<<b>z1 = w3*a; z2 = w4*a; C = 0.5*(z1 + z2 - y)^2</b>   在 a = 0.5, w3 = 2, w4 = -1, y = 1 处'
            '<br align="left"/><font color="#004488">边上方为值</font>    '
            '<font color="#BB5566"><b><i>下方为梯度</i></b></font>    '
            '节点处的 <font color="#BB5566"><b><i>Σ</i></b></font>：其各条边上梯度之和<br align="left"/>>') in dot
    assert 'tooltip="a：a = 0.5，梯度 -0.5"' in dot and 'tooltip="输出 C"' in dot


@needs_dot
def test_chinese_svg_and_png_are_drawn_with_a_cjk_font(chinese):
    d = drawing(bpcalc.grad(FAN_OUT[0], at=FAN_OUT[1], check=False))
    svg = render(to_dot(d), "svg")
    texts, tooltips = svg_texts(svg)
    assert "边上方为值" in texts and "下方为梯度" in texts and "输出 C" in tooltips
    root = ET.fromstring(svg)
    families = {t.get("font-family") for t in root.iter(f"{SVG}text")}
    assert families == {CJK_FONTS.strip('"')}
    assert render(to_dot(d), "png").startswith(b"\x89PNG\r\n\x1a\n")


def test_graphviz_messages_in_chinese(chinese, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BpcalcError) as err:
        render("digraph {}", "svg")
    assert err.value.message.startswith("未安装 Graphviz：svg 和 png 图由 `dot` 程序绘制。")
    assert "sudo apt-get install graphviz" in err.value.message
    _fake_dot(tmp_path, monkeypatch, "echo 'Error: syntax error in line 1' >&2; exit 1")
    with pytest.raises(BpcalcError) as err:
        render("digraph {}", "svg")
    assert err.value.message == "Graphviz `dot -Tsvg` 失败（退出码 1）：Error: syntax error in line 1"
