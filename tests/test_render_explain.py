"""`bpcalc explain`'s builder and its three renderers."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess

import pytest

import bpcalc
from bpcalc.errors import BpcalcError
from bpcalc.render.explain import (
    Notation, explanation, fill, latex, local_formula, markdown, node_lines, terms_into, users_of,
)

from pathlib import Path

from conftest import run_cli
from test_samples import SAMPLE_FILES, header, pairs, sample_point

TEXT, LATEX = Notation(latex=False), Notation(latex=True)
FAN_OUT = "z1 = w3*a\nz2 = w4*a\nC = 0.5*(z1 + z2 - y)^2"
FAN_OUT_AT = {"a": "0.5", "w3": "2", "w4": "-1", "y": "1"}


def grad(program: str, at: dict[str, str], **kw):
    return bpcalc.grad(program, at=at, check=False, **kw)


def chains(lines) -> list[str]:
    """Each line as the text renderer writes it (without the indent)."""
    return [" = ".join(line.chain) + (f"  ({line.note})" if line.note and line.chain else line.note)
            for line in lines]


def section(expl, k: int) -> list[str]:
    return chains(expl.sections[k].lines)


def test_forward_and_backward_of_the_cs231n_example():
    expl = explanation(grad("(x+y)*z", {"x": "-2", "y": "5", "z": "-4"}), TEXT)
    assert section(expl, 0) == [
        "x = -2", "y = 5", "z = -4", "%3 = x + y = (-2) + 5 = 3", "%4 = %3 * z = 3 * (-4) = -12  (the output, f)",
    ]
    assert section(expl, 1) == [
        "∂f/∂%4 = 1  (the output: gradient 1)",
        "%3 = x + y",
        "∂%4/∂%3 = z = -4  (local derivative)",
        "∂f/∂%3 = ∂f/∂%4 · z = 1 · (-4) = -4  (upstream × local = downstream)",
        "z  (an input)", "∂%4/∂z = %3 = 3", "∂f/∂z = ∂f/∂%4 · %3 = 1 · 3 = 3",
        "y  (an input)", "∂%3/∂y = 1", "∂f/∂y = ∂f/∂%3 · 1 = (-4) · 1 = -4",
        "x  (an input)", "∂%3/∂x = 1", "∂f/∂x = ∂f/∂%3 · 1 = (-4) · 1 = -4",
    ]
    assert section(expl, 2) == ["∂f/∂x = -4", "∂f/∂y = -4", "∂f/∂z = 3"]
    assert [line.level for line in expl.sections[1].lines[1:4]] == [0, 1, 1]


def test_fan_out_writes_the_sum_out():
    r = grad(FAN_OUT, FAN_OUT_AT)
    lines = chains(node_lines(r, r.graph.input_id("a"), TEXT))
    assert lines == [
        "a  (an input; it feeds z1 and z2: its gradient is the sum of their contributions)",
        "∂z1/∂a = w3 = 2  (local derivative)",
        "∂z2/∂a = w4 = -1  (local derivative)",
        "∂C/∂a = ∂C/∂z1 · w3 + ∂C/∂z2 · w4 = (-0.5) · 2 + (-0.5) · (-1) = -0.5",
    ]
    terms = terms_into(r, r.graph.input_id("a"))
    assert [(r.graph.labels[t.user], t.upstream, t.local, t.contribution) for t in terms] == [
        ("z1", -0.5, 2.0, -1.0), ("z2", -0.5, -1.0, 0.5),
    ]


def test_a_node_used_twice_by_one_user():
    r = grad("x*x", {"x": "3"})
    assert chains(node_lines(r, 0, TEXT, legend=False)) == [
        "x  (an input; it is both arguments of %1: its gradient is the sum of both contributions)",
        "∂%1/∂x = x = 3  (as argument 1)",
        "∂%1/∂x = x = 3  (as argument 2)",
        "∂f/∂x = ∂f/∂%1 · x + ∂f/∂%1 · x = 1 · 3 + 1 · 3 = 6",
    ]


def test_local_formulas_come_from_the_op_table():
    r = grad("t = x/y; t^3", {"x": "1", "y": "2"})
    g = r.graph
    t = g.labels.index("t")
    assert local_formula(g, t, 1, TEXT) == "-x/y^2"
    assert local_formula(g, t, 1, LATEX) == "-\\frac{x}{y^2}"
    assert local_formula(g, g.output, 0, TEXT) == "3*t^(3 - 1)"
    users = users_of(g)
    assert users[t] == [(g.output, 0)] and users[g.output] == []


def test_local_formulas_of_max_over_three_and_of_a_left_out_slope():
    r = grad("m = max(x, y, 2)\nleaky_relu(m)", {"x": "2", "y": "1"})
    g = r.graph
    m = g.labels.index("m")
    assert local_formula(g, m, 1, TEXT) == "1 if y = max(x, y, 2) else 0 (1/k on a k-way tie)"
    assert local_formula(g, m, 0, LATEX) == "[x = \\max(x, y, 2)] / k"
    assert local_formula(g, g.output, 0, TEXT) == "1 if m > 0 else 0.01"
    assert fill("max", ["x", "y", "-3"], LATEX) == "\\max(x, y, -3)"
    assert [t.local for t in terms_into(r, g.input_id("x"))] == [0.5]  # a tie with the constant 2


@pytest.mark.parametrize("op, args, notation, text", [
    ("pow", ["-0.5", "2"], LATEX, "{\\left(-0.5\\right)}^{2}"),
    ("pow", ["x", "-1"], LATEX, "{x}^{-1}"),
    ("exp", ["-1"], LATEX, "e^{-1}"),
    ("log", ["x + 1"], LATEX, "\\ln \\left(x + 1\\right)"),
    ("div", ["-1", "e^{-1} + 1"], LATEX, "\\frac{-1}{e^{-1} + 1}"),
    ("mul", ["3", "-4"], TEXT, "3 * (-4)"),
    ("neg", ["-1"], TEXT, "-(-1)"),
    ("exp", ["-1"], TEXT, "exp(-1)"),
    ("max", ["-1", "2"], LATEX, "\\max(-1, 2)"),
])
def test_fill_parenthesizes_only_where_needed(op, args, notation, text):
    assert fill(op, args, notation) == text


@pytest.mark.parametrize("value, latex_text", [(1.5e-7, "1.5 \\times 10^{-7}"), (float("inf"), "\\infty"), (-4.0, "-4")])
def test_numbers_in_latex(value, latex_text):
    assert LATEX.number(value) == latex_text


def test_exact_mode_shows_exact_and_decimal():
    r = grad("apple_price = apple * num\nprice = apple_price * tax", {"apple": "100", "num": "2", "tax": "1.1"},
             exact=True)
    expl = explanation(r, TEXT)
    assert "tax = 11/10 ≈ 1.1" in section(expl, 0)
    assert "∂price/∂apple = ∂price/∂apple_price · num = (11/10) · 2 = 11/5 ≈ 2.2" in section(expl, 1)
    assert section(expl, 2)[0] == "∂price/∂apple = 11/5 ≈ 2.2"
    tex = explanation(r, LATEX)
    assert section(tex, 2)[0] == "\\frac{\\partial \\mathit{price}}{\\partial \\mathit{apple}} = \\frac{11}{5} \\approx 2.2"


def test_nodes_off_the_path_and_programs_without_inputs():
    expl = explanation(grad("a = exp(u); x * 2", {"u": "0", "x": "1"}), TEXT)
    assert section(expl, 1)[-1] == "not on any path to the output, so their gradient is 0: u, a"
    expl = explanation(grad("2*3", {}), TEXT)
    assert section(expl, 0) == ["%2 = 2 * 3 = 6  (the output, f)"]
    assert section(expl, 1) == ["the output does not depend on any input: there is no backward pass"]
    assert section(expl, 2) == ["the program has no inputs"]


def test_large_programs_are_refused_with_a_clear_message():
    program = "+".join(f"x{k}" for k in range(200))
    with pytest.raises(BpcalcError) as info:
        explanation(grad(program, {f"x{k}": "1" for k in range(200)}), TEXT, max_steps=300)
    assert info.value.kind == "limit"
    assert info.value.message.startswith("explain writes out every node, and this program has 399 (more than 300)")


def test_markdown_is_math_in_dollars():
    doc = markdown(explanation(grad(FAN_OUT, FAN_OUT_AT), LATEX))
    lines = doc.splitlines()
    assert lines[0] == "### Backpropagation, step by step"
    assert "at `a = 0.5, w3 = 2, w4 = -1, y = 1`" in lines
    assert ("  - $\\frac{\\partial C}{\\partial a} = \\frac{\\partial C}{\\partial z_{1}} \\cdot w_{3} + "
            "\\frac{\\partial C}{\\partial z_{2}} \\cdot w_{4} = \\left(-0.5\\right) \\cdot 2 + "
            "\\left(-0.5\\right) \\cdot \\left(-1\\right) = -0.5$") in lines
    for line in lines:
        assert line.count("$") % 2 == 0, line


def latex_body(program: str, at: dict[str, str], **kw) -> str:
    return latex(explanation(grad(program, at, **kw), LATEX))


def test_latex_is_one_align_environment_per_section_that_may_break_across_pages():
    body = latex_body(FAN_OUT, FAN_OUT_AT)
    lines = body.splitlines()
    code = [line for line in lines if not line.startswith("%")]
    assert code[0] == "{\\allowdisplaybreaks" and code[-1] == "}"
    assert code.count("\\begin{align*}") == 3 and code.count("\\end{align*}") == 3
    assert code[2] == "\\intertext{Forward pass: each node's value, inputs first}"
    assert "\\%7 &= z_{1} + z_{2} = 1 + \\left(-0.5\\right) = 0.5 \\\\" in code
    assert "C &= 0.5 \\cdot \\%10 = 0.5 \\cdot 0.25 = 0.125 \\tag*{the output}" in code
    # a long note is a paragraph under its row; a long chain has a row per step
    k = code.index("a &")
    assert code[k + 1] == ("\\intertext{an input; it feeds $z_{1}$ and $z_{2}$: "
                           "its gradient is the sum of their contributions}")
    k = code.index("\\quad \\frac{\\partial C}{\\partial a} &= \\frac{\\partial C}{\\partial z_{1}} \\cdot w_{3} + "
                   "\\frac{\\partial C}{\\partial z_{2}} \\cdot w_{4} \\\\")
    assert code[k + 1:k + 3] == ["&= \\left(-0.5\\right) \\cdot 2 + \\left(-0.5\\right) \\cdot \\left(-1\\right) \\\\",
                                 "&= -0.5 \\\\"]
    for k, line in enumerate(code[1:-1], start=1):
        if line.startswith(("\\begin", "\\end")):
            continue
        before_break = code[k + 1].startswith(("\\intertext", "\\end"))
        assert line.startswith("\\intertext") or line.endswith(" \\\\") != before_break, line
        assert re.search(r"(?<!\\)%", line) is None, line  # every % escaped
        assert line.count("{") == line.count("}"), line


PDFLATEX = shutil.which("pdflatex") is not None and shutil.which("pdftotext") is not None
#: CI sets BPCALC_REQUIRE_LATEX=1 (and installs TeX): there the LaTeX tests must run, not skip.
needs_latex = pytest.mark.skipif(not PDFLATEX and not os.environ.get("BPCALC_REQUIRE_LATEX"),
                                 reason="needs pdflatex and pdftotext (texlive-latex-base, poppler-utils)")


XELATEX = shutil.which("xelatex") is not None and shutil.which("kpsewhich") is not None and subprocess.run(
    ["kpsewhich", "ctex.sty"], capture_output=True).returncode == 0
needs_xelatex = pytest.mark.skipif(not (XELATEX and PDFLATEX) and not os.environ.get("BPCALC_REQUIRE_LATEX"),
                                   reason="needs xelatex and ctex (texlive-xetex, texlive-lang-chinese)")


def compile_latex(tmp_path, body: str, engine: str = "pdflatex", documentclass: str = "article") -> tuple[str, str]:
    """(the log, the PDF's text) of `body` in an article page."""
    (tmp_path / "body.tex").write_text(body)
    (tmp_path / "doc.tex").write_text(
        f"\\documentclass{{{documentclass}}}\\usepackage{{amsmath}}\\begin{{document}}\\input{{body.tex}}"
        "\\end{document}\n"
    )
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert run.returncode == 0, log[-2000:]
    text = subprocess.run(["pdftotext", "doc.pdf", "-"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=True).stdout
    return log, text


@needs_latex
@pytest.mark.parametrize("program, at, exact", [
    (FAN_OUT, FAN_OUT_AT, False),
    ("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": "2", "x0": "-1", "w1": "-3", "x1": "-2", "w2": "-3"}, True),
    ("apple_price_1 = alpha*w0; h = apple_price_1*1e-3; h = h + 1; relu(h)*abs(x)^pi + max(x, sqrt(h))",
     {"alpha": "1", "w0": "pi/4", "x": "-1/3"}, True),
    # a node feeding eight others: the sum of their contributions is cut into rows
    (" + ".join(f"w{k}*a" for k in range(1, 9)), {"a": "1", **{f"w{k}": str(k) for k in range(1, 9)}}, False),
    ("learning_rate_schedule_value * regularisation_strength_lambda * exp(some_very_long_input_name)",
     {"learning_rate_schedule_value": "1", "regularisation_strength_lambda": "2", "some_very_long_input_name": "0.5"},
     False),
])
def test_latex_compiles(tmp_path, program, at, exact):
    log, _text = compile_latex(tmp_path, latex_body(program, at, exact=exact))
    assert re.findall(r"Overfull \\[hv]box.*", log) == []


@needs_latex
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
@pytest.mark.parametrize("exact", [False, True], ids=["floats", "exact"])
def test_every_sample_fits_the_page_and_every_gradient_is_in_the_pdf(tmp_path, path, exact):
    run = run_cli("explain", "-f", str(path), "--at", sample_point(path), "--format", "latex",
                  *(["--exact"] if exact else []))
    assert run.code == 0, run.err
    log, text = compile_latex(tmp_path, run.out)
    assert re.findall(r"Overfull \\[hv]box.*", log) == []
    # the Gradient section as the PDF's text has it: each input's name and the
    # sample's published answer (to the 6 digits shown), in whatever layout
    gradient = text[text.rindex("Gradient"):].replace("\u2212", "-")
    numbers = [float(n) for n in re.findall(r"-?[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?", gradient)]
    tolerance = float((header(path, "tolerance") or ["1e-9"])[0])
    for name, want in pairs(header(path, "expect")).items():
        assert f"∂{name.replace('_', ' ')}\n" in gradient, (name, gradient)
        assert any(math.isclose(n, want, rel_tol=5e-6, abs_tol=tolerance) for n in numbers), (name, want, gradient)


SAMPLES = Path(__file__).resolve().parent.parent / "samples"
ALL_SAMPLES = [*SAMPLE_FILES, *sorted((SAMPLES / "matrix").glob("*.bp"))]
#: English prose that must not be left in a Chinese explanation (formulas,
#: names and numbers stay as they are: none of these words is one of them).
ENGLISH_PROSE = re.compile(r"\b(the|of|and|is|from|with|each|gradient|output|input|node|rows|entries|local|"
                           r"upstream|downstream|warning|pass|step|steps|copied|entry|was|its|to)\b")


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=[p.stem for p in ALL_SAMPLES])
def test_every_sample_is_explained_in_the_terms_of_the_chinese_notes(path):
    point = (["--at-file", str(path.with_suffix(".point.json"))] if path.parent.name == "matrix"
             else ["--at", sample_point(path)])
    run = run_cli("explain", "-f", str(path), *point, "--lang", "zh")
    assert run.code == 0, run.err
    body = run.out.split("\n", 2)[2]  # after the title (the program's file) and the point
    assert "正向传播" in body and "反向传播" in body and "\n梯度\n" in body
    if path.parent.name != "matrix":  # the scalar steps: local derivative, upstream × local = downstream
        assert "（局部导数）" in body and "上游传来的导数 × 局部导数 = 传给下游的导数" in body
    else:  # the matrix steps: each op's rule, and the steps run as a program
        assert "的规则" in body and "✓ 用 bpcalc 运行后" in body
    prose = [line for line in body.splitlines() if ENGLISH_PROSE.search(line)]
    assert prose == [], prose[:5]


