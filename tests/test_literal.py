"""Tensor literals in program text (bpcalc.lang.literal), through the parser."""

from __future__ import annotations

import pytest

from bpcalc.errors import BpcalcError, Source
from bpcalc.lang.parser import parse


def item(text: str):
    return parse(Source(text)).statements[0].expr[0]


def test_vectors_and_matrices():
    assert item("[1, -2, 0.5]")[:2] == ("tensor", ((1.0, -2.0, 0.5), (3,), "[1, -2, 0.5]"))
    assert item("[[1, 2],\n [3, 4]]")[1][:2] == ((1.0, 2.0, 3.0, 4.0), (2, 2))
    assert item("[[1e-3], [+2]]")[1][:2] == ((0.001, 2.0), (2, 1))
    assert item("[1, 2,]")[1][1] == (2,)  # a trailing comma, as in Python
    assert item("[1, # comment\n 2]")[1][1] == (2,)


@pytest.mark.parametrize("text, message, column", [
    ("[[1, 2], [3]]", "ragged literal: row 2 has shape (1,), row 1 has (2,)", 10),
    ("[x, 1]", "'x' inside [...]: a literal holds numbers only", 2),
    ("[1 2]", "missing ',' between the entries", 4),
    ("[]", "an empty [] literal", 1),
    ("[1, 2", "'[' is never closed", 1),
    ("[[1, 2], 3]", "mixes numbers and rows", 2),
    ("[1, 2*3]", "'*' inside [...]: a literal holds numbers only", 6),
    ("[1; 2]", "';' inside a [...] literal", 3),
])
def test_literal_errors_point_at_the_place(text, message, column):
    with pytest.raises(BpcalcError) as info:
        parse(Source(text))
    assert message in info.value.message
    assert info.value.position == (1, column)


def test_nesting_deeper_than_the_rank_limit_is_refused():
    from bpcalc.limits import MAX_RANK

    deep = "[" * (MAX_RANK + 1) + "1" + "]" * (MAX_RANK + 1)
    with pytest.raises(BpcalcError) as info:
        parse(Source(deep))
    assert info.value.message == f"a [...] literal nested deeper than {MAX_RANK} levels"
    assert info.value.position == (1, MAX_RANK + 1)
    assert item("[" * MAX_RANK + "1" + "]" * MAX_RANK)[1][1] == (1,) * MAX_RANK


def test_literal_errors_in_chinese(chinese):
    with pytest.raises(BpcalcError) as info:
        parse(Source("[[1, 2], [3]]"))
    assert info.value.message == "字面量各行长短不一：第 2 行的形状是 (1,)，第 1 行的是 (2,)；每一行的元素个数必须相同"
    assert info.value.position == (1, 10)
