"""Strict JSON, indented when small, streamed and compact when large: the size
of `--json` grows linearly with the number of nodes, with a small constant."""

from __future__ import annotations

import io
import json

import bpcalc
from bpcalc.render.json import STREAM_ABOVE, dumps, write

from conftest import run_cli


def _written(result) -> str:
    out = io.StringIO()
    doc = result.to_dict(nodes=False)
    write(doc, out, "nodes", result.node_dicts())
    return out.getvalue()


def test_a_small_document_is_written_as_dumps_writes_it() -> None:
    r = bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4}, check=False)
    assert _written(r) == dumps(r.to_dict()) + "\n"
    assert "\n  " in _written(r)  # indented for reading


def test_a_large_document_is_streamed_compact_and_is_the_same_document() -> None:
    program = "+".join(["x"] * (STREAM_ABOVE + 10))
    r = bpcalc.grad(program, at={"x": 1}, check=False)
    text = _written(r)
    assert text.count("\n") == 1
    assert json.loads(text) == r.to_dict()


def test_json_grows_linearly_with_the_nodes() -> None:
    # 10^4 nested unary minus signs and a 10^4-term sum: every node's text would
    # be up to 1 000 characters; the JSON cuts it at 80, so each node costs
    # about 200 bytes whatever the nesting
    for program, nodes in [("-" * 10_000 + "x", 10_001), ("+".join(["x"] * 10_000), 10_000)]:
        run = run_cli("grad", "-", "--at", "x=1", "--json", "--no-check", stdin=program)
        assert run.code == 0, run.err
        doc = run.json()
        assert len(doc["nodes"]) == nodes
        assert len(run.out) < 250 * nodes
        assert max(len(node["text"]) for node in doc["nodes"]) == 80
        last = doc["nodes"][-1]
        assert last["text"].endswith("…") and last["span"] == [0, len(program)]
