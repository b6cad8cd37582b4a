"""What `bpcalc graph` draws, whatever the format: bpcalc.render.graph."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

import bpcalc
from bpcalc.errors import BpcalcError, Source
from bpcalc.exact import ExactResult, exact_values
from bpcalc.render.graph import (
    EXACT_WIDTH, RESULT, choose_format, drawing, edge_gradients, one_line, picture,
    program_title, write_picture,
)

from conftest import SAMPLES
from test_samples import sample_point


def draw(program: str, at: dict, exact: bool = False, **options):
    return drawing(bpcalc.grad(program, at=at, check=False, exact=exact, budget=60), **options)


def summary(d):
    return [(n.kind, n.symbol, n.name, n.value, n.grad, n.uses) for n in d.nodes]


def test_cs231n_add_mul():
    d = draw("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    assert summary(d) == [
        ("input", "x", None, "-2", "-4", 1),
        ("input", "y", None, "5", "-4", 1),
        ("input", "z", None, "-4", "3", 1),
        ("op", "+", None, "3", "-4", 1),
        ("op", "*", None, "-12", "1", 1),
        (RESULT, "f", None, "-12", "1", 0),
    ]
    assert [(e.src, e.dst, e.value, e.grad) for e in d.edges] == [
        (0, 3, "-2", "-4"), (1, 3, "5", "-4"), (3, 4, "3", "-4"), (2, 4, "-4", "3"), (4, 5, "-12", "1"),
    ]
    assert d.title == "(x+y)*z" and d.point == "x = -2, y = 5, z = -4"
    assert d.fans_out == () and d.notes == ()


def test_fan_out_shows_each_edge_and_the_sum():
    # the course notes' example: dC/da = w3*dC/dz1 + w4*dC/dz2 = 2*(-0.5) + (-1)*(-0.5)
    d = draw("z1 = w3*a\nz2 = w4*a\nC = 0.5*(z1 + z2 - y)^2", {"a": 0.5, "w3": 2, "w4": -1, "y": 1})
    a = next(n for n in d.nodes if n.symbol == "a")
    assert (a.uses, a.grad) == (2, "-0.5")
    assert [(d.nodes[e.dst].name, e.grad) for e in d.edges if e.src == a.id] == [("z1", "-1"), ("z2", "0.5")]
    assert d.fans_out == (a,)


def test_an_argument_used_twice_by_one_node_has_two_edges():
    d = draw("x*x", {"x": 3})
    assert [(e.src, e.dst, e.value, e.grad) for e in d.edges[:2]] == [(0, 1, "3", "3"), (0, 1, "3", "3")]
    assert d.nodes[0].grad == "6" and d.nodes[0].uses == 2


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.bp")), ids=lambda p: p.stem)
def test_edge_gradients_sum_to_the_engines_adjoint(path: Path):
    at = dict(item.split("=") for item in sample_point(path).split(","))
    r = bpcalc.grad(Source(path.read_text(encoding="utf-8")), at=at, check=False)
    sums: dict[int, float] = {}
    for a, _u, flow in edge_gradients(r):
        if flow is not None:
            sums[a] = sums.get(a, 0.0) + flow
    for i, adj in enumerate(r.adjoints):
        if adj is not None and i != r.graph.output:
            assert math.isclose(sums[i], adj, rel_tol=1e-12, abs_tol=1e-15), (path.stem, i)


def test_zero_upstream_passes_back_zero_even_through_an_infinite_slope():
    # d/dx of 0*sqrt(x) at 0: the engine takes 0 x inf as 0, and so does the edge
    r = bpcalc.grad("0*sqrt(x)", at={"x": 0}, check=False)
    flows = {(a, u): f for a, u, f in edge_gradients(r)}
    assert flows[(0, 2)] == 0.0 and r.adjoints[0] == 0.0


def test_constants_are_compact_and_have_no_gradient():
    d = draw("2*pi*x - 1", {"x": 1})
    consts = [(n.symbol, n.grad) for n in d.nodes if n.kind == "const"]
    assert consts == [("2", None), ("pi = 3.142", None), ("1", None)]
    # an edge from a literal carries nothing (the node shows it); one from a
    # constant subexpression carries its value but no gradient
    assert [(e.value, e.grad) for e in d.edges if d.nodes[e.src].kind == "const"] == [(None, None)] * 3
    two_pi = next(e for e in d.edges if d.nodes[e.src].expr == "2*pi")
    assert (two_pi.value, two_pi.grad) == ("6.283", None)


def test_names_rebinding_and_the_output_name():
    d = draw("q = x + 1\nq = q * q\nf = q + x", {"x": 2})
    ops = [(n.symbol, n.name, n.label) for n in d.nodes if n.kind == "op"]
    assert ops == [("+", "q@1", "q@1"), ("*", "q@2", "q@2"), ("+", None, "f")]
    assert d.nodes[-1].symbol == "f"  # the result marker carries the output's name


def test_nodes_the_output_does_not_use_are_drawn_as_unused():
    d = draw("a = x*2\nx + 1", {"x": 3})
    unused = [n.label for n in d.nodes if not n.live]
    assert unused == ["%1", "a"]
    edge = next(e for e in d.edges if e.dst == d.nodes[2].id)  # x -> a
    assert edge.grad == "0"


def test_no_grad_draws_the_forward_pass_only():
    d = draw("(x+y)*z", {"x": -2, "y": 5, "z": -4}, show_grad=False)
    assert all(n.grad is None for n in d.nodes) and all(e.grad is None for e in d.edges)
    assert [e.value for e in d.edges] == ["-2", "5", "3", "-4", "-12"]


def test_digits_round_to_significant_digits():
    d = draw("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}, digits=2)
    assert d.nodes[-1].value == "0.73"
    assert [e.grad for e in d.edges[:5]] == ["-0.2", "0.39", "-0.39", "-0.59", "0.2"]


def test_non_finite_values_are_shown():
    d = draw("exp(x)", {"x": 1000})
    assert d.nodes[-1].value == "inf"


def test_program_title():
    assert program_title(Source("(x+y)*z")) == "(x+y)*z"
    assert program_title(Source("q = x + y  # the sum\n\nq * z\n")) == "q = x + y; q * z"
    assert program_title(Source("q = x\n", "samples/a.bp")) == "samples/a.bp"
    assert program_title(Source("x" + "+x" * 100)).endswith("…")
    assert len(program_title(Source("x" + "+x" * 100))) == 100
    assert one_line("a\x00b\n  c", 10) == "a?b c"


@pytest.mark.parametrize("fmt, output, want", [
    (None, None, "text"),
    ("DOT", None, "dot"),
    (None, "a.svg", "svg"),
    (None, "a.PNG", "png"),
    (None, "a.gv", "dot"),
    (None, "a.mmd", "mermaid"),
    (None, "a.txt", "text"),
    ("mermaid", "README.md", "mermaid"),
    ("svg", "a.svg", "svg"),
])
def test_choose_format(fmt, output, want):
    assert choose_format(fmt, Path(output) if output else None) == want


@pytest.mark.parametrize("fmt, output, message", [
    ("jpeg", None, "unknown format 'jpeg'; choose one of text, dot, svg, png, mermaid, pdf"),
    ("png", "a.svg", "--format png does not match the file name a.svg (its suffix means svg)"),
    (None, "a.jpeg", "cannot tell the format from the file name a.jpeg"),
])
def test_choose_format_errors(fmt, output, message):
    with pytest.raises(BpcalcError) as err:
        choose_format(fmt, Path(output) if output else None)
    assert err.value.kind == "usage" and message in err.value.message


def test_exact_mode_uses_exact_texts():
    d = draw("apple_price = apple * num\nprice = apple_price * tax", {"apple": 100, "num": 2, "tax": "1.1"},
             exact=True)
    assert [(n.symbol, n.value, n.grad) for n in d.nodes] == [
        ("apple", "100", "11/5"), ("num", "2", "110"), ("tax", "11/10", "200"),
        ("*", "200", "11/10"), ("*", "220", "1"), ("price", "220", "1"),
    ]
    assert [e.grad for e in d.edges] == ["11/5", "110", "11/10", "200", "1"]
    assert d.notes == ()


def test_exact_mode_marks_decimal_edge_gradients_at_fan_out():
    d = draw("x*x + exp(x)", {"x": 1}, exact=True)
    assert d.nodes[0].grad == "2 + E"
    assert [e.grad for e in d.edges if e.src == 0] == ["≈1", "≈1", "≈2.718"]
    assert d.notes == ("exact mode: the gradient on each edge of a node used several times is a decimal (≈); "
                       "the node's sum Σ is exact",)


def test_exact_mode_falls_back_to_decimals():
    r = bpcalc.grad("x/3 + x", at={"x": 1}, check=False)
    failed = ExactResult.failed(len(r.graph), "exact mode: SymPy ran out of its 0 s budget; values are floats")
    d = drawing(replace(r, exact=failed))
    assert d.nodes[-1].value == "1.333" and d.notes == (failed.note,)
    assert [e.grad for e in d.edges if e.src == 0] == ["0.3333", "1"]  # all decimals: no ≈
    too_long = "1/" + "3" * EXACT_WIDTH
    exact = replace(exact_values(r.graph, r.at, 30), values=(too_long,) * len(r.graph))
    d = drawing(replace(r, exact=exact))
    assert d.nodes[-1].value == "1.333" and d.nodes[-1].grad == "1"
    assert d.notes[0] == (f"exact mode: {len(r.graph)} numbers have no exact form of at most {EXACT_WIDTH} "
                          "characters and are shown as decimals")


def test_picture_and_write_picture(tmp_path):
    d = draw("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    assert picture(d, "dot").startswith(b"digraph bpcalc {")
    assert picture(d, "mermaid").startswith(b"flowchart LR")
    assert picture(d, "text").startswith(b"bpcalc graph (x+y)*z")
    write_picture(tmp_path / "a.dot", b"x")
    assert (tmp_path / "a.dot").read_bytes() == b"x"
    with pytest.raises(BpcalcError, match="cannot write .*: it is a directory"):
        write_picture(tmp_path, b"x")
    with pytest.raises(BpcalcError, match="cannot write .*No such file or directory"):
        write_picture(tmp_path / "missing" / "a.dot", b"x")


# --- vectors and matrices ------------------------------------------------------

import json  # noqa: E402

import numpy as np  # noqa: E402

from bpcalc.render.graph import edge_text  # noqa: E402

MATRIX = SAMPLES / "matrix"


def _matrix_sample(stem: str):
    point = json.loads((MATRIX / f"{stem}.point.json").read_text())
    expect = json.loads((MATRIX / f"{stem}.expect.json").read_text())
    return bpcalc.grad((MATRIX / f"{stem}.bp").read_text(), at=point, check=False), point, expect


def test_tensor_edges_carry_each_use_and_sum_to_the_reference_gradient():
    result, point, expect = _matrix_sample("cs231n_two_layer")
    w1 = result.graph.input_id("W1")
    flows = [f for a, _u, f in edge_gradients(result) if a == w1]
    assert len(flows) == 3  # X @ W1, and both arguments of W1*W1
    reg_part = point["reg"] * np.asarray(point["W1"])  # d(reg * sum(W1*W1)) / d(one factor)
    np.testing.assert_allclose(flows[1], reg_part, rtol=1e-12)
    np.testing.assert_allclose(flows[2], reg_part, rtol=1e-12)
    np.testing.assert_allclose(sum(flows), expect["gradient"]["W1"], rtol=1e-9, atol=1e-12)
    y = result.graph.input_id("y")
    assert [f for a, _u, f in edge_gradients(result) if a == y] == [None]  # class indices: data


def test_tensor_edges_show_shape_and_small_values_and_summarise_large_ones():
    result, _point, _expect = _matrix_sample("dlfs_affine_softmax")
    d = drawing(result)
    b = next(n for n in d.nodes if n.label == "b")
    # db: the column sums of dY = (softmax(Y) - t)/2 (dlfs_affine_softmax.expect.json, 4 digits)
    assert (b.value, b.grad) == ("3 [0.01, -0.02, 0.03]", "3 [-0.1492, 0.2524, -0.1032]")
    w = next(n for n in d.nodes if n.label == "W")
    norm = np.linalg.norm(np.asarray(json.loads((MATRIX / "dlfs_affine_softmax.point.json").read_text())["W"]))
    assert w.value == f"3×3, norm {norm:.4g}"
    assert next(n for n in d.nodes if n.label == "%4").symbol == "@"
    assert edge_text(np.array([[1.0, 2.0], [3.0, 4.0]]), 4) == "2×2 [[1, 2], [3, 4]]"


# --- 中文 (issue 17) ---------------------------------------------------------------

def test_notes_and_summaries_in_chinese(chinese):
    d = draw("x*x + exp(x)", {"x": 1}, exact=True)
    assert d.notes == ("精确模式：被多次使用的节点，其每条边上的梯度是小数（≈）；节点处的和 Σ 是精确的",)
    assert edge_text(np.ones((3, 5)), 4) == "3×5，范数 3.873"
    assert edge_text(np.array([[1.0, 2.0], [3.0, 4.0]]), 4) == "2×2 [[1, 2], [3, 4]]"


def test_graph_errors_in_chinese(tmp_path):
    from conftest import run_cli

    for argv, message in [
        (["--format", "jpeg"], "错误：未知的格式“jpeg”；可选：text, dot, svg, png, mermaid, pdf\n"),
        (["-o", "g.jpeg"], "错误：无法从文件名 g.jpeg 判断格式：请使用后缀（.txt, .dot, .gv, .svg, .png, .mmd, "
                           ".mermaid, .pdf）或 --format\n"),
        (["--format", "dot", "-o", "g.svg"], "错误：--format dot 与文件名 g.svg 不符（其后缀表示 svg）\n"),
        (["-o", ""], "错误：-o 需要一个文件名，例如 -o graph.svg\n"),
        (["-o", "."], "错误：-o .：这是一个文件夹；请给出文件名，例如 -o graph.svg\n"),
    ]:
        run = run_cli("graph", "x", "--at", "x=1", *argv, "--lang", "zh", cwd=tmp_path)
        assert (run.code, run.err) == (2, message), argv
    run = run_cli("graph", "x", "--at", "x=1", "-o", str(tmp_path / "missing" / "g.dot"), env={"BPCALC_LANG": "zh"})
    assert run.code == 2 and run.err.startswith(f"错误：无法写入 {tmp_path / 'missing' / 'g.dot'}：")
