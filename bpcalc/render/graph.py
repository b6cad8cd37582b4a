"""`bpcalc graph`: what the picture of a computational graph shows, whatever
the format.

`drawing(result)` turns a `GradResult` into a `Drawing`: one `DrawNode` per
graph node plus a result marker after the output, and one `DrawEdge` per use
of a node as an argument, each carrying the forward value and the gradient
flowing back along it, as display strings. The formats (`graph_dot`,
`graph_mermaid`, `graph_text`) only lay those strings out, so every format
shows the same numbers.

The gradient flowing back along the edge from node a to a user u is
adjoint(u) x du/da (the op table's local partial), as the engine computes it;
it differs from adjoint(a) when a is used several times: adjoint(a) is then
the sum over a's outgoing edges, which the picture shows at the node (Σ).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api import GradResult
from ..errors import BpcalcError, Source, os_reason
from ..exact import ExactResult
from ..i18n import _
from ..graph import CONST, INPUT
from ..ops import CONSTANTS, OPS, TENSOR_OPS
from .numbers import all_kept, exact_written, fmt, written_out
from .table import point_text

#: Output formats, and the file suffixes that choose them.
FORMATS = ("text", "dot", "svg", "png", "mermaid", "pdf")
SUFFIXES = {
    ".txt": "text", ".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png",
    ".mmd": "mermaid", ".mermaid": "mermaid", ".pdf": "pdf",
}

DEFAULT_DIGITS = 4

#: Kinds of DrawNode.
OP_NODE, RESULT = "op", "result"

_TITLE_WIDTH = 100
_EXPR_WIDTH = 60
#: Exact forms longer than this are shown as decimals (an edge label is no place for more).
EXACT_WIDTH = 40


@dataclass(frozen=True, slots=True)
class DrawNode:
    """One node of the picture, with its numbers already formatted.

    kind: "input", "const", "op", or "result" (the marker after the output,
    which carries the output's name). `symbol` is what the node shows: the
    operator (+, *, exp), the input's name, the constant as written, the
    output's name. `name` is the program's name for an op or constant node.
    """

    id: int
    kind: str
    symbol: str
    name: str | None
    label: str  # the node's label in `bpcalc grad` (%7, q, x@2)
    expr: str  # its source text, on one line
    value: str
    grad: str | None  # the node's gradient, the sum of its edges' (None: none)
    uses: int  # outgoing edges
    live: bool  # the output depends on it

    @property
    def sums(self) -> bool:
        """Its gradient is the sum over several edges (shown as Σ)."""
        return self.uses > 1 and self.grad is not None


@dataclass(frozen=True, slots=True)
class DrawEdge:
    """One use of node `src` as an argument of node `dst`."""

    src: int
    dst: int
    value: str | None  # None for an edge from a constant (its node shows it)
    grad: str | None  # the gradient flowing back along it (None: none)


@dataclass(frozen=True)
class Drawing:
    title: str  # the program on one line, or its file name
    point: str  # "x = -2, y = 5"
    nodes: tuple[DrawNode, ...]  # in topological order; the result marker last
    edges: tuple[DrawEdge, ...]
    show_grad: bool
    notes: tuple[str, ...] = ()  # exact mode: where it fell back to decimals, and why

    @property
    def fans_out(self) -> tuple[DrawNode, ...]:
        """Nodes whose gradient is a sum over several edges."""
        return tuple(n for n in self.nodes if n.sums)


def one_line(text: str, width: int) -> str:
    """Whitespace collapsed, unprintable characters shown as '?', cut to width."""
    text = "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def program_title(source: Source) -> str:
    """A file's name; a program typed in, on one line without its comments."""
    if source.origin not in ("<program>", "<stdin>"):
        return one_line(source.origin, _TITLE_WIDTH)
    lines = (line.split("#", 1)[0].strip() for line in source.text.splitlines())
    return one_line("; ".join(line for line in lines if line), _TITLE_WIDTH)


def choose_format(fmt_option: str | None, output: Path | None) -> str:
    """The format from --format, else from the -o file's suffix, else text."""
    if fmt_option is not None:
        chosen = fmt_option.lower()
        if chosen not in FORMATS:
            raise BpcalcError("usage", _("unknown format '{format}'; choose one of {formats}").format(
                format=fmt_option, formats=", ".join(FORMATS)))
    else:
        chosen = ""
    if output is None:
        return chosen or "text"
    suffix = output.suffix.lower()
    implied = SUFFIXES.get(suffix)
    if chosen and implied and implied != chosen:
        raise BpcalcError("usage", _(
            "--format {format} does not match the file name {file} (its suffix means {implied})").format(
                format=chosen, file=output, implied=implied))
    if chosen or implied:
        return chosen or implied  # type: ignore[return-value]
    known = ", ".join(SUFFIXES)
    raise BpcalcError("usage", _(
        "cannot tell the format from the file name {file}: use a suffix ({suffixes}) or --format").format(
            file=output, suffixes=known))


def edge_gradients(result: GradResult) -> list[tuple[int, int, float | None]]:
    """(argument, user, gradient flowing back from user to argument) for
    every argument of every node, in node order: adjoint(user) x the local
    partial, None where the argument has no gradient (a constant) or the user
    none. A zero adjoint or a zero partial passes back 0, as in the engine
    (0 x inf = 0)."""
    g = result.graph
    values, adjoints, active = result.values, result.adjoints, g.active
    out: list[tuple[int, int, float | None]] = []
    if result.tensor:
        from .explain_tensor import edge_flow

        return [(a, u, edge_flow(result, u, k) if active[a] else None)
                for u in range(len(g)) for k, a in enumerate(g.args(u))]
    for u in range(len(g)):
        args = g.args(u)
        if not args:
            continue
        adj = adjoints[u]
        partials: tuple[float, ...] = ()
        if adj is not None and adj != 0.0:
            partials = OPS[g.ops[u]].partials(*(values[a] for a in args), values[u])
        for k, a in enumerate(args):
            if adj is None or not active[a]:
                out.append((a, u, None))
            else:
                out.append((a, u, adj * partials[k] if partials and partials[k] else 0.0))
    return out


def drawing(result: GradResult, digits: int = DEFAULT_DIGITS, show_grad: bool = True) -> Drawing:
    """What to draw for `result`: nodes and edges with formatted numbers.

    In exact mode (`result.exact`), values and gradients are its exact texts
    where it has them and they fit in `EXACT_WIDTH` characters, decimals
    elsewhere; the gradient on an edge is exact when the edge is its node's
    only use (it is then the node's whole gradient), a decimal marked ≈
    otherwise. `Drawing.notes` says where exact mode fell short.
    """
    g = result.graph
    n = len(g)
    live = g.reaches_output()
    flows = edge_gradients(result)
    uses = [0] * n
    for a, _u, _flow in flows:
        uses[a] += 1
    uses[g.output] += 1  # the edge to the result marker
    texts = _Numbers(result, digits)
    nodes = [
        _node(result, i, texts.value(i), texts.adjoint(i) if show_grad else None, uses[i], live[i])
        for i in range(n)
    ]
    out = nodes[g.output]
    nodes.append(DrawNode(n, RESULT, result.output_label, None, result.output_label,
                          out.expr, out.value, out.grad, 0, True))
    edges = []
    for a, u, flow in flows:
        value = None if g.ops[a] == CONST else nodes[a].value
        shown = None
        if show_grad and flow is not None:
            shown = nodes[a].grad if uses[a] == 1 else texts.flow(flow)
        edges.append(DrawEdge(a, u, value, shown))
    edges.append(DrawEdge(g.output, n, out.value, out.grad))
    return Drawing(program_title(g.source), point_text(result, digits), tuple(nodes), tuple(edges),
                   show_grad, texts.notes())


class _Numbers:
    """Display texts of values and gradients: decimals, or exact texts."""

    def __init__(self, result: GradResult, digits: int) -> None:
        self.result, self.digits = result, digits
        self.exact: ExactResult | None = result.exact
        self.decimal_only = 0  # exact mode: numbers shown as decimals (too long)
        self.flows = 0  # edge gradients shown as decimals (their node has several uses)

    def value(self, i: int) -> str:
        exact = self.exact
        return self._pick(exact.values[i] if exact else None, self.result.values[i])

    def adjoint(self, i: int) -> str | None:
        adj = self.result.adjoints[i]
        if adj is None:
            return None
        exact = self.exact
        return self._pick(exact.adjoints[i] if exact else None, adj)

    def flow(self, v: float) -> str:
        self.flows += 1
        return ("≈" if self.exact and self.exact.ok else "") + edge_text(v, self.digits)

    def _pick(self, exact_text: Any, v: Any) -> str:
        if isinstance(exact_text, list):  # a vector or matrix: written out when small, as `edge_text` does
            shape = getattr(v, "shape", ())
            exact_text = (f"{'×'.join(map(str, shape))} {exact_written(exact_text)}"
                          if math.prod(shape) <= EDGE_ENTRIES and all_kept(exact_text) else None)
        if exact_text is not None and len(exact_text) <= EXACT_WIDTH:
            return exact_text
        if self.exact is not None and self.exact.ok:
            self.decimal_only += 1
        return edge_text(v, self.digits)

    def notes(self) -> tuple[str, ...]:
        exact = self.exact
        if exact is None:
            return ()
        notes = [exact.note] if exact.note else []
        if exact.ok and self.decimal_only:
            notes.append(_("exact mode: {count} numbers have no exact form of at most "
                           "{width} characters and are shown as decimals").format(
                               count=self.decimal_only, width=EXACT_WIDTH))
        if exact.ok and self.flows:
            notes.append(_("exact mode: the gradient on each edge of a node used several times "
                           "is a decimal (≈); the node's sum Σ is exact"))
        return tuple(notes)


#: Tensors with at most this many entries are written out on an edge; larger
#: ones are a summary (shape, norm).
EDGE_ENTRIES = 6


def edge_text(v: Any, digits: int) -> str:
    """A number; a small vector or matrix with its shape, `2×2 [[1, 2], [3, 4]]`;
    a larger one as `3×5, norm 1.218`."""
    shape = getattr(v, "shape", ())
    if not shape:
        return fmt(float(v), digits)
    import numpy as np

    dims = "×".join(map(str, shape))
    if math.prod(shape) <= EDGE_ENTRIES:
        return f"{dims} {written_out(v, digits)}"
    return _("{shape}, norm {norm}").format(shape=dims, norm=fmt(float(np.linalg.norm(v)), digits))


def _node(result: GradResult, i: int, value: str, grad: str | None, uses: int, live: bool) -> DrawNode:
    g = result.graph
    op = g.ops[i]
    name = g.names[i]
    label = g.labels[i]
    expr = one_line(g.snippet(i, _EXPR_WIDTH), _EXPR_WIDTH)
    if op == INPUT:
        return DrawNode(i, INPUT, label, None, label, expr, value, grad, uses, live)
    if op == CONST:
        literal = g.consts[i][1]
        symbol = f"{literal} = {value}" if literal in CONSTANTS else literal
        return DrawNode(i, CONST, symbol, label if name else None, label, expr, value, grad, uses, live)
    shown = label if name and i != g.output else None  # the result marker names the output
    return DrawNode(i, OP_NODE, op_symbol(op), shown, label, expr, value, grad, uses, live)


def op_symbol(op: str) -> str:
    """How an op node is labelled: its operator for binary infix ops (@ and
    .T too), its name otherwise."""
    if op in TENSOR_OPS:
        return TENSOR_OPS[op].infix or op
    entry = OPS[op]
    return entry.infix if entry.infix and entry.arity == 2 else entry.name


def picture(d: Drawing, fmt: str) -> bytes:
    """The drawing in one of `FORMATS`, as the bytes of a file (svg and png
    are drawn by Graphviz)."""
    if fmt == "text":
        from .graph_text import to_text

        return to_text(d).encode("utf-8")
    if fmt == "mermaid":
        from .graph_mermaid import to_mermaid

        return to_mermaid(d).encode("utf-8")
    from .graph_dot import render, to_dot

    source = to_dot(d)
    return source.encode("utf-8") if fmt == "dot" else render(source, fmt)


def output_path(text: str) -> Path:
    """The -o FILE as given; one that names a folder ('', 'g.txt/', '.', an
    existing directory) is an error, not a file of another name."""
    if not text.strip():
        raise BpcalcError("usage", _("-o needs a file name, e.g. {example}").format(example="-o graph.svg"))
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.name in ("", ".", "..") or path.is_dir():
        raise BpcalcError("usage", _("{option}: that names a folder; give a file name, e.g. {example}").format(
            option=f"-o {text}", example=f"-o {path / 'graph.svg'}"))
    return path


def write_picture(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except IsADirectoryError:
        raise BpcalcError("io", _("cannot write {file}: it is a directory").format(file=path)) from None
    except OSError as exc:
        raise BpcalcError("io", _("cannot write {file}: {reason}").format(
            file=path, reason=os_reason(exc))) from None
