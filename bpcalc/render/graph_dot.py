"""A `Drawing` as Graphviz DOT source, and DOT rendered to SVG or PNG by the
Graphviz `dot` program.

Layout follows the course figures (CS231n "Backpropagation, Intuitions"):
left to right, inputs on the left and the output on the right; each
operation a circle; each edge runs through a small label whose line the edge
continues, with the forward value above it and the gradient flowing back
below it. Values are in Paul Tol's high-contrast blue, gradients in his
high-contrast red and bold italic: the pair is safe for colour-blind readers
and the two differ in lightness (so also in grayscale) and in type style.

Everything the program contributes (names, constants, the source text in the
title and the tooltips) is escaped for DOT and HTML-like labels; the text is
deterministic, byte for byte, for a given Drawing.
"""

from __future__ import annotations

import shutil
import subprocess

from ..errors import BpcalcError, os_reason
from ..i18n import N_, _, language
from ..graph import CONST, INPUT
from .graph import RESULT, Drawing, DrawEdge, DrawNode

VALUE_COLOUR = "#004488"  # Paul Tol high-contrast blue
GRAD_COLOUR = "#BB5566"  # Paul Tol high-contrast red
EDGE_COLOUR = "#555555"
MUTED_COLOUR = "#666666"  # constants, and nodes the output does not depend on

#: Seconds Graphviz may take to lay out and render a picture.
RENDER_TIMEOUT = 60.0

INSTALL_HINT = N_(
    "Graphviz is not installed: the `dot` program draws svg and png pictures. Install it "
    "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "Windows: winget install graphviz; or see https://graphviz.org/download/), "
    "or use --format dot, mermaid or text, which need nothing installed"
)

#: The font of the picture's text; Chinese needs a family with CJK glyphs
#: (Graphviz, through Pango or a browser reading the SVG, takes the first it has).
FONTS = {"en": "Helvetica", "zh": "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"}


def font() -> str:
    """The font family (list) for the current language."""
    return FONTS.get(language(), FONTS["en"])


