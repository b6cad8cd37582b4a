"""The computational graph: one node per primitive operation, inputs first.

`Graph` is a frozen structure of arrays (one tuple per field, indexed by node
id) because programs may have millions of nodes; `graph.node(i)` gives a
frozen `Node` view of one node for renderers. Node ids are topological: every
node's arguments have smaller ids, and the inputs are nodes 0..k-1.

Node kinds (`ops[i]`): "input" (a value from --at), "const" (a number, or the
constants pi and e, or a tensor literal [1, 2]: its value is a NumPy array), or
the name of a primitive in `bpcalc.ops.OPS` or `bpcalc.ops.TENSOR_OPS`. A node's
first two arguments are `arg0[i]` and `arg1[i]`, -1 where there is none; the
few nodes with more (max(a, b, c)) keep the rest in `more[i]`, so that the
common one- and two-argument nodes stay plain columns of ints. A tensor op's
keyword arguments (axis=1) are in `params[i]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from .errors import Source, Span
from .i18n import N_, _

INPUT = "input"
CONST = "const"
#: How the table and the picture name the two kinds of leaf in the op column.
_LEAF_WORDS = {INPUT: N_("input"), CONST: N_("const")}


def op_word(op: str) -> str:
    """An op's name in the op column: the op itself ('mul', 'exp'), and for
    a leaf its kind in the current language ('input', 'const')."""
    return _(_LEAF_WORDS[op]) if op in _LEAF_WORDS else op


@dataclass(frozen=True, slots=True)
class Node:
    """A read-only view of one node."""

    id: int
    op: str
    inputs: tuple[int, ...]
    name: str | None
    label: str
    span: Span
    text: str
    literal: str | None  # for constants: the number as written, or "pi" / "e"


@dataclass(frozen=True)
class Graph:
    """The program's computational graph: one tuple per field, indexed by
    node id (see the module's docstring)."""

    source: Source
    ops: tuple[str, ...]
    arg0: tuple[int, ...]
    arg1: tuple[int, ...]
    names: tuple[str | None, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    consts: dict[int, tuple[float, str]]  # const id -> (value, literal as written)
    inputs: tuple[int, ...]
    output: int
    active: tuple[bool, ...]  # depends on an input (so it has a gradient)
    #: node id -> its arguments after the first two, for nodes with three or more
    more: dict[int, tuple[int, ...]] = field(default_factory=dict)
    #: node id -> keyword arguments of a tensor op ((name, value), ...), where given
    params: dict[int, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    #: Derived per-graph data (e.g. the engine's tapes), computed once.
    cache: dict[str, Any] = field(init=False, repr=False, compare=False, default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        """Display label of each node (see `_labels`), computed on first use."""
        labels = self.cache.get("labels")
        if labels is None:
            labels = self.cache["labels"] = _labels(self.names)
        return labels

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def input_names(self) -> tuple[str, ...]:
        found = self.cache.get("input names")
        if found is None:
            names = self.names
            found = self.cache["input names"] = tuple(names[i] or "" for i in self.inputs)
        return found

    def input_id(self, name: str) -> int:
        return self.inputs[self.input_names.index(name)]

    @property
    def uses_tensors(self) -> bool:
        """The program has a tensor literal or a tensor-only operation (its
        inputs may still be vectors or matrices when it has neither)."""
        found = self.cache.get("uses tensors")
        if found is None:
            from .ops import TENSOR_OPS

            found = self.cache["uses tensors"] = bool(self.params) or any(
                op in TENSOR_OPS for op in set(self.ops)) or any(
                not isinstance(v, float) for v, _ in self.consts.values())
        return found

    def args(self, i: int) -> tuple[int, ...]:
        a, b = self.arg0[i], self.arg1[i]
        if b < 0:
            return () if a < 0 else (a,)
        more = self.more
        return (a, b, *more[i]) if more and i in more else (a, b)

    def text(self, i: int) -> str:
        return self.source.text[self.starts[i] : self.ends[i]]

    def node(self, i: int) -> Node:
        literal = self.consts[i][1] if i in self.consts else None
        return Node(
            i, self.ops[i], self.args(i), self.names[i], self.labels[i],
            Span(self.starts[i], self.ends[i]), self.text(i), literal,
        )

    def nodes(self) -> Iterator[Node]:
        return (self.node(i) for i in range(len(self.ops)))

    def reaches_output(self) -> list[bool]:
        """live[i]: node i is the output or an ancestor of it."""
        return self.ancestors([self.output])

    def ancestors(self, roots: list[int]) -> list[bool]:
        """mask[i]: node i is one of `roots` or an ancestor of one."""
        mask = [False] * len(self.ops)
        for r in roots:
            mask[r] = True
        arg0, arg1, more = self.arg0, self.arg1, self.more
        for i in range(max(roots, default=-1), -1, -1):
            if mask[i]:
                a = arg0[i]
                if a >= 0:
                    mask[a] = True
                    b = arg1[i]
                    if b >= 0:
                        mask[b] = True
                        if more and i in more:
                            for c in more[i]:
                                mask[c] = True
        return mask

    def snippet(self, i: int, width: int) -> str:
        """Node i's source text with runs of white space folded to one space,
        cut to `width` characters ('…' marks a cut). Deeply nested programs
        have node texts whose total length grows with the square of the depth;
        everything shown or written uses this bounded form."""
        start, end = self.starts[i], self.ends[i]
        text = " ".join(self.source.text[start : min(end, start + 4 * width + 8)].split())
        if len(text) > width or end - start > 4 * width + 8:
            text = text[: width - 1] + "…"
        return text

    def describe(self, i: int, width: int = 60) -> str:
        """'%3 `exp(-x)`' (or 'q `x + y`'), with the line in multi-line programs."""
        text = self.snippet(i, width)
        if "\n" in self.source.text.strip():
            return _("{label} `{text}` on line {line}").format(
                label=self.labels[i], text=text, line=self.source.line_col(self.starts[i])[0])
        return f"{self.labels[i]} `{text}`"


def _labels(names: tuple[str | None, ...]) -> tuple[str, ...]:
    """Display labels: the program's name; 'name@k' for the k-th of several
    nodes bound to the same name; '%i' for an unnamed node."""
    counts: dict[str, int] = {}
    for n in names:
        if n is not None:
            counts[n] = counts.get(n, 0) + 1
    seen: dict[str, int] = {}
    labels = []
    for i, n in enumerate(names):
        if n is None:
            labels.append(f"%{i}")
        elif counts[n] == 1:
            labels.append(n)
        else:
            k = seen.get(n, 0) + 1
            seen[n] = k
            labels.append(f"{n}@{k}")
    return tuple(labels)