@needs_xelatex
@pytest.mark.parametrize("args", [
    ("-f", str(SAMPLES / "cs231n_neuron.bp")),
    ("-f", str(SAMPLES / "fan_out.bp")),
    ("-f", str(SAMPLES / "matrix" / "dlfs_affine_softmax.bp"), "--at-file",
     str(SAMPLES / "matrix" / "dlfs_affine_softmax.point.json")),
], ids=["neuron", "fan-out", "dlfs-matrix"])
def test_the_chinese_explanation_compiles_with_ctex(tmp_path, args):
    run = run_cli("explain", *args, "--format", "latex", "--lang", "zh")
    assert run.code == 0, run.err
    assert "\\usepackage{ctex} (compile with xelatex)" in run.out
    log, text = compile_latex(tmp_path, run.out, engine="xelatex", documentclass="ctexart")
    assert re.findall(r"Overfull \\[hv]box.*", log) == []
    assert "Missing character" not in log  # every Chinese character has a glyph
    for term in ("正向传播", "反向传播", "梯度"):
        assert term in text, term


def test_a_zero_local_derivative_is_explained_as_passing_nothing_back():
    r = grad("sqrt(relu(x))", {"x": "-1"})
    (term,) = terms_into(r, r.graph.input_id("x"))
    assert (term.upstream, term.local, term.contribution) == (float("inf"), 0.0, 0.0)
    last = node_lines(r, r.graph.input_id("x"), TEXT)[-1]
    assert last.chain[-2:] == ("inf · 0", "0")
    assert last.note == "a zero local derivative passes nothing back, not inf · 0 = nan"


def test_wrt_keeps_the_nodes_on_the_paths_from_one_input():
    from bpcalc.render.explain import on_path_from

    r = grad(FAN_OUT, FAN_OUT_AT)
    path = on_path_from(r.graph, "w3")
    on = {r.graph.labels[i] for i, hit in enumerate(path) if hit}
    assert {"w3", "z1", "C"} <= on and not on & {"w4", "a", "y", "z2"}
    expl = explanation(r, TEXT, wrt="w3")
    gradient = [line.chain for line in expl.sections[2].lines]
    assert gradient == [("∂C/∂w3", "-0.25")]  # dC/dw3 = (z1 + z2 - y) * a = (1 - 0.5 - 1) * 0.5, by hand
    backward = " ".join(" ".join(line.chain) for line in expl.sections[1].lines)
    assert "∂C/∂w4" not in backward and "∂C/∂a" not in backward and "∂C/∂w3" in backward
    with pytest.raises(BpcalcError, match="--wrt q: the program has no input called that"):
        explanation(r, TEXT, wrt="q")
