"""The README is part of the product: its examples must stay true."""

from __future__ import annotations

import doctest
import re

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_examples_run_as_shown():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README has Python examples"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for k, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README block {k}", "README.md", 0)
        runner.run(test)
    assert runner.failures == 0


def test_ci_runs_the_readme_test_command():
    quick_start = re.search(r"## Quick start(.*?)\n## ", README, re.S).group(1)
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, re.S)
    assert len(commands) == 2
    assert commands[0].startswith("pip install . && bpcalc grad ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci
