"""Strict RFC 8259 JSON: no NaN/Infinity tokens (non-finite numbers are the
strings "nan", "inf", "-inf" already, see `bpcalc.api.num`); allow_nan=False
turns any slip into an error instead of invalid JSON.

Documents are indented for reading, except large ones (more than
`COMPACT_ABOVE` characters of compact JSON), which stay on one line: Python's
indenting encoder is several times slower than the compact one.
"""

from __future__ import annotations

import json
from typing import Any

COMPACT_ABOVE = 200_000


def dumps(doc: dict[str, Any]) -> str:
    compact = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if len(compact) > COMPACT_ABOVE:
        return compact
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=2)


def error_document(schema: str, error: dict[str, Any]) -> str:
    return dumps({"schema": schema, "error": error})
