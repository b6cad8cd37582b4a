"""click's texts in the chosen language: --help (the usage errors are in test_cli.py)."""

from bpcalc.click_text import help_texts
from conftest import run_cli


def test_help_in_chinese_translates_bpcalcs_texts_and_clicks_words():
    run = run_cli("explain", "--help", "--lang", "zh", env={"COLUMNS": "200"})
    assert run.code == 0, run.err
    assert run.out.startswith("用法：bpcalc explain [OPTIONS] [program]\n")
    assert "\n参数:\n" in run.out and "\n选项:\n" in run.out
    assert "写出反向传播：先逐个节点写出正向传播" in run.out
    assert "--help                   显示本帮助并退出。" in run.out
    assert "[默认：text]" in run.out and "[默认：300; x>=0]" in run.out


def test_the_top_level_help_follows_the_locale():
    run = run_cli("--help", env={"BPCALC_LANG": "", "LANG": "zh_CN.UTF-8", "COLUMNS": "200"})
    assert run.code == 0, run.err
    assert "\n命令:\n" in run.out and "用误差反向传播计算、展示并验证梯度。" in run.out


def test_help_in_english_is_clicks_own():
    run = run_cli("explain", "--help", env={"COLUMNS": "200"})
    assert run.out.startswith("Usage: bpcalc explain [OPTIONS] [program]\n")
    assert "Show this message and exit." in run.out and "[default: text]" in run.out


def test_the_catalogue_gets_every_help_text():
    texts = help_texts()
    assert "Significant digits shown in tables." in texts
    assert any(t.startswith("Value and gradient of a program at a point") for t in texts)


def test_chinese_help_fits_80_columns_and_keeps_every_word():
    from rich.cells import cell_len

    run = run_cli("explain", "--help", "--lang", "zh", env={"COLUMNS": "80"})
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80  # click counts characters; a Chinese one takes 2 columns
    flat = "".join("".join(lines).split())
    assert "写出反向传播：先逐个节点写出正向传播，再写出每个节点的局部导数和上游传来的导数×局部导数=传给下游的导数" in flat
    assert '从JSON对象读取输入的值：{"x":[1,-2],"W":[[0.1,0.2]],"b":0.5}；--at覆盖其中单个名字的值。' in flat


def test_cell_wrap_breaks_between_wide_characters_and_words_only():
    from bpcalc.click_text import cell_wrap

    # 10 columns: five Chinese characters, or a word and a space
    assert cell_wrap("正向传播反向传播", 10) == ["正向传播反", "向传播"]
    assert cell_wrap("用 SymPy 验证梯度", 10) == ["用 SymPy", "验证梯度"]
    # full-width punctuation never starts a line; a word wider than the line stays whole
    assert cell_wrap("一二三四五，六", 10) == ["一二三四", "五，六"]
    assert cell_wrap("exp(-1)/(exp(-1)+1)**2 好", 10) == ["exp(-1)/(exp(-1)+1)**2", "好"]
