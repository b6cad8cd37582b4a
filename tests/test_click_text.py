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
