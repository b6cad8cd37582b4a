import pytest

from bpcalc.errors import BpcalcError, Source, Span, caret_lines


def test_render_has_headline_line_and_caret():
    err = BpcalcError("parse", "bad thing", Source("a = 1\nb = 2 $ 3", "prog.bp"), Span(12, 13))
    assert err.render().splitlines() == [
        "error: prog.bp: line 2, column 7: bad thing",
        "  b = 2 $ 3",
        "        ^",
    ]
    assert err.to_dict() == {"kind": "parse", "message": "bad thing", "line": 2, "column": 7}
    assert err.exit_code == 2


def test_without_a_place():
    err = BpcalcError("usage", "no program")
    assert err.render() == "error: no program"
    assert err.to_dict()["line"] is None


def test_unknown_kind_is_a_bug():
    with pytest.raises(ValueError):
        BpcalcError("oops", "x")


def test_long_lines_are_windowed_around_the_caret():
    text = "x+" * 200 + "$"
    lines = caret_lines(Source(text), Span(400, 401))
    assert len(lines[0]) < 130 and lines[0].rstrip().endswith("$")
    assert lines[1].index("^") == lines[0].index("$")


def test_invisible_characters_show_as_question_marks():
    lines = caret_lines(Source("x\u200b+1"), Span(1, 2))
    assert lines == ["  x?+1", "   ^"]


def test_the_caret_counts_wide_characters_as_two_columns():
    # 损失 takes four columns on a terminal: the caret goes under ｙ, itself two wide
    lines = caret_lines(Source("损失 = 1\n损失 + ｙ"), Span(12, 13))
    assert lines == ["  损失 + ｙ", "         ^^"]


def test_the_headline_in_chinese(chinese):
    err = BpcalcError("value", "坏", Source("x+1", "--at"), Span(2, 3))
    assert err.render() == "错误：--at：第 1 行第 3 列：坏\n  x+1\n    ^"
    assert BpcalcError("usage", "坏").render() == "错误：坏"


def test_the_operating_systems_reason_in_either_language(tmp_path):
    import errno
    import os

    from bpcalc import i18n
    from bpcalc.errors import os_reason

    missing = OSError(errno.ENOENT, os.strerror(errno.ENOENT))
    assert os_reason(missing) == "No such file or directory" == os.strerror(errno.ENOENT)  # glibc's words
    with i18n.speaking("zh"):
        assert os_reason(missing) == "没有那个文件或目录"
        assert os_reason(OSError(errno.EPIPE, "Broken pipe")) == "Broken pipe"  # no translation: as the system says
    from conftest import run_cli

    run = run_cli("grad", "-f", str(tmp_path / "none.bp"), "--lang", "zh")
    assert run.code == 2 and run.err == f"错误：无法读取 {tmp_path / 'none.bp'}：没有那个文件或目录\n"
