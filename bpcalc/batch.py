"""`bpcalc batch`: one program at many points (vectorized), or many programs.

Points mode reads points from CSV (a header row naming the inputs, one point
per line) or JSONL (one object {input: value} per line), streams them in
chunks through the vectorized engine (`bpcalc.vector`), recomputes the few
points it marks as suspect with the scalar engine (so their domain errors,
kinks, overflow and underflow are reported exactly as `bpcalc grad` reports
them), and yields one `PointRow` per point, in input order. Memory is bounded
by the chunk size, whatever the number of points.

Columns of a point that are not inputs (id, name) are carried into its row,
with the point's input values as written. `--reduce sum|mean` writes one
record instead: the loss and its gradient summed (or averaged) over the points.

Programs mode (`run_programs`) reads JSONL lines (read by `grading`: program,
at, claims, judging keys, id, meta) and judges each one as `bpcalc check`
does (with `homework`'s own functions), in one process or in `jobs`
processes, writing one JSONL record (or CSV rows) per line in input order. A
line that cannot be read gets an error record and the batch goes on. Each
process keeps one long-lived SymPy worker (`BudgetWorker`) for the checks,
instead of forking a child per check.

Bad points input (a malformed line, a value that is not a number, an input
with no column) raises BpcalcError naming the line; per-point domain errors
are not bad input: they are reported in their row.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import itertools
import json
import math
import operator
import os
import pickle
import select
import signal
import stat
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence, TextIO

from .errors import BpcalcError, Source, os_reason
from .graph import Graph
from .i18n import _, ngettext, speaking
from .limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from .homework import Judging

#: Points per chunk read from the input and handed to the vectorized engine.
READ_CHUNK = 16384
#: Longest input line accepted, in characters (memory stays bounded).
MAX_LINE = 1 << 20
#: Formats of points and of results.
CSV, JSONL = "csv", "jsonl"
FORMATS = (CSV, JSONL)


class PointRow(NamedTuple):
    """The result at one point: `line` is the point's line in the input.
    (Immutable like a frozen dataclass, and cheaper to make a million of.)"""

    line: int
    value: float | None
    gradient: tuple[Any, ...] | None  # in the order of `wrt`: floats; NumPy arrays for vectors and matrices
    warnings: tuple[str, ...]
    error: str | None
    carried: "Carried | None" = None  # the point's own columns, unchanged: id, name, the inputs


# --- reading points -----------------------------------------------------------


def bounded_lines(stream: TextIO, origin: str, on_read: Callable[[int], None] | None = None) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline), never holding more than one
    line of at most MAX_LINE characters."""
    number = 0
    while True:
        try:
            line = stream.readline(MAX_LINE + 1)
        except UnicodeDecodeError as exc:
            raise line_error(origin, number + 1, _("invalid UTF-8 ({reason})").format(reason=exc.reason)) from None
        if not line:
            return
        number += 1
        if on_read is not None:
            on_read(len(line))
        if len(line) > MAX_LINE and not line.endswith("\n"):
            raise line_error(origin, number, _("the line is longer than {count} characters").format(
                count=f"{MAX_LINE:,}"))
        yield number, line.rstrip("\r\n")


def line_error(origin: str, line: int, message: str) -> BpcalcError:
    return BpcalcError("value", _("{origin}: line {line}: {message}").format(origin=origin, line=line,
                                                                             message=message))


def sniff_format(first: str) -> str:
    """JSONL if the first non-blank line starts with '{', else CSV."""
    return JSONL if first.lstrip().startswith("{") else CSV


