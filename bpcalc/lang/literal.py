"""Tensor literals: `[1, -2, 0.5]` and `[[0.1, -0.2], [0.4, 0.5]]`.

The parser hands each token between the opening `[` and its matching `]` to a
`LiteralReader`, which checks the nesting as it goes (numbers with an optional
sign, commas, brackets; newlines and comments are spaces) and, at the last
`]`, gives the numbers row by row with the shape. A ragged literal is an error
that names the row and points at it. Only numbers: a vector of variables is an
input (`--at x=[...]`).
"""

from __future__ import annotations

from ..errors import BpcalcError, Source, Span
from ..i18n import _
from ..limits import MAX_RANK
from .tokens import NAME, NUM, OP, SEP

class LiteralReader:
    """Reads one bracketed literal, token by token."""

    def __init__(self, source: Source, start: int, end: int) -> None:
        self.source = source
        self.start = start
        # each open level: [items, start, ...]; an item is a float or a finished row
        self.levels: list[list] = [[[], start]]
        self.expect_item = True
        self.sign: str | None = None
        self.sign_start = 0

    def fail(self, message: str, start: int, end: int) -> BpcalcError:
        return BpcalcError("parse", message, self.source, Span(start, max(end, start + 1)))

    def feed(self, kind: int, piece: str, start: int, end: int) -> tuple | None:
        """Take one token; at the closing bracket, the finished literal
        (values, shape, text) for the parser's ("tensor", ...) item."""
        if kind == SEP:
            if piece == ";":
                raise self.fail(_("';' inside a [...] literal"), start, end)
            return None  # a newline inside brackets is a space
        items = self.levels[-1][0]
        if self.expect_item:
            if kind == NUM:
                value = float(piece)
                items.append(-value if self.sign == "-" else value)
                self.sign = None
                self.expect_item = False
                return None
            if piece in ("-", "+") and self.sign is None:
                self.sign, self.sign_start = piece, start
                return None
            if piece == "[" and self.sign is None:
                if len(self.levels) >= MAX_RANK:
                    raise self.fail(_("a [...] literal nested deeper than {limit} levels").format(limit=MAX_RANK),
                                    start, end)
                self.levels.append([[], start])
                return None
            if piece == "]" and self.sign is None:
                if not items:
                    raise self.fail(_("an empty [] literal: a vector needs at least one number"), self.levels[-1][1], end)
                return self._close(start, end)  # a trailing comma, as Python allows
            if kind == NAME:
                raise self.fail(
                    _("'{token}' inside [...]: a literal holds numbers only; give a vector or matrix of "
                      "variables as an input (--at x=[1,2]) or build it with arithmetic").format(token=piece),
                    start, end)
            raise self.fail(_("expected a number in the [...] literal, got '{token}'").format(token=piece), start, end)
        if piece == ",":
            self.expect_item = True
            return None
        if piece == "]":
            return self._close(start, end)
        if kind == NUM or kind == NAME or piece == "[":
            raise self.fail(_("missing ',' between the entries of the [...] literal, before '{token}'").format(
                token=piece), start, end)
        if kind == OP and piece in "+-*/^@":
            raise self.fail(_("'{token}' inside [...]: a literal holds numbers only "
                              "(write the arithmetic outside the brackets)").format(token=piece), start, end)
        raise self.fail(_("unexpected '{token}' in the [...] literal").format(token=piece), start, end)

    def _close(self, start: int, end: int) -> tuple | None:
        items, open_at = self.levels.pop()[:2]
        kinds = {isinstance(x, tuple) for x in items}
        if len(kinds) > 1:
            row = next(x for x in items if isinstance(x, tuple))
            raise self.fail(_("a [...] literal mixes numbers and rows at the same level"), row[1], row[2])
        if kinds == {True}:  # rows: all of one shape
            first = items[0]
            for k, row in enumerate(items[1:], start=2):
                if row[3] != first[3]:
                    raise self.fail(
                        _("ragged literal: row {row} has shape {shape}, row 1 has {first}; "
                          "every row needs the same number of entries").format(
                            row=k, shape=_shape(row[3]), first=_shape(first[3])), row[1], row[2])
            shape = (len(items), *first[3])
            flat = [v for row in items for v in row[0]]
        else:
            shape = (len(items),)
            flat = items
        self.expect_item = False
        if self.levels:
            self.levels[-1][0].append((flat, open_at, end, shape))
            return None
        return (tuple(flat), shape, self.source.text[self.start:end])


def _shape(shape: tuple[int, ...]) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else str(shape)