def html(text: str) -> str:
    """Text for a Graphviz HTML-like label (and so for SVG/XML)."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def quoted(text: str) -> str:
    """A DOT double-quoted string showing `text` literally (Graphviz reads
    backslash escapes such as \\N and HTML entities in quoted strings too)."""
    return '"' + text.replace("\\", "\\\\").replace("&", "&amp;").replace('"', '\\"') + '"'


def value_html(text: str) -> str:
    return f'<font color="{VALUE_COLOUR}">{html(text)}</font>'


def grad_html(text: str) -> str:
    return f'<font color="{GRAD_COLOUR}"><b><i>{html(text)}</i></b></font>'


def to_dot(d: Drawing) -> str:
    """Graphviz source for the drawing."""
    family = quoted(font())
    lines = [
        "digraph bpcalc {",
        f"  graph [rankdir=LR, ordering=in, nodesep=0.18, ranksep=0.3, fontname={family}, "
        f"labelloc=t, labeljust=l, label=<{_title(d)}>];",
        f"  node [fontname={family}, fontsize=14];",
        f"  edge [color=\"{EDGE_COLOUR}\", arrowsize=0.6, penwidth=1.2];",
    ]
    lines.extend(_node_line(node) for node in d.nodes)
    for k, edge in enumerate(d.edges):
        lines.extend(_edge_lines(k, edge, d.nodes[edge.dst].live))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _title(d: Drawing) -> str:
    parts = [f"<b>{html(d.title)}</b>"]
    if d.point:
        parts.append("   " + html(_("at {point}").format(point=d.point)))
    legend = value_html(_("value above the edge"))
    if d.show_grad:
        legend += "    " + grad_html(_("gradient below"))
        if d.fans_out:
            legend += "    " + html(_("{sigma} at a node: the sum of its edges' gradients")).format(
                sigma=grad_html("Σ"))
    lines = ["".join(parts), legend, *map(html, d.notes)]
    return "".join(line + '<br align="left"/>' for line in lines)


def _node_line(n: DrawNode) -> str:
    nid = f"n{n.id}"
    muted = "" if n.live else f', style=dashed, color="{MUTED_COLOUR}", fontcolor="{MUTED_COLOUR}"'
    if n.kind == RESULT:
        tooltip = quoted(_("output {name}").format(name=n.symbol))
        return f"  {nid} [shape=plaintext, label=<<b>{html(n.symbol)}</b>>, tooltip={tooltip}];"
    rows = [html(n.symbol)]
    if n.kind == INPUT:
        rows[0] = f"<b>{rows[0]}</b>"
    if n.name:
        rows.append(f'<font point-size="10">{html(n.name)}</font>')
    if n.sums:
        rows.append(grad_html(f"Σ {n.grad}"))
    label = "<br/>".join(rows)
    tooltip = quoted(_("{label}: {expr} = {value}, gradient {gradient}").format(
        label=n.label, expr=n.expr, value=n.value, gradient=n.grad) if n.grad else f"{n.label}: {n.expr} = {n.value}")
    if n.kind == INPUT:
        shape = "shape=plaintext"
    elif n.kind == CONST:
        shape = f'shape=plaintext, fontsize=11, fontcolor="{MUTED_COLOUR}"'
    else:  # a circle as in the course figures; an ellipse keeps longer labels compact
        round_ = "circle" if len(rows) == 1 and len(n.symbol) <= 4 else "ellipse"
        shape = f"shape={round_}, margin=0.04"
    return f"  {nid} [{shape}, label=<{label}>, tooltip={tooltip}{muted}];"


def _edge_lines(k: int, e: DrawEdge, live: bool) -> list[str]:
    style = "" if live else ", style=dashed"
    if e.value is None and e.grad is None:
        return [f"  n{e.src} -> n{e.dst} [arrowsize=0.4{style}];"]
    # The label is a small node whose middle cell continues the edge's line:
    # the value sits above that line, the gradient below it.
    rows = [f"<tr><td>{value_html(e.value or '')}</td></tr>",
            f'<tr><td port="p" border="1" sides="t" color="{EDGE_COLOUR}" height="1" cellpadding="0"></td></tr>']
    if e.grad is not None:
        rows.append(f"<tr><td>{grad_html(e.grad)}</td></tr>")
    table = '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "".join(rows) + "</table>"
    return [
        f"  e{k} [shape=plaintext, margin=0, fontsize=11, label=<{table}>];",
        f"  n{e.src} -> e{k}:p:w [arrowhead=none{style}];",
        f"  e{k}:p:e -> n{e.dst}{' [style=dashed]' if style else ''};",
    ]


def render(dot_source: str, fmt: str, timeout: float = RENDER_TIMEOUT) -> bytes:
    """Run Graphviz `dot` on the source: the SVG or PNG bytes."""
    exe = shutil.which("dot")
    if exe is None:
        raise BpcalcError("usage", _(INSTALL_HINT))
    try:
        proc = subprocess.run(
            [exe, f"-T{fmt}"], input=dot_source.encode("utf-8"), capture_output=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise BpcalcError("limit", _(
            "Graphviz did not finish drawing within {seconds} s; draw fewer nodes, or write "
            "--format dot and lay it out with other tools").format(seconds=f"{timeout:g}")) from None
    except OSError as exc:
        raise BpcalcError("io", _("cannot run Graphviz ({program}): {reason}").format(
            program=exe, reason=os_reason(exc))) from None
    if proc.returncode != 0 or not proc.stdout:
        detail = " ".join(proc.stderr.decode("utf-8", "replace").split())[:300]
        raise BpcalcError("io", _("Graphviz {command} failed (exit {code}): {detail}").format(
            command=f"`dot -T{fmt}`", code=proc.returncode, detail=detail))
    return proc.stdout
