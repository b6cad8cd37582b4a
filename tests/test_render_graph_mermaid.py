"""Mermaid flowcharts: bpcalc.render.graph_mermaid."""

from __future__ import annotations

import bpcalc
from bpcalc.render.graph import drawing
from bpcalc.render.graph_mermaid import escape, to_mermaid

HEAD = """\
flowchart LR
  classDef input fill:none,stroke:none,font-weight:bold
  classDef const fill:none,stroke:none,color:#666666,font-size:12px
  classDef result fill:none,stroke:none,font-weight:bold
  classDef op fill:#ffffff,stroke:#333333
  classDef unused stroke-dasharray:4 3,color:#666666
"""

ADD_MUL = HEAD + """\
  n0["x"]:::input
  n1["y"]:::input
  n2["z"]:::input
  n3(("+")):::op
  n4(("*")):::op
  n5["f"]:::result
  n0 -->|"-2<br/>∇ -4"| n3
  n1 -->|"5<br/>∇ -4"| n3
  n3 -->|"3<br/>∇ -4"| n4
  n2 -->|"-4<br/>∇ 3"| n4
  n4 -->|"-12<br/>∇ 1"| n5
"""


def mermaid_of(program: str, at: dict, **options) -> str:
    return to_mermaid(drawing(bpcalc.grad(program, at=at, check=False), **options))


def test_mermaid_of_the_cs231n_example():
    assert mermaid_of("(x+y)*z", {"x": -2, "y": 5, "z": -4}) == ADD_MUL


def test_fan_out_constants_and_unused_nodes():
    text = mermaid_of("z1 = w3*a\nz2 = w4*a\nunused = a + 1\nC = 0.5*(z1 + z2)", {"a": 0.5, "w3": 2, "w4": -1})
    lines = text.splitlines()
    # dC/da = 0.5*w3 + 0.5*w4 + 0 (the unused sum) = 1 - 0.5
    assert '  n1["a<br/>Σ∇ 0.5"]:::input' in lines and '  n3(("*<br/>z1")):::op' in lines
    assert '  n1 -->|"0.5<br/>∇ 1"| n3' in lines and '  n1 -->|"0.5<br/>∇ -0.5"| n4' in lines
    assert '  n1 -.->|"0.5<br/>∇ 0"| n6' in lines  # a use that does not reach the output
    assert "  n5 -.-> n6" in lines and "  n7 --> n9" in lines  # constants: no label
    assert lines[-1] == "  class n5,n6 unused"


def test_no_grad():
    text = mermaid_of("(x+y)*z", {"x": -2, "y": 5, "z": -4}, show_grad=False)
    assert "∇" not in text and '  n4 -->|"-12"| n5' in text


def test_escape_writes_special_characters_as_entity_codes():
    assert escape('a"b#c<d>&e θ') == "a#quot;b#35;c#lt;d#gt;#amp;e θ"
