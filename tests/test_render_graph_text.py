"""The terminal view of the graph: bpcalc.render.graph_text."""

from __future__ import annotations

import pytest

import bpcalc
from bpcalc.render.graph import drawing
from bpcalc.render.graph_text import to_text

FAN_OUT = """\
bpcalc graph z1 = w3*a; z2 = w4*a; C = 0.5*(z1 + z2 - y)^2
at a = 0.5, w3 = 2, w4 = -1, y = 1
node   op      expression            value   gradient   ─▶ used by (◀ gradient back)
────────────────────────────────────────────────────────────────────────────────────
w3     input   w3                        2      -0.25   z1 (*)
a      input   a                       0.5     Σ -0.5   z1 (*) ◀ -1
                                                        z2 (*) ◀ 0.5
w4     input   w4                       -1      -0.25   z2 (*)
y      input   y                         1        0.5   %8 (-)
z1     *       w3*a                      1       -0.5   %7 (+)
z2     *       w4*a                   -0.5       -0.5   %7 (+)
%6     const   0.5                     0.5          —   C (*)
%7     +       z1 + z2                 0.5       -0.5   %8 (-)
%8     -       z1 + z2 - y            -0.5       -0.5   %10 (^)
%9     const   2                         2          —   %10 (^)
%10    ^       (z1 + z2 - y)^2        0.25        0.5   C (*)
C      *       0.5*(z1 + z2 - y)^2   0.125          1   output C
"""


def text_of(program: str, at: dict, **options) -> str:
    return to_text(drawing(bpcalc.grad(program, at=at, check=False), **options))


def test_fan_out_table_shows_each_use_and_the_sum():
    got = text_of("z1 = w3*a\nz2 = w4*a\nC = 0.5*(z1 + z2 - y)^2", {"a": 0.5, "w3": 2, "w4": -1, "y": 1})
    assert got == FAN_OUT


def test_no_grad_has_no_gradient_column():
    got = text_of("(x+y)*z", {"x": -2, "y": 5, "z": -4}, show_grad=False)
    assert got.splitlines()[2].split() == ["node", "op", "expression", "value", "─▶", "used", "by"]
    assert "x      input   x               -2   %3 (+)" in got


def test_program_text_is_not_read_as_rich_markup():
    got = text_of("(x + # [red]note[/red] [bold]\n y)*2", {"x": 1, "y": 2})
    assert "x + # [red]note[/red] [bold] y" in got


def test_unused_nodes_say_what_uses_them():
    got = text_of("a = x*2\nx + 1", {"x": 3})
    assert "x      input   x                3        Σ 1   a (*) ◀ 0" in got
    assert "a      *       x*2              6          0   (nothing)" in got


# --- 中文 (issue 17) ---------------------------------------------------------------

FAN_OUT_ZH = """\
bpcalc graph z1 = w3*a; z2 = w4*a; C = 0.5*(z1 + z2 - y)^2
在 a = 0.5, w3 = 2, w4 = -1, y = 1 处
节点   运算   表达式                   值     梯度   ─▶ 被谁使用（◀ 传回的梯度）
────────────────────────────────────────────────────────────────────────────────
w3     输入   w3                        2    -0.25   z1 (*)
a      输入   a                       0.5   Σ -0.5   z1 (*) ◀ -1
                                                     z2 (*) ◀ 0.5
"""


def test_the_table_in_chinese(chinese):
    got = text_of("z1 = w3*a\nz2 = w4*a\nC = 0.5*(z1 + z2 - y)^2", {"a": 0.5, "w3": 2, "w4": -1, "y": 1})
    assert got.startswith(FAN_OUT_ZH)
    assert got.splitlines()[-1].split() == ["C", "*", "0.5*(z1", "+", "z2", "-", "y)^2", "0.125", "1", "输出", "C"]
    unused = text_of("a = x*2\nx + 1", {"x": 3})
    assert "a      *      x*2       6      0   （无）" in unused
    plain = text_of("(x+y)*z", {"x": -2, "y": 5, "z": -4}, show_grad=False)
    assert plain.splitlines()[2].split() == ["节点", "运算", "表达式", "值", "─▶", "被谁使用"]


def test_graph_command_in_chinese_by_locale():
    from conftest import run_cli

    run = run_cli("graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", env={"BPCALC_LANG": "", "LC_ALL": "zh_CN.UTF-8"})
    assert run.code == 0, run.err
    assert run.out.splitlines()[1:3] == ["在 x = -2, y = 5, z = -4 处",
                                         "节点   运算   表达式     值   梯度   ─▶ 被谁使用"]
