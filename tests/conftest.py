"""Shared test helpers: run the installed `bpcalc` command like a user does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def bpcalc_command() -> list[str]:
    """The installed console script (next to this Python, else on PATH)."""
    beside = Path(sys.executable).parent / "bpcalc"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("bpcalc")
    if found:
        return [found]
    raise RuntimeError("the bpcalc command is not installed: pip install -e '.[test]'")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def run_cli(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 120) -> Run:
    """Run `bpcalc *args` as a subprocess; stdout/stderr decoded as UTF-8."""
    # English unless a test asks for another language (whatever the machine's locale)
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "BPCALC_LANG": "en", **(env or {})}
    full_env.pop("BPCALC_DEBUG", None)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [*bpcalc_command(), *args], input=data, capture_output=True, env=full_env,
        cwd=cwd, timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def chinese():
    """This process (the Python API) speaks Chinese for one test (bpcalc.i18n), English after it."""
    from bpcalc import i18n

    i18n.use("zh")
    yield
    i18n.use("en")
