"""The point of evaluation: `--at x=-2,y=5,z=-4` and its checks.

A value is a number or a constant expression in the program language
(`pi/4`, `1/3`, `-1e-3`, `sqrt(2)`), parsed and evaluated by bpcalc itself,
never by Python. Each value keeps its own little graph so that exact mode and
the SymPy check can use the exact number the user wrote (1.1 -> 11/10).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from .errors import BpcalcError, Source, Span
from .graph import Graph
from .lang.tokens import NUMBER

_NAME = re.compile(r"[^\W\d]\w*\Z")


@dataclass(frozen=True)
class AtValue:
    """One input's value: the double, the text as written, and (for text)
    the constant expression's graph for exact arithmetic."""

    name: str
    value: float
    text: str
    graph: Graph | None = None


def split_top_level(text: str) -> list[tuple[int, int]]:
    """(start, end) of each comma-separated piece outside parentheses."""
    pieces = []
    depth = 0
    start = 0
    for k, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            pieces.append((start, k))
            start = k + 1
    pieces.append((start, len(text)))
    return pieces


_PLAIN_NUMBER = re.compile(rf"\s*([-+]?)({NUMBER})\s*\Z")


def constant_value(name: str, text: str) -> AtValue:
    """Evaluate a constant expression (no inputs) given for `name`."""
    from .engine import forward
    from .lang.lower import literal_graph, lower
    from .lang.parser import parse

    source = Source(text, f"the value of {name}")
    plain = _PLAIN_NUMBER.match(text)
    if plain:  # the common case, without the parser: a grading batch reads thousands
        sign, digits = plain.groups()
        value = -float(digits) if sign == "-" else float(digits)
        if math.isfinite(value):
            literal = "-" + digits if sign == "-" else digits
            return AtValue(name, value, text.strip(), literal_graph(source, literal, value, plain.span(2)))
    program = parse(source)
    if len(program.statements) != 1 or program.statements[0].target is not None:
        raise BpcalcError(
            "value", f"the value of {name} must be a single expression, not {text!r}",
            source, Span(0, len(text)),
        )
    graph, _warnings = lower(source, program.statements)
    if graph.inputs:
        unknown = graph.input_names[0]
        i = graph.inputs[0]
        if unknown.lower() in ("nan", "inf", "infinity"):
            raise BpcalcError(
                "value", f"'{unknown}' is not allowed: input values must be finite numbers",
                source, Span(graph.starts[i], graph.ends[i]),
            )
        raise BpcalcError(
            "value",
            f"'{unknown}' is not a number or a known constant "
            "(a value is a number or a constant expression such as pi/4)",
            source, Span(graph.starts[i], graph.ends[i]),
        )
    values, _w = forward(graph, {})
    value = values[graph.output]
    if not math.isfinite(value):
        raise BpcalcError(
            "value", f"{text.strip()} is {value} in double precision: input values must be finite numbers",
            source, Span(0, len(text)),
        )
    return AtValue(name, value, text.strip(), graph)


