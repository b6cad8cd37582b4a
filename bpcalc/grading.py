"""Grading a class: the lines of `bpcalc batch --programs` as a TA writes them.

A line is a JSON object: `program`, `at`, claims (`expect`, `expect-value`,
`expect-node`, `expect-node-grad`, `expect-updated` with `lr`), judging
options (`rtol`, `atol`, `decimals`, `sig-figs`, `no-rounding`, overriding
the batch's for that line), and the TA's own `id` (any JSON value) and
`meta` (an object), copied unchanged into the line's record.

A line that cannot be judged (not JSON, an unknown or repeated key, a value
of the wrong type) becomes a `Fault`: an error record for that line, and the
batch goes on. Records can also be written as CSV rows, one per claim
(`csv_rows`), for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Iterator

from .homework import Judging
from .i18n import _

#: Claim keys of a line, in the order their claims are judged.
CLAIM_KEYS = ("expect", "expect-value", "expect-node", "expect-node-grad", "expect-updated")
#: Judging keys of a line (as `bpcalc check`'s options).
JUDGING_KEYS = ("rtol", "atol", "decimals", "sig-figs", "no-rounding")
#: Every key a line may have.
PROGRAM_KEYS = ("id", "meta", "program", "at", *CLAIM_KEYS, "lr", *JUDGING_KEYS)
#: The columns of `--to csv` for --programs.
CSV_COLUMNS = ("line", "id", "claim", "claimed", "correct", "judged_at", "verdict", "error")


class Number(str):
    """A JSON number, kept as written (0.20 stays 0.20: claims are judged to
    their last written digit)."""


@dataclass(frozen=True)
class ProgramLine:
    """One line that can be judged, as read (numbers kept as written)."""

    line: int
    program: str
    at: str  # the record's "at" as `name=value` text: x=-2,y=5
    claims: tuple[tuple[str, str], ...]  # (claim key, `--expect`-style text)
    numbers: dict[str, float] | None  # `at` as floats, when it is an object of plain numbers
    tags: tuple[tuple[str, Any], ...] = ()  # ("id", …), ("meta", …) as given
    judging: tuple[tuple[str, Any], ...] = ()  # the line's own judging keys, checked
    lr: float | None = None


@dataclass(frozen=True)
class Fault:
    """A line that cannot be judged: its error record."""

    line: int
    tags: tuple[tuple[str, Any], ...]
    message: str

    def record(self) -> dict[str, Any]:
        return {"line": self.line, **dict(self.tags), "ok": False,
                "error": {"kind": "value", "message": self.message, "line": None, "column": None}}


class _LineError(Exception):
    """What is wrong with a line (becomes its Fault)."""


def read_line(number: int, text: str) -> ProgramLine | Fault:
    """One non-blank line of a programs file."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen and key not in duplicates:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        from .batch import _reject_constant

        obj = json.loads(text, parse_float=Number, parse_int=Number, parse_constant=_reject_constant,
                         object_pairs_hook=pairs)
    except ValueError as exc:
        return Fault(number, (), f"not valid JSON ({exc})")
    if not isinstance(obj, dict):
        return Fault(number, (), "expected a JSON object such as {\"program\": \"(x+y)*z\", \"at\": {\"x\": -2}}")
    tags = tuple((key, _plain(obj[key])) for key in ("id", "meta") if key in obj and key not in duplicates)
    try:
        if duplicates:
            raise _LineError(f"\"{duplicates[0]}\" is given twice (a key may appear once, as in --at)")
        return _program_line(number, obj, tags)
    except _LineError as err:
        return Fault(number, tags, str(err))


def _program_line(number: int, obj: dict[str, Any], tags: tuple[tuple[str, Any], ...]) -> ProgramLine:
    for key in obj:
        if key not in PROGRAM_KEYS:
            from .lang.parser import suggest

            hint = suggest(key, PROGRAM_KEYS) or suggest(key.replace("_", "-"), PROGRAM_KEYS)
            raise _LineError(f"unknown key \"{key}\" (keys: {', '.join(PROGRAM_KEYS)}){hint}")
    if "meta" in obj and not isinstance(obj["meta"], dict):
        raise _LineError("\"meta\" must be an object, e.g. {\"name\": \"Alice\"}")
    program = obj.get("program")
    if not isinstance(program, str) or isinstance(program, Number):
        raise _LineError("\"program\" must be a string")
    claims = tuple((key, _pairs_text(obj[key], key)) for key in CLAIM_KEYS if key in obj)
    lr = _number(obj, "lr", minimum=None) if "lr" in obj else None
    if any(key == "expect-updated" for key, _ in claims) and lr is None:
        raise _LineError("\"expect-updated\" needs the learning rate: add \"lr\", e.g. \"lr\": 0.5")
    at = obj.get("at", {})
    return ProgramLine(number, program, _pairs_text(at, "at"), claims, _plain_numbers(at), tags,
                       _judging_keys(obj), lr)