def _number(name: str, text: str, origin: str, line: int) -> float:
    """A point's value: a plain number (fast), else a constant expression in
    the bpcalc language (pi/4), evaluated by bpcalc itself, never by Python."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if math.isfinite(v) and "_" not in text:
        return v
    from .point import constant_value

    try:
        return constant_value(name, text).value
    except BpcalcError as err:
        raise line_error(origin, line, _("{name}: {message}").format(name=name, message=err.message)) from None


def _numbers(names: Sequence[str], texts: list[str], origin: str, line: int) -> list[float]:
    """The values of one point: all plain numbers (the fast, common case),
    else value by value with `_number`."""
    try:
        point = list(map(float, texts))
        if math.isfinite(sum(point)) and "_" not in "".join(texts):
            return point
    except ValueError:
        pass
    return [_number(name, text, origin, line) for name, text in zip(names, texts)]


#: A point's own columns as written: (names, values); the names of a CSV
#: file's rows are one shared tuple.
Carried = tuple[tuple[str, ...], tuple[Any, ...]]
Chunk = tuple[list[int], list[list[float]], list[Carried]]


def read_points(
    lines: Iterable[tuple[int, str]], fmt: str, inputs: Sequence[str], origin: str, chunk: int = READ_CHUNK
) -> Iterator[Chunk]:
    """Chunks of (line numbers, points, carried columns): each point a list
    of floats in the order of `inputs`; each point's columns as written
    (those that are not inputs, such as id or name, then the inputs), to be
    repeated in its result row."""
    parse = _csv_points if fmt == CSV else _jsonl_points
    numbers: list[int] = []
    points: list[list[float]] = []
    carried: list[Carried] = []
    try:
        for number, point, columns in parse(lines, inputs, origin):
            numbers.append(number)
            points.append(point)
            carried.append(columns)
            if len(points) >= chunk:
                yield numbers, points, carried
                numbers, points, carried = [], [], []
    except BpcalcError:
        if points:  # the points before the bad line still get their rows
            yield numbers, points, carried
        raise
    if points:
        yield numbers, points, carried


def _columns_order(header: list[str], inputs: Sequence[str], origin: str, line: int) -> tuple[list[int], list[int]]:
    """For each input, its column in the header; and the columns carried
    into the results (those that are not inputs, then the inputs). Errors
    name what is wrong."""
    names = [h.strip() for h in header]
    seen: set[str] = set()
    for h in names:
        if h in seen:
            raise line_error(origin, line, _("column '{name}' appears twice").format(name=h))
        seen.add(h)
    missing = [name for name in inputs if name not in seen]
    if missing:
        from .lang.parser import suggest

        others = tuple(h for h in names if h not in inputs)
        hint = suggest(missing[0], others)
        message = ngettext("no column for input {names}{hint} (columns that are not inputs are carried into the "
                           "results)", "no column for inputs {names}{hint} (columns that are not inputs are "
                           "carried into the results)", len(missing))
        raise line_error(origin, line, message.format(names=", ".join(missing), hint=hint))
    order = [names.index(name) for name in inputs]
    return order, [k for k, h in enumerate(names) if h not in inputs] + order


def _csv_points(lines: Iterable[tuple[int, str]], inputs: Sequence[str],
                origin: str) -> Iterator[tuple[int, list[float], Carried]]:
    order: list[int] | None = None
    names: tuple[str, ...] = ()
    pick: Callable[[list[str]], tuple[str, ...]] = lambda cells: ()
    width = 0
    at = [0]  # the line the reader is on

    def texts() -> Iterator[str]:
        for number, text in lines:
            at[0] = number
            yield text

    reader = csv.reader(texts())
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise line_error(origin, at[0], _("not valid CSV ({reason})").format(reason=exc)) from None
        if cells is None:
            break
        number = at[0]
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if order is None:
            order, carry = _columns_order(cells, inputs, origin, number)
            names = tuple(cells[k].strip() for k in carry)
            pick = operator.itemgetter(*carry) if len(carry) > 1 else (lambda cells, k=carry[0]: (cells[k],))
            width = len(cells)
            continue
        if len(cells) != width:
            raise line_error(origin, number, _("{count} values where the header has {width} columns").format(
                count=len(cells), width=width))
        texts = [cells[k] for k in order]
        yield number, _numbers(inputs, texts, origin, number), (names, pick(cells))
    if order is None and inputs:
        raise BpcalcError("value", _("{origin}: no header line: the first line names the inputs ({inputs})").format(
            origin=origin, inputs=",".join(inputs)))


def _reject_constant(name: str) -> Any:
    # in English, as the json module's own messages (a programs line's record quotes it)
    raise ValueError(f"{name} is not a JSON number")


def _json_object(text: str, origin: str, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise line_error(origin, number, _("not valid JSON ({reason})").format(reason=exc)) from None
    if not isinstance(obj, dict):
        raise line_error(origin, number, _("expected a JSON object"))
    return obj


def _jsonl_points(lines: Iterable[tuple[int, str]], inputs: Sequence[str],
                  origin: str, arrays: bool = False) -> Iterator[tuple[int, list[Any], Carried]]:
    """The points of JSONL lines; with `arrays` (a program with vectors or
    matrices) a value may also be a nested list, read as a NumPy array."""
    wanted = set(inputs)
    for number, text in lines:
        if not text.strip():
            continue
        obj = _json_object(text, origin, number)
        names = (*(k for k in obj if k not in wanted), *(name for name in inputs if name in obj))
        point = []
        for name in inputs:
            if name not in obj:
                raise line_error(origin, number, _("no value for input {name}").format(name=name))
            v = obj[name]
            if arrays and isinstance(v, list):
                point.append(_array(name, v, origin, number))
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                expected = (_("{name}: expected a number or a nested list of numbers, got {value}") if arrays
                            else _("{name}: expected a number, got {value}"))
                raise line_error(origin, number, expected.format(name=name, value=json.dumps(v)))
            point.append(v if v.__class__ is float and math.isfinite(v) else _number(name, str(v), origin, number))
        yield number, point, (names, tuple(obj[k] for k in names))


def _array(name: str, value: list, origin: str, line: int) -> Any:
    """A vector or matrix of a point, as `--at-file` reads one."""
    from .point import array_value

    try:
        return array_value(name, value).value
    except BpcalcError as err:
        raise line_error(origin, line, err.message) from None


# --- computing ----------------------------------------------------------------


def point_rows(graph: Graph, chunks: Iterable[Chunk], wrt: Sequence[str]) -> Iterator[PointRow]:
    """The result row of every point, in order (vectorized, with the scalar
    engine for the points the vectorized engine marks as suspect)."""
    import numpy as np

    from .vector import evaluate

    inputs = graph.input_names
    for numbers, points, carried in chunks:
        table = np.array(points, dtype=np.float64).reshape(len(points), len(inputs))
        batch = evaluate(graph, {name: table[:, j] for j, name in enumerate(inputs)}, wrt)
        values = batch.value.tolist()
        grads = batch.gradient.T.tolist()
        suspect = batch.suspect.tolist()
        sensitive = batch.sensitive.tolist()
        for k, number in enumerate(numbers):
            if suspect[k]:
                row = scalar_row(graph, number, dict(zip(inputs, points[k])), wrt)._replace(carried=carried[k])
                yield row._replace(warnings=(*row.warnings, ILL_CONDITIONED)) if sensitive[k] else row
            else:
                yield PointRow(number, values[k], tuple(grads[k]), (), None, carried[k])


#: The warning of a row where rounding alone moves the result (computed by
#: the scalar engine, as `bpcalc grad` computes it).
ILL_CONDITIONED = ("ill-conditioned point: a last-bit difference in one operation moves this result by more "
                   "than 1e-11 relative; these are bpcalc grad's numbers (its check compares them with SymPy's "
                   "exact values)")


def tensor_rows(graph: Graph, points: Iterable[tuple[int, list[Any], Carried]], wrt: Sequence[str],
                limits: Limits = DEFAULT_LIMITS) -> Iterator[PointRow]:
    """The result row of every point of a program with vectors or matrices,
    one point at a time through the tensor engine, as `bpcalc grad` computes
    it: a vector or matrix gradient is a NumPy array (None for class-index
    data); a point whose shapes do not fit, or where an operation is
    undefined, gets the error in its row."""
    from . import tensor
    from .api import scalar_or_array

    ids = [graph.input_id(name) for name in wrt]
    for number, values, carried in points:
        point = dict(zip(graph.input_names, values))
        with speaking("en"):  # the rows are for scripts
            try:
                computed, adjoints, said = tensor.value_and_grad(graph, point, ids, limits.max_entries)
            except BpcalcError as err:
                failed = err.message
            else:
                failed = None
        if failed is not None:
            yield PointRow(number, None, None, (), failed, carried)
            continue
        yield PointRow(number, float(computed[graph.output]), tuple(scalar_or_array(adjoints[i]) for i in ids),
                       tuple(d.message for d in said), None, carried)


def scalar_row(graph: Graph, line: int, point: Mapping[str, float], wrt: Sequence[str]) -> PointRow:
    """One point through the scalar engine, exactly as `bpcalc grad` computes
    it; its error and warnings in English, whatever the language of the
    summary (the rows are for scripts)."""
    from .engine import backward, forward

    with speaking("en"):
        try:
            values, fw = forward(graph, point)
        except BpcalcError as err:
            return PointRow(line, None, None, (), err.message)
        adjoints, bw = backward(graph, values)
    gradient = tuple(0.0 if (a := adjoints[graph.input_id(name)]) is None else a for name in wrt)
    return PointRow(line, values[graph.output], gradient, tuple(d.message for d in (*fw, *bw)), None)


# --- writing results ----------------------------------------------------------


def csv_header(wrt: Sequence[str], carried: Sequence[str] = ()) -> list[str]:
    """The columns of the results: the line, the point's own columns (carried),
    the value, the gradient, the error and the warnings."""
    header = ["line", *carried, "value", *(f"grad_{name}" for name in wrt), "error", "warnings"]
    clash = next((name for name in carried if header.count(name) > 1), None)
    if clash is not None:
        raise BpcalcError("value", _("the points have a column '{name}', which is also a column of the results: "
                                     "rename it").format(name=clash))
    return header


def _carried_cell(value: Any) -> Any:
    """A carried column in CSV: text as it is; a JSON value as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def csv_record(row: PointRow, width: int, carried: Sequence[str] = ()) -> tuple:
    """The CSV cells of a row: floats as their shortest round-trip text
    ('inf', '-inf', 'nan' included), None as an empty cell."""
    grads = map(_number_cell, row.gradient) if row.gradient is not None else (None,) * width
    columns = dict(zip(*row.carried)) if row.carried else {}
    cells = (_carried_cell(columns[name]) if name in columns else None for name in carried)
    return (row.line, *cells, row.value, *grads, row.error, " | ".join(row.warnings))


