"""The point of evaluation: `--at x=-2,y=5,z=-4` and its checks.

A value is a number or a constant expression in the program language
(`pi/4`, `1/3`, `-1e-3`, `sqrt(2)`), or a vector or matrix literal
(`[1,-2,0.5]`, `[[0.1,-0.2],[0.4,0.5]]`), parsed and evaluated by bpcalc
itself, never by Python. `--at-file` reads a JSON object of name -> number
or nested list. Each value keeps its own little graph so that exact mode and
the SymPy check can use the exact number the user wrote (1.1 -> 11/10).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import BpcalcError, Source, Span
from .graph import Graph
from .i18n import _, ngettext
from .lang.tokens import NUMBER
from .limits import MAX_RANK

_NAME = re.compile(r"[^\W\d]\w*\Z")


@dataclass(frozen=True)
class AtValue:
    """One input's value: the double (a NumPy array of doubles for a vector
    or matrix), the text as written, and (for a scalar given as text) the
    constant expression's graph for exact arithmetic."""

    name: str
    value: Any  # float, or numpy.ndarray
    text: str
    graph: Graph | None = None


def split_top_level(text: str) -> list[tuple[int, int]]:
    """(start, end) of each comma-separated piece outside parentheses and
    brackets (`x=[1,-2],y=3` is two pieces)."""
    pieces = []
    depth = 0
    start = 0
    for k, ch in enumerate(text):
        if ch == "(" or ch == "[":
            depth += 1
        elif ch == ")" or ch == "]":
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

    source = Source(text, _("the value of {name}").format(name=name))
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
            "value", _("the value of {name} must be a single expression, not {text}").format(name=name, text=repr(text)),
            source, Span(0, len(text)),
        )
    graph, _warnings = lower(source, program.statements)
    if graph.uses_tensors and not graph.inputs:
        from .limits import DEFAULT_LIMITS
        from .tensor import evaluate

        array = evaluate(graph, {}, DEFAULT_LIMITS.max_entries)
        return tensor_value(name, array, text.strip(), source)
    if graph.inputs:
        unknown = graph.input_names[0]
        i = graph.inputs[0]
        if unknown.lower() in ("nan", "inf", "infinity"):
            raise BpcalcError(
                "value", _("'{word}' is not allowed: input values must be finite numbers").format(word=unknown),
                source, Span(graph.starts[i], graph.ends[i]),
            )
        raise BpcalcError(
            "value",
            _("'{word}' is not a number or a known constant "
              "(a value is a number or a constant expression such as pi/4)").format(word=unknown),
            source, Span(graph.starts[i], graph.ends[i]),
        )
    values, _w = forward(graph, {})
    value = values[graph.output]
    if not math.isfinite(value):
        raise BpcalcError(
            "value", _("{text} is {value} in double precision: input values must be finite numbers").format(
                text=text.strip(), value=value),
            source, Span(0, len(text)),
        )
    return AtValue(name, value, text.strip(), graph)


def tensor_value(name: str, array: Any, text: str, source: Source | None = None) -> AtValue:
    """A vector or matrix value; its entries must be finite. (A 0-d array is
    a plain number.)"""
    import numpy as np

    if array.ndim == 0:
        return number_value(name, float(array))
    if not _finite(np, array):
        bad = np.argwhere(~np.isfinite(array))
        index = "[" + ", ".join(str(int(k)) for k in bad[0]) + "]"
        raise BpcalcError("value", _("{name} has {value} at entry {index}: input values must be "
                                     "finite numbers").format(name=name, value=array[tuple(bad[0])], index=index),
                          source, Span(0, len(source.text)) if source else None)
    return AtValue(name, array, text, None)


def _finite(np: Any, array: Any) -> bool:
    """Every entry of `array` is finite: entry by entry for a small array
    (cheaper than pausing NumPy's warnings), else by its sum (`all_finite`)."""
    if array.size < 4096:
        return bool(np.isfinite(array).all())
    from .tensor import all_finite

    with np.errstate(all="ignore"):
        return all_finite(array)