def number_value(name: str, value: float | int) -> AtValue:
    """A value given as a Python number (through the API)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BpcalcError("value", f"the value of {name} must be a number, got {value!r}")
    if isinstance(value, int):
        return constant_value(name, str(value))
    f = float(value)
    if not math.isfinite(f):
        raise BpcalcError("value", f"{name}={f}: input values must be finite numbers")
    return AtValue(name, f, repr(f), None)


def parse_at(specs: Sequence[str]) -> dict[str, AtValue]:
    """Parse repeated `--at` options: 'x=-2,y=5' 'z=pi/4' -> {name: AtValue}."""
    point: dict[str, AtValue] = {}
    for spec in specs:
        source = Source(spec, "--at")
        for start, end in split_top_level(spec):
            piece = spec[start:end]
            if not piece.strip():
                continue
            lead = len(piece) - len(piece.lstrip())
            start += lead
            piece = piece.strip()
            span = Span(start, start + len(piece))
            if "=" not in piece:
                raise BpcalcError("value", _not_a_pair(piece, point, spec[:start]), source, span)
            name, _, value_text = piece.partition("=")
            name = name.strip()
            if not name:
                raise BpcalcError("value", f"missing name before '=' in '{piece}'", source, span)
            if not _NAME.match(name):
                raise BpcalcError("value", f"'{name}' is not a valid input name", source, span)
            if not value_text.strip():
                raise BpcalcError("value", f"no value after '{name}='", source, span)
            if "=" in value_text and _PAIR_AFTER_SPACE.search(piece):
                pairs = _PAIR_AFTER_SPACE.sub(",", piece)
                raise BpcalcError(
                    "value", f"'{piece}' holds more than one value: separate them with commas: {pairs}", source, span)
            if name in point:
                raise BpcalcError(
                    "value",
                    f"'{name}' is given twice ({name}={point[name].text} and {name}={value_text.strip()})",
                    source, span,
                )
            point[name] = constant_value(name, value_text)
    return point


_PAIR_AFTER_SPACE = re.compile(r"\s*;\s*|\s+(?=[^\W\d]\w*\s*=)")  # 'x=1 y=2', 'x=1;y=2'
_NAME_THEN_VALUE = re.compile(r"([^\W\d]\w*)\s*(?::|\s)\s*(\S.*)\Z")


def _not_a_pair(piece: str, point: dict[str, AtValue], before: str) -> str:
    """What is wrong with a piece of --at that has no '='."""
    if _NAME.match(piece):
        return f"'{piece}' has no value; write {piece}=<number>"
    pair = _NAME_THEN_VALUE.match(piece)
    if pair:
        return f"'{piece}' is not name=value; write {pair.group(1)}={pair.group(2)}"
    last = list(point.values())[-1] if point and before.rstrip().endswith(",") else None
    if last is not None and re.fullmatch(r"[0-9]+", piece) and re.fullmatch(r"-?[0-9]+", last.text):
        return (f"'{piece}' after the comma in {last.name}={last.text},{piece} is not name=value: "
                f"commas separate inputs; for a decimal write {last.text}.{piece}")
    return f"'{piece}' is not name=value (values are separated by commas: x=1,y=2)"


def as_point(at: Mapping[str, object] | None) -> dict[str, AtValue]:
    """Accept API-style values: numbers, constant-expression strings, AtValue."""
    out: dict[str, AtValue] = {}
    for name, v in (at or {}).items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise BpcalcError("value", f"{name!r} is not a valid input name")
        if isinstance(v, AtValue):
            out[name] = v
        elif isinstance(v, str):
            out[name] = constant_value(name, v)
        else:
            out[name] = number_value(name, v)  # type: ignore[arg-type]
    return out


def resolve(graph: Graph, point: Mapping[str, AtValue], wrt: Sequence[str] | None) -> tuple[str, ...]:
    """Check `point` against the program's inputs; return the inputs to report.

    Every input needs a value; every value must belong to an input; `wrt`
    names must be inputs. Raises BpcalcError("value") naming the culprit.
    """
    from .lang.parser import suggest

    inputs = graph.input_names
    missing = [name for name in inputs if name not in point]
    if missing:
        i = graph.inputs[inputs.index(missing[0])]
        plural = "s" if len(missing) > 1 else ""
        them = ", ".join(missing)
        example = ",".join(f"{m}=…" for m in missing)
        raise BpcalcError(
            "value",
            f"missing value{plural} for input{plural} {them}; give {'them' if plural else 'it'} with --at {example}",
            graph.source, Span(graph.starts[i], graph.ends[i]),
        )
    for name in point:
        if name in inputs:
            continue
        if name in graph.names:
            raise BpcalcError(
                "value",
                f"--at {name}: '{name}' is computed by the program, not an input "
                f"(inputs: {', '.join(inputs) or 'none'})",
            )
        raise BpcalcError(
            "value",
            f"--at {name}: the program has no input '{name}' "
            f"(inputs: {', '.join(inputs) or 'none'}){suggest(name, inputs)}",
        )
    if wrt is None:
        return inputs
    chosen: list[str] = []
    for name in wrt:
        if name not in inputs:
            raise BpcalcError(
                "value",
                f"--wrt {name}: the program has no input '{name}' "
                f"(inputs: {', '.join(inputs) or 'none'}){suggest(name, inputs)}",
            )
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)
