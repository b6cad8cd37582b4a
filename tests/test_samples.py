"""Every sample in samples/ through the installed CLI, checked against the
answer its header states (the course material's published numbers)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from conftest import SAMPLES, run_cli

SAMPLE_FILES = sorted(SAMPLES.glob("*.bp"))


def header(path: Path, key: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^# {key}:(.*)$", path.read_text(), re.M)]


def pairs(lines: list[str]) -> dict[str, float]:
    out = {}
    for line in lines:
        for item in line.split(","):
            name, value = item.split("=")
            out[name.strip()] = float(value)
    return out


def sample_point(path: Path) -> str:
    return ",".join(item.strip() for line in header(path, "at") for item in line.split(","))


def test_there_are_samples():
    names = {p.stem for p in SAMPLE_FILES}
    assert {"cs231n_add_mul", "cs231n_neuron", "apples", "apples_oranges", "square_of_sum",
            "neuron_sigmoid", "two_layer_network"} <= names


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_sample_answer(path: Path):
    expected = pairs(header(path, "expect"))
    value = float(header(path, "expect-value")[0])
    tolerance = float((header(path, "tolerance") or ["1e-9"])[0])
    run = run_cli("grad", "-f", str(path), "--at", sample_point(path), "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["check"]["ok"] is True
    assert math.isclose(doc["value"], value, abs_tol=tolerance), (doc["value"], value)
    for name, want in expected.items():
        got = doc["gradient"][name]
        assert math.isclose(got, want, abs_tol=tolerance), (name, got, want)
