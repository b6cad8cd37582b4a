"""A `Drawing` as a Mermaid flowchart, which GitHub renders in Markdown
(paste it into a ```mermaid block).

Mermaid cannot colour the two lines of one edge label differently, so the
gradient line is marked with ∇: each edge reads "value" over "∇ gradient".
Labels are quoted, and the characters Mermaid reads specially inside quotes
are written as its entity codes (#quot; and friends).
"""

from __future__ import annotations

from ..graph import CONST, INPUT
from .graph import RESULT, Drawing, DrawNode

GRAD_MARK = "∇"

_ENTITIES = {"#": "#35;", '"': "#quot;", "&": "#amp;", "<": "#lt;", ">": "#gt;"}

_CLASSES = (
    "classDef input fill:none,stroke:none,font-weight:bold",
    "classDef const fill:none,stroke:none,color:#666666,font-size:12px",
    "classDef result fill:none,stroke:none,font-weight:bold",
    "classDef op fill:#ffffff,stroke:#333333",
    "classDef unused stroke-dasharray:4 3,color:#666666",
)


def escape(text: str) -> str:
    """Text inside a quoted Mermaid label, shown literally."""
    return "".join(_ENTITIES.get(ch, ch) for ch in text)


def to_mermaid(d: Drawing) -> str:
    lines = ["flowchart LR"]
    lines.extend("  " + c for c in _CLASSES)
    for node in d.nodes:
        lines.append("  " + _node(node))
    for e in d.edges:
        arrow = "-->" if d.nodes[e.dst].live else "-.->"
        rows = [escape(e.value)] if e.value is not None else []
        if e.grad is not None:
            rows.append(f"{GRAD_MARK} {escape(e.grad)}")
        label = f'|"{"<br/>".join(rows)}"|' if rows else ""
        lines.append(f"  n{e.src} {arrow}{label} n{e.dst}")
    unused = [f"n{n.id}" for n in d.nodes if not n.live]
    if unused:
        lines.append(f"  class {','.join(unused)} unused")
    return "\n".join(lines) + "\n"


def _node(n: DrawNode) -> str:
    rows = [escape(n.symbol)]
    if n.name:
        rows.append(escape(n.name))
    if n.sums:
        rows.append(f"Σ{GRAD_MARK} {escape(n.grad)}")
    text = "<br/>".join(rows)
    cls = n.kind if n.kind in (INPUT, CONST, RESULT) else "op"
    shape = f'(("{text}"))' if cls == "op" else f'["{text}"]'
    return f"n{n.id}{shape}:::{cls}"
