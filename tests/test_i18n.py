"""Choosing the language and translating with it."""

import pytest

from bpcalc import i18n


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.use("en")


@pytest.mark.parametrize("environ, lang", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),  # LC_ALL first (POSIX)
    ({"LC_MESSAGES": "zh_CN", "LANG": "en_US.UTF-8"}, "zh"),
    ({"BPCALC_LANG": "en", "LC_ALL": "zh_CN.UTF-8"}, "en"),  # ours over the locale
    ({"BPCALC_LANG": "zh"}, "zh"),
])
def test_the_environment_chooses(environ, lang):
    assert i18n.from_environment(environ) == lang


def test_english_is_the_code_itself():
    assert i18n.language() == "en"
    assert i18n._("error: {message}") == "error: {message}"
    assert i18n.ngettext("{n} point", "{n} points", 2) == "{n} points"


def test_chinese_comes_from_the_catalogue():
    i18n.use("zh")
    assert i18n.language() == "zh"
    assert i18n._("error: {message}").format(message="x") == "错误：x"
    assert i18n._("a message no catalogue has") == "a message no catalogue has"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="en, zh"):
        i18n.use("fr")


def test_speaking_switches_for_a_block_and_switches_back():
    i18n.use("zh")
    with i18n.speaking("en"):
        assert i18n.language() == "en" and i18n._("error: {message}") == "error: {message}"
    assert i18n.language() == "zh" and i18n._("error: {message}") == "错误：{message}"
    with pytest.raises(KeyError), i18n.speaking("en"):
        raise KeyError("x")
    assert i18n.language() == "zh"


# --- every command's human output, in Chinese ------------------------------------

import re  # noqa: E402

from conftest import ROOT, run_cli  # noqa: E402

#: English prose that must not be left in Chinese output. Formulas, names,
#: numbers, option names and function names stay as written; none of these
#: words is one of them.
ENGLISH_PROSE = re.compile(
    r"(?<![-\w])(the|of|and|is|are|from|with|each|gradient|gradients|output|input|inputs|node|nodes|rows|"
    r"entries|local|upstream|downstream|warning|error|note|pass|step|steps|copied|entry|was|its|to|"
    r"agrees|value|values|check|checked|claim|claims|wrong|right|expected|did you mean)(?![-\w])")
NEURON = ("-f", "samples/cs231n_neuron.bp")
MATRIX = ("-f", "samples/matrix/dlfs_affine_softmax.bp", "--at-file", "samples/matrix/dlfs_affine_softmax.point.json")


def english_left(text: str, program: str = "") -> list[str]:
    """The lines of `text` with English prose in them (the program's own text aside)."""
    lines = [re.sub(r"^bpcalc (grad|check|explain|graph|ops|batch)\b", "", line) for line in text.splitlines()]
    return [line for line in lines
            if ENGLISH_PROSE.search(line.replace(program, "")) and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("args", [
    ("grad", *NEURON),
    ("grad", *MATRIX),
    ("grad", *NEURON, "--no-check", "--lr", "0.1"),
    ("check", *NEURON, "--expect", "w0=-0.2,x0=0.39,w1=-0.5"),
    ("check", *MATRIX, "--expect", "b=[-0.149,0.252,-0.103]"),
    ("explain", *NEURON),
    ("explain", *MATRIX),
    ("graph", *NEURON),
    ("graph", *MATRIX),
    ("ops",),
], ids=lambda a: " ".join(a[:3]))
def test_every_command_speaks_chinese(args):
    run = run_cli(*args, "--lang", "zh", cwd=ROOT, env={"COLUMNS": "100"})
    assert run.code in (0, 1), run.err
    assert english_left(run.out + run.err) == []


@pytest.mark.parametrize("args", [
    ("grad", "(x+y)*z +", "--at", "x=1"),
    ("grad", "sigmod(x)", "--at", "x=1"),
    ("grad", "x*y", "--at", "x=1"),
    ("grad", "W @ x", "--at", "W=[[1,2,3],[4,5,6]],x=[1,2]"),
    ("grad", "x", "--at", "x=1", "--digits", "0"),
    ("grad", "x", "--at", "x=1", "--no-such-option"),
    ("check", "x*y", "--at", "x=1,y=2", "--expect", "x=abc"),
    ("explain", "x*y", "--at", "x=1,y=2", "--wrt", "q"),
], ids=lambda a: " ".join(a[:2]))
def test_every_error_speaks_chinese(args):
    run = run_cli(*args, "--lang", "zh", cwd=ROOT)
    assert run.code == 2, (run.out, run.err)
    assert run.err.startswith(("错误：", "用法：")) and "错误：" in run.err, run.err
    assert english_left(run.err, args[1]) == []


def test_json_stays_english_whatever_the_language():
    zh = run_cli("grad", "(x+y)*z +", "--lang", "zh", "--json")
    en = run_cli("grad", "(x+y)*z +", "--json")
    assert zh.out == en.out and '"message": "the expression ends after' in zh.out


def test_no_function_hides_the_translation_function():
    """`a, _ = …` in a function that also says `_("…")` makes `_` a local: the
    message then fails at the worst moment (an error path). Comprehensions
    have their own scope and may use `_`."""
    import ast
    from pathlib import Path

    import bpcalc

    def bound_here(fn: ast.AST) -> bool:
        todo = list(ast.iter_child_nodes(fn))
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                                 ast.DictComp, ast.GeneratorExp, ast.ClassDef)):
                continue  # a scope of its own
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                return True
            todo.extend(ast.iter_child_nodes(node))
        return False

    hidden = []
    for path in Path(bpcalc.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(n, ast.ImportFrom) and any(a.name == "_" for a in n.names) for n in ast.walk(tree)):
            continue
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and bound_here(fn):
                hidden.append(f"{path.name}:{fn.lineno} {fn.name}")
    assert hidden == []