def array_value(name: str, value: object) -> AtValue:
    """A value given as a NumPy array or nested lists of numbers (through
    the API, or from --at-file's JSON)."""
    import numpy as np

    def check(item: object, where: str) -> tuple[int, ...]:
        if isinstance(item, (list, tuple)):
            if not item:
                raise BpcalcError("value", _("{name} is an empty list: a vector needs at least one number").format(
                    name=name + where))
            shapes = [check(x, f"{where}[{k}]") for k, x in enumerate(item)]
            for k, sh in enumerate(shapes[1:], start=1):
                if sh != shapes[0]:
                    raise BpcalcError("value", _("{name} is ragged: {row} has shape {shape}, {first} has {first_shape}; "
                                                 "every row needs the same number of entries").format(
                        name=name, row=f"{name}{where}[{k}]", shape=sh, first=f"{name}{where}[0]", first_shape=shapes[0]))
            return (len(item), *shapes[0])
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise BpcalcError("value", _("{name} must be a number, got {item}").format(name=name + where, item=repr(item)))
        return ()

    if _depth(value) > MAX_RANK:
        raise BpcalcError("value", _("{name} is nested deeper than {limit} levels").format(name=name, limit=MAX_RANK))
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise BpcalcError("value", _("the value of {name} must be an array of numbers, not of {dtype}").format(
                name=name, dtype=value.dtype))
        # read, never written: no copy of a large array (a subclass, such as np.matrix, becomes a plain array)
        array = value if value.__class__ is np.ndarray and value.dtype == np.float64 else np.asarray(value, dtype=float)
    else:
        if not _regular(value):
            check(value, "")  # says what is wrong, and where
        array = np.array(value, dtype=float)
    return tensor_value(name, array, "×".join(map(str, array.shape)) + " array")


_NUMBER_TYPES = (int, float)


def _depth(value: object) -> int:
    """How deeply lists nest in `value` (following first items; 0 for a number)."""
    if hasattr(value, "ndim"):
        return int(value.ndim)  # type: ignore[union-attr]
    depth = 0
    while isinstance(value, (list, tuple)) and value and depth <= MAX_RANK:
        value = value[0]
        depth += 1
    return depth


def _regular(item: object) -> tuple[int, ...] | None:
    """The shape of nested lists of numbers (not bools) all of one shape, or
    None; fast, so that a large --at-file is read quickly."""
    if not isinstance(item, (list, tuple)) or not item:
        return None
    first = item[0]
    if isinstance(first, (list, tuple)):
        inner = _regular(first)
        if inner is None or any(_regular(row) != inner for row in item[1:]):
            return None
        return (len(item), *inner)
    if all(type(x) in _NUMBER_TYPES for x in item):
        return (len(item),)
    return None