def _judging_keys(obj: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The line's judging keys, each checked as `bpcalc check` checks its option."""
    out: list[tuple[str, Any]] = []
    for key in ("rtol", "atol"):
        if key in obj:
            out.append((key, _number(obj, key, minimum=0.0)))
    for key, low, high in (("decimals", 0, 100), ("sig-figs", 1, 17)):
        if key in obj:
            value = obj[key]
            if not isinstance(value, Number) or not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
                raise _LineError(f"\"{key}\" must be a whole number from {low} to {high}")
            out.append((key, int(value)))
    if "decimals" in obj and "sig-figs" in obj:
        raise _LineError("give \"decimals\" or \"sig-figs\", not both")
    if "no-rounding" in obj:
        if not isinstance(obj["no-rounding"], bool):
            raise _LineError("\"no-rounding\" must be true or false")
        out.append(("no-rounding", obj["no-rounding"]))
    return tuple(out)


def _number(obj: dict[str, Any], key: str, minimum: float | None) -> float:
    value = obj[key]
    number = float(value) if isinstance(value, Number) else math.nan
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        raise _LineError(f"\"{key}\" must be a finite number" + (" >= 0" if minimum is not None else ""))
    return number


def line_judging(base: Judging, item: ProgramLine) -> Judging:
    """The batch's judging with the line's own keys over it (a line's
    "decimals" or "sig-figs" replaces both of the batch's)."""
    keys = dict(item.judging)
    judging = base
    if "decimals" in keys or "sig-figs" in keys:
        judging = replace(judging, decimals=keys.get("decimals"), sig_figs=keys.get("sig-figs"))
    if "rtol" in keys:
        judging = replace(judging, rtol=keys["rtol"])
    if "atol" in keys:
        judging = replace(judging, atol=keys["atol"])
    if "no-rounding" in keys:
        judging = replace(judging, as_written=not keys["no-rounding"])
    return judging


def _plain(value: Any) -> Any:
    """A JSON value read with numbers kept as text, back to plain numbers."""
    if isinstance(value, Number):
        return json.loads(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _plain_numbers(at: Any) -> dict[str, float] | None:
    if not isinstance(at, dict) or not all(isinstance(v, Number) for v in at.values()):
        return None
    numbers = {name: float(v) for name, v in at.items()}
    return numbers if all(map(math.isfinite, numbers.values())) else None


def _pairs_text(entry: Any, key: str) -> str:
    """`x=-2,y=5` from {"x": -2, "y": 5} or from a string; a number for
    "expect-value"."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and key != "expect-value":
        from .homework import json_value_text

        texts = {name: json_value_text(value) for name, value in entry.items()}
        for name, text in texts.items():
            if text is None:
                raise _LineError(f"\"{key}\": the value of {name} must be a number, a string "
                                 "or nested lists of numbers")
        return ",".join(f"{name}={text}" for name, text in texts.items())
    shape = "a number" if key == "expect-value" else "an object of name: number pairs"
    raise _LineError(f"\"{key}\" must be {shape}")


# --- errors in the language of the record -----------------------------------------
# Records are for scripts and always in English (`batch.judge_line` computes
# them in English whatever --lang says), so these patterns meet English
# messages; the option names they match are never translated in any language.

_WITH_AT = re.compile(r"give (it|them) with --at ")
_AT_NAME = re.compile(r"--at (\w+):")
_OPTION = re.compile(r"--(at|expect(?:-value|-node-grad|-node|-updated)?)\b")


def record_message(message: str) -> str:
    """An error message about a record: its keys ("at"), not the command
    line's options (--at)."""
    message = _WITH_AT.sub(lambda m: f"give {m.group(1)} in the record's \"at\": ", message)
    message = _AT_NAME.sub(lambda m: f"\"at\": {m.group(1)}:", message)
    return _OPTION.sub(lambda m: f"\"{m.group(1)}\"", message)


# --- CSV rows ---------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, ensure_ascii=False)
    return value


def csv_rows(record: dict[str, Any]) -> str:
    """A record as CSV rows (`CSV_COLUMNS`): one per claim; one for a line
    without claims (its value, with bpcalc's own check as the verdict); one
    for a line in error."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    line, ident = record["line"], _cell(record.get("id"))
    error = record.get("error")
    if error is not None:
        writer.writerow((line, ident, "", "", "", "", "error", error["message"]))
    elif "claims" in record:
        for c in record["claims"]:
            writer.writerow((line, ident, c["what"], c["claimed_text"], _cell(c["correct"]), c["judged"]["how"],
                             "right" if c["ok"] else "wrong", ""))
    else:
        result = record["result"]
        check = result.get("check") or {}
        verdict = "computed" if record["ok"] else "check failed"
        judged = f"bpcalc's check ({check.get('method')})" if check else "not checked"
        writer.writerow((line, ident, "value", "", _cell(result["value"]), judged, verdict, ""))
    return out.getvalue()


def csv_header() -> str:
    return ",".join(CSV_COLUMNS) + "\n"


# --- the summary ------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    lines: int
    right: int
    wrong: int
    errors: int

    def table(self) -> str:
        """The summary on stderr: a small aligned table."""
        from rich.cells import cell_len  # Chinese characters are two columns wide

        heads = (_("lines"), _("all right"), _("some wrong"), _("errors"))
        cells = tuple(f"{n:,}" for n in (self.lines, self.right, self.wrong, self.errors))
        widths = [max(cell_len(h), cell_len(c)) for h, c in zip(heads, cells)]
        return "\n".join("  ".join(" " * (w - cell_len(x)) + x for x, w in zip(row, widths)) for row in (heads, cells))


def statuses(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """'right', 'wrong' or 'error' for each record."""
    for r in records:
        yield "error" if r.get("error") is not None else ("right" if r["ok"] else "wrong")
