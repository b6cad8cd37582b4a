"""The README is part of the product: its examples must stay true.

Every ```text block that starts with `$ bpcalc …` is run (from the repository
root, at a terminal width of 100, without colours) and must print exactly what
the README shows (stdout, then stderr). `python tests/test_readme.py` rewrites
those blocks from real runs after a deliberate change of output.
"""

from __future__ import annotations

import doctest
import re
import shlex
import sys

from conftest import ROOT, run_cli

README_PATH = ROOT / "README.md"
WIDTH = {"COLUMNS": "100"}
BLOCK = re.compile(r"```text\n(\$ bpcalc .*?)```", re.S)


def examples(readme: str) -> list[tuple[str, list[str], str]]:
    """(command line, bpcalc arguments, shown output) for each command."""
    found = []
    for block in BLOCK.findall(readme):
        parts = re.split(r"^\$ ", block.replace("\\\n", " "), flags=re.M)[1:]
        for part in parts:
            command, _, output = part.partition("\n")
            found.append((command, shlex.split(command)[1:], output))
    return found


def actual(args: list[str]) -> str:
    run = run_cli(*args, cwd=ROOT, env=WIDTH)
    text = run.out + run.err
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_cli_examples_are_real_output():
    shown = examples(README_PATH.read_text(encoding="utf-8"))
    assert len(shown) >= 8
    for command, args, output in shown:
        assert actual(args) == output, f"README example changed: $ {command}"


def test_python_examples_run_as_shown():
    blocks = re.findall(r"```python\n(.*?)```", README_PATH.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has Python examples"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for k, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README block {k}", "README.md", 0))
    assert runner.failures == 0


def test_ci_runs_the_readme_test_command():
    readme = README_PATH.read_text(encoding="utf-8")
    quick_start = re.search(r"## Quick start(.*?)\n## ", readme, re.S).group(1)
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, re.S)
    assert len(commands) == 2
    assert commands[0].startswith("pip install . && bpcalc grad ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def regenerate() -> None:
    readme = README_PATH.read_text(encoding="utf-8")

    def rerun(match: re.Match) -> str:
        block = match.group(1)
        pieces = re.split(r"^(\$ (?:[^\n]*\\\n)*[^\n]*)\n", block, flags=re.M)[1:]
        out = []
        for command, _old in zip(pieces[::2], pieces[1::2]):
            args = shlex.split(command[2:].replace("\\\n", " "))[1:]
            out.append(command + "\n" + actual(args))
        return "```text\n" + "".join(out) + "```"

    README_PATH.write_text(BLOCK.sub(rerun, readme), encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "tests"))
    regenerate()


def test_the_function_list_follows_the_op_table():
    from bpcalc.ops import FUNCTIONS

    readme = README_PATH.read_text(encoding="utf-8")
    listed = re.search(r"- \*\*Functions\*\*(.*?)\n- \*\*", readme, re.S).group(1)
    named = set(re.findall(r"`([a-z_0-9]+)[(`]", listed))
    assert named == set(FUNCTIONS)