def number_value(name: str, value: float | int) -> AtValue:
    """A value given as a Python number (through the API)."""
    if isinstance(value, (list, tuple)) or type(value).__module__ == "numpy":
        if getattr(value, "ndim", None) == 0:
            value = value.item()  # type: ignore[union-attr]
        else:
            return array_value(name, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BpcalcError("value", _("the value of {name} must be a number, got {value}").format(
            name=name, value=repr(value)))
    if isinstance(value, int):
        return constant_value(name, str(value))
    f = float(value)
    if not math.isfinite(f):
        raise BpcalcError("value", _("{pair}: input values must be finite numbers").format(pair=f"{name}={f}"))
    return AtValue(name, f, repr(f), None)


def parse_at(specs: Sequence[str], origin: str = "--at") -> dict[str, AtValue]:
    """Parse repeated `--at` options: 'x=-2,y=5' 'z=pi/4' -> {name: AtValue}.
    `origin` names where the text comes from in messages (a program's `# at:`
    line, a batch record's "at")."""
    point: dict[str, AtValue] = {}
    for spec in specs:
        source = Source(spec, origin)
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
            name, _eq, value_text = piece.partition("=")
            name = name.strip()
            if not name:
                raise BpcalcError("value", _("missing name before '=' in '{text}'").format(text=piece), source, span)
            if not _NAME.match(name):
                raise BpcalcError("value", _("'{name}' is not a valid input name").format(name=name), source, span)
            if not value_text.strip():
                raise BpcalcError("value", _("no value after '{name}='").format(name=name), source, span)
            if "=" in value_text and re.search(_PAIR_AFTER_SPACE, piece):
                pairs = re.sub(_PAIR_AFTER_SPACE, ",", piece)
                raise BpcalcError(
                    "value", _("'{text}' holds more than one value: separate them with commas: {pairs}").format(
                        text=piece, pairs=pairs), source, span)
            if name in point:
                raise BpcalcError(
                    "value",
                    _("'{name}' is given twice ({first} and {second})").format(
                        name=name, first=f"{name}={point[name].text}", second=f"{name}={value_text.strip()}"),
                    source, span,
                )
            point[name] = constant_value(name, value_text)
    return point


def read_at_file(path: Path, max_bytes: int) -> dict[str, AtValue]:
    """--at-file FILE: a JSON object of input name -> number or nested list
    of numbers (strict JSON: no NaN, no duplicate names)."""
    import json

    from .inputs import read_program

    source = read_program(None, path, max_bytes)
    text = source.text

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in pairs:
            if key in seen:
                raise BpcalcError("value", _("{file}: '{name}' is given twice").format(file=path, name=key))
            seen[key] = value
        return seen

    def no_constant(word: str) -> object:
        raise BpcalcError("value", _("{file}: {word} is not allowed: input values must be finite numbers").format(
            file=path, word=word))

    try:
        doc = json.loads(text.lstrip("\ufeff"), object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except json.JSONDecodeError as err:
        offset = len(text) - len(text.lstrip("\ufeff")) + err.pos
        raise BpcalcError("value", _("{file} is not valid JSON: {reason}").format(file=path, reason=err.msg), source,
                          Span(offset, offset + 1)) from None
    if not isinstance(doc, dict):
        raise BpcalcError("value", _("{file}: expected a JSON object of input name -> number or nested list, "
                                     "got {type}").format(file=path, type=type(doc).__name__))
    point: dict[str, AtValue] = {}
    for name, value in doc.items():
        if not _NAME.match(name):
            raise BpcalcError("value", _("{file}: '{name}' is not a valid input name").format(file=path, name=name))
        point[name] = number_value(name, value) if isinstance(value, (int, float)) and not isinstance(
            value, bool) else array_value(name, value)
    return point


# Patterns of the messages about a bad --at, compiled (and cached by `re`)
# when first needed, not at start-up.
_PAIR_AFTER_SPACE = r"\s*;\s*|\s+(?=[^\W\d]\w*\s*=)"  # 'x=1 y=2', 'x=1;y=2'
_NAME_THEN_VALUE = r"([^\W\d]\w*)\s*(?::|\s)\s*(\S.*)\Z"


def _not_a_pair(piece: str, point: dict[str, AtValue], before: str) -> str:
    """What is wrong with a piece of --at that has no '='."""
    if _NAME.match(piece):
        return _("'{name}' has no value; write {name}=<number>").format(name=piece)
    pair = re.match(_NAME_THEN_VALUE, piece)
    if pair:
        return _("'{text}' is not name=value; write {pair}").format(text=piece, pair=f"{pair.group(1)}={pair.group(2)}")
    last = list(point.values())[-1] if point and before.rstrip().endswith(",") else None
    if last is not None and re.fullmatch(r"[0-9]+", piece) and re.fullmatch(r"-?[0-9]+", last.text):
        return _("'{text}' after the comma in {written} is not name=value: "
                 "commas separate inputs; for a decimal write {decimal}").format(
            text=piece, written=f"{last.name}={last.text},{piece}", decimal=f"{last.text}.{piece}")
    return _("'{text}' is not name=value (values are separated by commas: x=1,y=2)").format(text=piece)


def _is_fraction(v: object) -> bool:
    """A fractions.Fraction (without importing fractions at start-up: a value
    can only be one if its module is loaded)."""
    fractions = sys.modules.get("fractions")
    return fractions is not None and isinstance(v, fractions.Fraction)


def as_point(at: Mapping[str, object] | None) -> dict[str, AtValue]:
    """Accept API-style values: numbers, constant-expression strings, AtValue."""
    out: dict[str, AtValue] = {}
    for name, v in (at or {}).items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise BpcalcError("value", _("{name} is not a valid input name").format(name=repr(name)))
        if isinstance(v, AtValue):
            out[name] = v
        elif isinstance(v, str):
            out[name] = constant_value(name, v)
        elif _is_fraction(v):  # exact: Fraction(1, 3) is 1/3, as written
            out[name] = constant_value(name, str(v))
        else:
            out[name] = number_value(name, v)  # type: ignore[arg-type]
    return out


def resolve(graph: Graph, point: Mapping[str, AtValue], wrt: Sequence[str] | None,
            python: bool = False) -> tuple[str, ...]:
    """Check `point` against the program's inputs; return the inputs to report.

    Every input needs a value; every value must belong to an input; `wrt`
    names must be inputs. Raises BpcalcError("value") naming the culprit,
    and the option it came from: --at and --wrt, or (`python`) the API's
    at= and wrt= arguments.
    """
    from .lang.parser import suggest

    def at_option(names: Sequence[str]) -> str:
        if python:
            return "at={" + ", ".join(f"{n!r}: …" for n in names) + "}"
        return "--at " + ",".join(f"{n}=…" for n in names)

    def option(what: str, name: str) -> str:
        return (f"{what}={{{name!r}: …}}" if what == "at" else f"{what}=[{name!r}]") if python else f"--{what} {name}"

    inputs = graph.input_names
    listed = ", ".join(inputs) or _("none")
    missing = [name for name in inputs if name not in point]
    if missing:
        i = graph.inputs[inputs.index(missing[0])]
        raise BpcalcError(
            "value",
            ngettext("missing value for input {names}; give it with {option}",
                     "missing values for inputs {names}; give them with {option}", len(missing)).format(
                names=", ".join(missing), option=at_option(missing)),
            graph.source, Span(graph.starts[i], graph.ends[i]),
        )
    for name in point:
        if name in inputs:
            continue
        if name in graph.names:
            raise BpcalcError(
                "value",
                _("{option}: '{name}' is computed by the program, not an input (inputs: {inputs})").format(
                    option=option("at", name), name=name, inputs=listed),
            )
        raise BpcalcError("value", _no_input(option("at", name), name, listed, suggest(name, inputs)))
    if wrt is None:
        return inputs
    chosen: list[str] = []
    for name in wrt:
        if name not in inputs:
            raise BpcalcError("value", _no_input(option("wrt", name), name, listed, suggest(name, inputs)))
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


_AT_HEADER = r"[ \t]*#[ \t]*at:(.*)"  # compiled (and cached by `re`) when a program has one


def header_point(source: Source) -> dict[str, AtValue]:
    """A program's default point: its `# at: x=-2, y=5` comment lines (any
    number of them, values as --at writes them). --at-file and --at override
    single names."""
    if "at:" not in source.text:
        return {}
    header = re.compile(_AT_HEADER)
    specs = [m.group(1) for line in source.text.splitlines() if (m := header.fullmatch(line))]
    origin = (_("the program's '# at:' line") if source.origin == "<program>"
              else _("{file}: '# at:' line").format(file=source.origin))
    return parse_at(specs, origin=origin)


def _no_input(option: str, name: str, inputs: str, suggestion: str) -> str:
    return _("{option}: the program has no input '{name}' (inputs: {inputs}){suggestion}").format(
        option=option, name=name, inputs=inputs, suggestion=suggestion)
