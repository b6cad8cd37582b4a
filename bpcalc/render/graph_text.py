"""A `Drawing` as a table for the terminal (rich): one row per node with its
value and gradient, and one row per outgoing edge with the gradient flowing
back along it, so a node used several times shows each contribution and
their sum (Σ) side by side.
"""

from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING

from ..graph import CONST, INPUT, op_word
from ..i18n import _
from .graph import RESULT, Drawing, DrawEdge, DrawNode

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

#: Paul Tol's "bright" blue and red: colour-blind safe, readable on dark and
#: light terminals; gradients are also bold.
VALUE_STYLE = "#4477AA"
GRAD_STYLE = "bold #EE6677"


def text_view(d: Drawing) -> "RenderableType":
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    lines: list[RenderableType] = [Text.assemble(("bpcalc graph ", "bold"), d.title)]
    if d.point:
        lines.append(Text(_("at {point}").format(point=d.point), style="dim"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column(_("node"))
    table.add_column(_("op"))
    table.add_column(_("expression"), overflow="fold", max_width=40)
    table.add_column(_("value"), justify="right", style=VALUE_STYLE)
    if d.show_grad:
        table.add_column(_("gradient"), justify="right", style=GRAD_STYLE)
    table.add_column(_("─▶ used by (◀ gradient back)") if d.fans_out else _("─▶ used by"))
    outgoing: dict[int, list[DrawEdge]] = {}
    for e in d.edges:
        outgoing.setdefault(e.src, []).append(e)
    for node in d.nodes:
        if node.kind == RESULT:
            continue
        edges = outgoing.get(node.id, [])
        uses = [_use(d.nodes[e.dst], e.grad if node.sums else None) for e in edges] or [Text(_("(nothing)"))]
        # Text, not str: rich would read "[...]" in program text as markup
        cells = [Text(node.label), Text(_kind(node)), Text(node.expr), Text(node.value)]
        if d.show_grad:
            cells.append(Text(f"Σ {node.grad}" if node.sums else (node.grad or "—")))
        style = None if node.live else "dim"
        table.add_row(*cells, uses[0], style=style)
        for use in uses[1:]:
            table.add_row(*[Text()] * len(cells), use, style=style)
    lines.append(table)
    return Group(*lines)


def to_text(d: Drawing, width: int = 200) -> str:
    """The view as plain text (no colour), for a file."""
    from rich.console import Console

    buffer = StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False,
                      soft_wrap=False, force_terminal=False)
    console.print(text_view(d))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _kind(n: DrawNode) -> str:
    return op_word(n.kind) if n.kind in (INPUT, CONST) else n.symbol


def _use(target: DrawNode, grad: str | None) -> "Text":
    """'%7 (*)', or with the gradient flowing back along this use: '%7 (*) ◀ -1'."""
    from rich.text import Text

    if target.kind == RESULT:
        shown = _("output {name}").format(name=target.symbol)
    else:
        shown = f"{target.label} ({target.symbol})"
    if grad is None:
        return Text(shown)
    return Text.assemble(shown, " ◀ ", (grad, GRAD_STYLE))