def _number_cell(g: Any) -> Any:
    """A gradient in a CSV cell: a number as it is; a vector or matrix as
    JSON text ([[1.5, 2], [0, -1]])."""
    if g is None or isinstance(g, float):
        return g
    from .api import jsonable

    return json.dumps(jsonable(g), allow_nan=False, separators=(",", ":"))


def jsonl_record(row: PointRow, wrt: Sequence[str]) -> str:
    from .api import jsonable, num

    doc = {
        "line": row.line,
        **({} if row.carried is None else {"point": dict(zip(*row.carried))}),
        "value": num(row.value),
        "gradient": None if row.gradient is None else {name: jsonable(g) for name, g in zip(wrt, row.gradient)},
        "warnings": list(row.warnings),
        "error": row.error,
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@dataclass
class Tally:
    """What happened over a whole batch (for the summary line and exit code)."""

    rows: int = 0
    errors: int = 0
    warned: int = 0
    failed: int = 0  # programs mode: lines not ok (wrong answers and errors)
    right: int = 0  # programs mode: lines whose every claim holds

    @property
    def summary(self) -> str:
        """'' when every row is clean, else what to look at."""
        parts = []
        if self.errors:
            parts.append(_("{count} with errors").format(count=f"{self.errors:,}"))
        if self.warned:
            parts.append(_("{count} with warnings").format(count=f"{self.warned:,}"))
        if self.failed:
            parts.append(_("{count} not ok").format(count=f"{self.failed:,}"))
        if not parts:
            return ""
        listed = parts[0]
        for part in parts[1:]:
            listed = _("{first}, {second}").format(first=listed, second=part)
        return ngettext("{rows} row; {parts} (see their rows)", "{rows} rows; {parts} (see their rows)",
                        self.rows).format(rows=f"{self.rows:,}", parts=listed)

    def programs_summary(self) -> str:
        """--programs: the summary table (lines, all right, some wrong, errors)."""
        from .grading import Summary

        return Summary(self.rows, self.right, self.failed - self.errors, self.errors).table()

    @property
    def exit_code(self) -> int:
        """0, or 1 when a judged program did not hold (as `bpcalc check`).
        Points with domain errors are results, reported in their rows."""
        return 1 if self.failed else 0


def write_point_rows(rows: Iterable[PointRow], fmt: str, wrt: Sequence[str], out: TextIO,
                     tensor: bool = False) -> Tally:
    """Write result rows as they come; returns the tally. (`tensor`: the
    gradients may be vectors or matrices, written as JSON text in CSV.)"""
    tally = Tally()
    if fmt == CSV:
        writer = csv.writer(out, lineterminator="\n")
        rows = iter(rows)
        first = next(rows, None)
        carried = first.carried[0] if first is not None and first.carried else ()
        writer.writerow(csv_header(wrt, carried))
        width = len(wrt)
        write = out.write
        sep = "," if width else ""
        commas = len(carried) - 1
        for row in itertools.chain((first,) if first is not None else (), rows):
            texts = _plain_cells(row.carried, carried, commas)
            if row.error is None and not row.warnings and texts is not None and not tensor:
                # numbers and plain text only: nothing to quote
                write(f"{row.line},{texts}{row.value!r}{sep}{','.join(map(repr, row.gradient))},,\n")
                tally.rows += 1
            else:
                writer.writerow(csv_record(row, width, carried))
                _count(tally, row)
    else:
        for row in rows:
            out.write(jsonl_record(row, wrt) + "\n")
            _count(tally, row)
    return tally


def _plain_cells(columns: Carried | None, names: tuple[str, ...], commas: int) -> str | None:
    """The carried cells as CSV text ending in a comma, when they are the
    header's columns and texts that need no quotes; else None."""
    if columns is None:
        return "" if not names else None
    if columns[0] is not names and columns[0] != names:
        return None
    if not names:
        return ""
    try:
        text = ",".join(columns[1])
    except TypeError:  # a JSON value, not text
        return None
    if text.count(",") != commas or '"' in text or "\n" in text or "\r" in text:
        return None
    return text + ","


def _count(tally: Tally, row: PointRow) -> None:
    tally.rows += 1
    if row.error is not None:
        tally.errors += 1
    elif row.warnings:
        tally.warned += 1


def run_points(
    source: Source, wrt: Sequence[str] | None, stream: TextIO, origin: str, in_fmt: str | None,
    out_fmt: str | None, out: TextIO, on_read: Callable[[int], None] | None = None,
    warn: Callable[[str], None] | None = None, limits: Limits = DEFAULT_LIMITS, reduce: str | None = None,
) -> Tally:
    """Points mode from start to end: build `source`, read points from
    `stream`, write result rows to `out`. Formats default to the input's
    (sniffed when not given); the program's own warnings go to `warn` once."""
    from .api import without_gc
    from .lang.lower import build
    from .point import resolve

    with without_gc():
        graph, warnings = build(source, limits)
    chosen = resolve(graph, dict.fromkeys(graph.input_names), wrt)
    for w in warnings:
        if warn is not None:
            warn(w.message)
    lines = bounded_lines(stream, origin, on_read)
    head: list[tuple[int, str]] = []
    for number, text in lines:
        if text.strip():
            head.append((number, text))
            break
    fmt = in_fmt or format_of(origin) or sniff_format(head[0][1] if head else "")
    if graph.uses_tensors:  # vectors and matrices: point by point through the tensor engine
        chained = itertools.chain(head, lines)
        points = (_csv_points(chained, graph.input_names, origin) if fmt == CSV
                  else _jsonl_points(chained, graph.input_names, origin, arrays=True))
        rows = tensor_rows(graph, points, chosen, limits)
    else:
        rows = point_rows(graph, read_points(itertools.chain(head, lines), fmt, graph.input_names, origin), chosen)
    if reduce is not None:
        return write_reduced(reduced(rows, len(chosen), reduce), out_fmt or fmt, chosen, out)
    return write_point_rows(rows, out_fmt or fmt, chosen, out, graph.uses_tensors)


# --- the loss over a data set (--reduce) ------------------------------------------

REDUCTIONS = ("sum", "mean")


class Reduced(NamedTuple):
    """A loss summed (or averaged) over every point: L = Σ_n C^n and
    ∂L/∂w = Σ_n ∂C^n/∂w; the mean divides both by the number of rows.
    Undefined (None) when a point's value is: `error` names its line."""

    how: str
    rows: int
    value: float | None
    gradient: tuple[Any, ...] | None  # floats; NumPy arrays for vectors and matrices
    warnings: tuple[str, ...]
    error: str | None


def reduced(rows: Iterable[PointRow], width: int, how: str) -> Reduced:
    """Sum (or mean) of the rows' values and gradients, each sum correctly
    rounded (math.fsum: the order of the rows does not matter)."""
    if how not in REDUCTIONS:
        raise BpcalcError("usage", _("--reduce {how}: the reductions are {first} and {second}").format(
            how=how, first=REDUCTIONS[0], second=REDUCTIONS[1]))
    values: list[float] = []
    grads: list[list[float]] = [[] for _ in range(width)]
    warnings: dict[str, None] = {}
    error: str | None = None
    n = 0
    for row in rows:
        n += 1
        if row.error is not None or row.value is None or row.gradient is None:
            error = error or f"line {row.line}: {row.error}"
            continue
        values.append(row.value)
        for column, g in zip(grads, row.gradient):
            column.append(g)
        warnings.update((f"line {row.line}: {w}", None) for w in row.warnings)
    if error is not None or n == 0:
        return Reduced(how, n, None, None, tuple(warnings), error or "no points to reduce")
    scale = 1.0 if how == "sum" else 1.0 / n
    with _finite_sum():
        total = math.fsum(values) * scale
        gradient = tuple(_fsum(column, scale) for column in grads)
    return Reduced(how, n, total, gradient, tuple(warnings), None)


def _fsum(column: list[Any], scale: float) -> Any:
    """math.fsum of numbers times `scale`; of vectors or matrices, entry by
    entry; None for class-index data (no gradient)."""
    if not column or isinstance(column[0], float):
        return math.fsum(column) * scale
    if column[0] is None:
        return None
    import numpy as np

    flat = np.array([np.ravel(g) for g in column])
    return np.array([math.fsum(entry) * scale for entry in flat.T]).reshape(np.shape(column[0]))


@contextlib.contextmanager
def _finite_sum() -> Iterator[None]:
    """fsum of infinities of both signs raises; such a sum is nan."""
    try:
        yield
    except (OverflowError, ValueError):
        raise BpcalcError("domain", _("the sum over the points is not a number (infinities of both signs)")) from None


def write_reduced(result: Reduced, fmt: str, wrt: Sequence[str], out: TextIO) -> Tally:
    """The one record of --reduce: how, the number of rows, value, gradient."""
    from .api import jsonable, num

    if fmt == CSV:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["reduce", "rows", "value", *(f"grad_{name}" for name in wrt), "error", "warnings"])
        grads = map(_number_cell, result.gradient) if result.gradient is not None else (None,) * len(wrt)
        writer.writerow([result.how, result.rows, result.value, *grads, result.error, " | ".join(result.warnings)])
    else:
        doc = {
            "reduce": result.how,
            "rows": result.rows,
            "value": num(result.value),
            "gradient": None if result.gradient is None else {n: jsonable(g) for n, g in zip(wrt, result.gradient)},
            "warnings": list(result.warnings),
            "error": result.error,
        }
        out.write(json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n")
    return Tally(rows=1, errors=int(result.error is not None), warned=int(bool(result.warnings)))


#: UTF-8; a byte-order mark at the start (Excel writes one) is skipped, not a character of the header.
ENCODING = "utf-8-sig"


@contextlib.contextmanager
def open_text(path: str) -> Iterator[tuple[TextIO, str, int | None]]:
    """(UTF-8 text stream, name for messages, size in bytes or None) of a
    file, or of stdin for '-'."""
    if path == "-":
        yield io.TextIOWrapper(sys.stdin.buffer, encoding=ENCODING, newline=""), "<stdin>", None
        return
    try:
        f = open(path, encoding=ENCODING, newline="")
        size = os.fstat(f.fileno()).st_size
    except IsADirectoryError:
        raise BpcalcError("io", _("{path} is a directory, not a file").format(path=path)) from None
    except OSError as exc:
        raise BpcalcError("io", _("cannot read {path}: {reason}").format(
            path=path, reason=os_reason(exc))) from None
    with f:
        yield f, path, size if stat.S_ISREG(os.fstat(f.fileno()).st_mode) else None


def format_of(path: str) -> str | None:
    """The format a file name says (.csv, .jsonl, .ndjson, .json), else None."""
    lower = path.lower()
    if lower.endswith(".csv"):
        return CSV
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return JSONL
    return None


# --- progress -----------------------------------------------------------------


class _Advance:
    """Advances a rich progress bar every 64 KiB read, not on every line
    (each update takes a lock and would cost more than the line's work)."""

    def __init__(self, bar: Any, task: Any) -> None:
        self.bar, self.task, self.pending = bar, task, 0

    def __call__(self, n: int) -> None:
        self.pending += n
        if self.pending >= 1 << 16:
            self.bar.advance(self.task, self.pending)
            self.pending = 0


@contextlib.contextmanager
def progress(enabled: bool, total: int | None, what: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr (bytes of input read) when `enabled`, else None."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True, redirect_stdout=False, redirect_stderr=False,
    ) as bar:
        yield _Advance(bar, bar.add_task(what, total=total))


# --- many programs ------------------------------------------------------------

PROGRAMS_SCHEMA = "bpcalc.batch/1"


@dataclass(frozen=True)
class Judged:
    """The options every line is judged with (a line's own keys override
    `judging` for that line)."""

    check: bool = True
    budget: float = 10.0
    origin: str = "<programs>"
    judging: "Judging | None" = None  # None: homework's defaults
    out_fmt: str = JSONL


def read_program_lines(lines: Iterable[tuple[int, str]]) -> Iterator[Any]:
    """The lines of a programs file: a `grading.ProgramLine` for each line that
    can be judged, a `grading.Fault` (its error record) for each that cannot."""
    from .grading import read_line

    for number, text in lines:
        if text.strip():
            with speaking("en"):  # a Fault's message is its record's: English
                item = read_line(number, text)
            yield item


def judge_line(item: Any, judged: Judged) -> dict[str, Any]:
    """One line's result record: what `bpcalc check --json` says about its
    claims (or `bpcalc grad` when it has none), or the error it meets; in
    English whatever the language of the summary (records are for scripts,
    and `grading.record_message` reads the English messages)."""
    with speaking("en"):
        return _judge_line(item, judged)


def _judge_line(item: Any, judged: Judged) -> dict[str, Any]:
    from .api import check_to_dict, grad, jsonable
    from .grading import Fault, line_judging, record_message
    from .homework import Judging
    from .point import parse_at

    if isinstance(item, Fault):
        return item.record()
    record: dict[str, Any] = {"line": item.line, **dict(item.tags)}
    try:
        # Without the SymPy check the doubles are all that matter; with it, the
        # numbers as written (1.1 is 11/10 for SymPy), as `--at` reads them.
        fast = not judged.check and item.numbers is not None
        at = item.numbers if fast else parse_at([item.at] if item.at else [], origin='"at"')
        result = grad(item.program, at, check=judged.check,
                      budget=judged.budget, origin=f"{judged.origin}: line {item.line}")
        if item.lr is not None:
            result = dataclasses.replace(result, lr=item.lr)
        summary = {
            "value": jsonable(result.value),
            "gradient": {name: jsonable(v) for name, v in result.gradient.items()},
            "check": check_to_dict(result.check),
            "warnings": [w.message for w in result.warnings],
        }
        if item.lr is not None:
            summary["updated"] = {name: jsonable(v) for name, v in result.updated.items()}
        if item.claims:
            from .homework import GRADIENT, NODE_GRAD, NODE_VALUE, UPDATED, VALUE, judge_claims, parse_claims
            from .render.check import check_document

            kinds = {"expect": GRADIENT, "expect-value": VALUE, "expect-node": NODE_VALUE,
                     "expect-node-grad": NODE_GRAD, "expect-updated": UPDATED}
            claims = [c for key, text in item.claims for c in parse_claims(kinds[key], text)]
            judging = line_judging(judged.judging or Judging(), item)
            document = check_document(judge_claims(result, claims, judging), result_document=summary)
            record.update(ok=document["ok"], **{k: v for k, v in document.items() if k not in ("schema", "ok")})
        else:
            record.update(ok=result.ok, result=summary)
        record["error"] = None
    except BpcalcError as err:
        error = err.to_dict()
        error["message"] = record_message(err.message)
        record.update(ok=False, error=error)
    return record


def _judge_line_args(args: tuple[Any, Judged]) -> tuple[str, str]:
    """(status: right, wrong or error; the record as a JSONL line or as CSV
    rows) of one line (a top-level function: it runs in worker processes too)."""
    from .grading import csv_rows, statuses

    item, judged = args
    record = judge_line(item, judged)
    status = next(statuses([record]))
    if judged.out_fmt == CSV:
        return status, csv_rows(record)
    return status, json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def run_programs(
    stream: TextIO, origin: str, out_fmt: str | None, out: TextIO, check: bool, jobs: int,
    on_read: Callable[[int], None] | None = None, budget: float = 10.0, judging: "Judging | None" = None,
) -> Tally:
    """Programs mode: one JSONL result (or CSV rows) per line of `stream`, in
    input order, judged in this process or in `jobs` worker processes. A line
    that cannot be judged gets an error record, and the batch goes on."""
    judged = Judged(check, budget, origin, judging, out_fmt or JSONL)
    items = read_program_lines(bounded_lines(stream, origin, on_read))
    tally = Tally()
    if judged.out_fmt == CSV:
        from .grading import csv_header

        out.write(csv_header())
    if jobs <= 1:
        from .verify import budget_runner

        with BudgetWorker() as worker, budget_runner(worker):
            _judge_in_rounds(items, judged, map, out, tally, 1)
        return tally
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs, initializer=_pool_process_start) as pool:
        _judge_in_rounds(items, judged, partial(pool.map, chunksize=4), out, tally, 64 * jobs)
    return tally


