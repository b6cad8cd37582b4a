"""Strict RFC 8259 JSON: no NaN/Infinity tokens (non-finite numbers are the
strings "nan", "inf", "-inf" already, see `bpcalc.api.num`); allow_nan=False
turns any slip into an error instead of invalid JSON.

Documents are indented for reading, except large ones (more than
`COMPACT_ABOVE` characters of compact JSON), which stay on one line: Python's
indenting encoder is several times slower than the compact one.
"""

from __future__ import annotations

import json
from itertools import islice
from typing import Any, Iterable, TextIO

COMPACT_ABOVE = 200_000
#: More rows than this make more than COMPACT_ABOVE characters (a node is at
#: least 100): they are streamed, compact, never held as one string.
STREAM_ABOVE = 2000
#: Where the rows go: a string no program text can hold (NUL is refused), as
#: JSON writes it.
_HOLE = "\x00rows\x00"


def dumps(doc: dict[str, Any]) -> str:
    compact = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if len(compact) > COMPACT_ABOVE:
        return compact
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=2)


def error_document(schema: str, error: dict[str, Any]) -> str:
    return dumps({"schema": schema, "error": error})


def write(doc: dict[str, Any], out: TextIO, key: str | None = None, rows: Iterable[dict[str, Any]] = ()) -> None:
    """Print `doc` on `out`, with `rows` as doc[key] if a key is given (a
    generator is fine): a few are printed as `dumps` prints them; many are
    written one by one into a compact document, so memory and time stay
    linear in their number with a small constant."""
    if key is None:
        print(dumps(doc), file=out)
        return
    rows = iter(rows)
    first = list(islice(rows, STREAM_ABOVE + 1))
    if len(first) <= STREAM_ABOVE:
        print(dumps({**doc, key: first}), file=out)
        return
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    head, tail = encode({**doc, key: _HOLE}).split(encode(_HOLE), 1)
    out.write(head + encode(first)[:-1])  # "[row,row,...": the list, still open
    while chunk := list(islice(rows, 10_000)):
        out.write("," + encode(chunk)[1:-1])
    out.write("]" + tail + "\n")