def _judge_in_rounds(items: Iterator[Any], judged: Judged, mapper: Callable[..., Iterable[tuple[str, str]]],
                     out: TextIO, tally: Tally, size: int) -> None:
    """Judge `size` lines at a time with `mapper` (map, or a pool's), writing
    records in input order; if reading stops (a line too long, bad UTF-8),
    the lines before it still get their records before the error is raised."""
    pending: list[tuple[Any, Judged]] = []
    try:
        for item in items:
            pending.append((item, judged))
            if len(pending) >= size:
                _write_records(mapper(_judge_line_args, pending), out, tally)
                pending = []
    finally:
        if pending:
            _write_records(mapper(_judge_line_args, pending), out, tally)


def _write_records(records: Iterable[tuple[str, str]], out: TextIO, tally: Tally) -> None:
    for status, text in records:
        out.write(text)
        tally.rows += 1
        if status == "right":
            tally.right += 1
        else:
            tally.failed += 1
            if status == "error":
                tally.errors += 1


# --- one long-lived SymPy worker per process ------------------------------------


class BudgetWorker:
    """Runs budgeted steps (the SymPy check) in one long-lived forked child,
    one after another, so that checking many programs pays for one fork
    instead of one per program. The contract of `budget.run_with_budget`:
    Outcome("timeout") after `seconds` (the child is killed; the next step
    starts a fresh one), Outcome("error") when the step raises or the child
    dies. Arguments and results travel pickled through pipes between this
    process and its own child only."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.to_child = self.from_child = -1

    def __call__(self, fn: Callable[..., Any], args: tuple, seconds: float) -> Any:
        from .budget import Outcome

        start = time.monotonic()
        if seconds <= 0:
            return Outcome("timeout", seconds=0.0)
        if self.pid is None:
            self._start()
        try:
            _write_frame(self.to_child, pickle.dumps((fn, tuple(map(_portable, args))), pickle.HIGHEST_PROTOCOL))
            reply = _read_frame(self.from_child, start + seconds)
        except OSError:
            reply = b""
        elapsed = time.monotonic() - start
        if reply is None or not reply:
            self.close()
            if reply is None:
                return Outcome("timeout", seconds=elapsed)
            return Outcome("error", error="the check process ended without an answer", seconds=elapsed)
        status, value, error = pickle.loads(reply)
        return Outcome(status, value, error, elapsed)

    def _start(self) -> None:
        from .budget import DEFAULT_MEMORY, _limit_memory  # the same limit as one-off checks

        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: serve steps until the parent closes the pipe
            try:
                os.close(down_w)
                os.close(up_r)
                _limit_memory(DEFAULT_MEMORY)
                while frame := _read_frame(down_r, None):
                    fn, args = pickle.loads(frame)
                    try:
                        payload: tuple = ("ok", fn(*args), "")
                        data = pickle.dumps(payload, pickle.HIGHEST_PROTOCOL)
                    except BaseException as exc:  # noqa: BLE001 - reported to the parent
                        data = pickle.dumps(("error", None, f"{type(exc).__name__}: {exc}"[:500]))
                    _write_frame(up_w, data)
            finally:
                os._exit(0)
        os.close(down_r)
        os.close(up_w)
        self.pid, self.to_child, self.from_child = pid, down_w, up_r

    def close(self) -> None:
        if self.pid is None:
            return
        for fd in (self.to_child, self.from_child):
            os.close(fd)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = None

    def __enter__(self) -> "BudgetWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _portable(arg: Any) -> Any:
    """A graph (or a point's graphs) without its cache of derived data, whose
    tapes hold functions that need not, and cannot all, be pickled."""
    from .graph import Graph
    from .point import AtValue

    if isinstance(arg, Graph):
        return dataclasses.replace(arg)
    if isinstance(arg, Mapping) and all(isinstance(v, AtValue) for v in arg.values()):
        return {k: dataclasses.replace(v, graph=None if v.graph is None else dataclasses.replace(v.graph))
                for k, v in arg.items()}
    return arg


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fd: int, deadline: float | None) -> bytes | None:
    """One length-prefixed frame; b"" at end of file; None past `deadline`."""
    header = _read_exactly(fd, 8, deadline)
    if not header:
        return header
    return _read_exactly(fd, int.from_bytes(header, "big"), deadline)


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes | None:
    chunks: list[bytes] = []
    while n > 0:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


#: In a `--jobs` process: its worker, installed for the life of the process.
_POOL_PROCESS = contextlib.ExitStack()


def _pool_process_start() -> None:
    """In each `--jobs` process: its own long-lived SymPy worker."""
    from .verify import budget_runner

    worker = _POOL_PROCESS.enter_context(BudgetWorker())
    _POOL_PROCESS.enter_context(budget_runner(worker))
