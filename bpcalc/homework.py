"""Checking homework: claimed answers, and how each one is judged.

A claim says what a value is:

    --expect x=-4,y=-4        d output / d input, for inputs
    --expect-value -12        the output's value
    --expect-node q=3         the value of a node, by its name in the program
    --expect-node-grad q=-4   d output / d node
    --expect-updated x=-1.6   with --lr 0.6: the input after one step of gradient
                              descent, x − 0.6·d output / d x

A node is named as in the `grad` table: the program's name (its latest
binding), `name@k` for the k-th of several bindings of one name, `%n` for an
unnamed node. Claimed values are numbers or constant expressions (`1/3`,
`-0.197`, `pi/4`), read by bpcalc's own parser (`point.constant_value`).

For vectors and matrices a claim is about the whole tensor (`W=[[0.5,
-1.35], [2, 0]]`: one claim per entry, each judged as written to its own
digits) or one entry (`W[0,1]=-1.35`, 0-based, NumPy order); a claim whose
shape or index does not fit the node is an error pointing at it. In a JSON
answer file values may be nested lists, and the samples' reference files
(keys "gradient", "value", with "source" and "tolerance" as notes; null for
class indices, which have no gradient) are answer files too.

How a claim is judged (`Judging`), in this order:

1. `--decimals N`: right when |claimed - correct| <= half a unit in the N-th
   decimal place, i.e. when the correct value rounds to the claim (0.39 for
   0.3932 at 2 decimals; 0.40 is wrong). On an exact tie either neighbour is
   accepted.
2. `--sig-figs N`: the same at the N-th significant digit of the correct value.
3. Otherwise a claim written as a decimal with a point (0.39, -4.0, 2.20,
   1.5e-3) is judged to its last written digit, as written: 0.39 means "0.39 to
   2 decimals" (switch this off with `as_written=False`, `--no-rounding`).
   Such a claim about a value that is not zero must also have its sign right
   and at least one significant digit: 0.0 for 0.0177 (or 0. for -0.0177)
   says nothing and is wrong.
4. Every claim is also right when |claimed - correct| <= atol + rtol*|correct|,
   so integers, fractions and expressions (-4, 11/5, 1/3) are judged with the
   tolerance alone.

The rounding arithmetic is exact (fractions of the shortest decimal form of
each double), so 0.125 sits exactly halfway between 0.12 and 0.13.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

from .api import GradResult
from .errors import BpcalcError, Source, Span
from .graph import CONST, INPUT, Graph
from .i18n import _, ngettext
from .inputs import DEFAULT_MAX_BYTES, read_program
from .ops import CONSTANTS, shape_words
# point's comma splitter (outside parentheses), shared with --at parsing
from .point import AtValue, split_top_level, constant_value
from .limits import DEFAULT_ATOL, DEFAULT_RTOL

#: Claim kinds (the `kind` key of `bpcalc check --json`).
VALUE, GRADIENT, NODE_VALUE, NODE_GRAD = "value", "gradient", "node-value", "node-grad"
UPDATED = "updated"  # an input after one step of gradient descent: θ − lr·∂f/∂θ
#: The option (and answer-file key) that makes each kind.
OPTIONS = {
    GRADIENT: "--expect", VALUE: "--expect-value", NODE_VALUE: "--expect-node", NODE_GRAD: "--expect-node-grad",
    UPDATED: "--expect-updated",
}

_LABEL = re.compile(r"[^\W\d]\w*(?:@[0-9]+)?|%[0-9]+")
#: A name with an entry: W[0,1] (0-based, NumPy order).
_ENTRY = re.compile(r"(?P<name>.*?)\s*\[(?P<index>\s*[0-9]+(?:\s*,\s*[0-9]+)*\s*)\]")
_ASSIGNMENT = re.compile(r"\s*(?P<name>[^=]*?)\s*=(?P<value>.*)\Z", re.S)


@dataclass(frozen=True)
class Claim:
    """One claimed answer, with where it was written (for error messages)."""

    kind: str
    name: str | None  # None for VALUE (the output); else a node's name or label
    number: AtValue  # the claimed value: double, text as written, exact graph
    source: Source
    span: Span  # the whole claim, e.g. `x=-4`
    place: int | None  # decimal exponent of the last written digit (0.39 -> -2), if written with a point
    #: One entry of a vector or matrix (0-based, NumPy order): W[0,1]=-1.35,
    #: or an entry of a whole-tensor claim W=[[...]]; None for a number.
    index: tuple[int, ...] | None = None
    #: The shape of the whole tensor claimed (W=[[...]]); None for W[0,1]=… and numbers.
    shape: tuple[int, ...] | None = None
    #: A claim that the input has no gradient (JSON null: class indices are data).
    no_gradient: bool = False

    @property
    def text(self) -> str:
        return self.number.text

    @property
    def label(self) -> str:
        """The name with its entry: W[0, 1]."""
        from .tensor import entry_text

        return (self.name or "") + (entry_text(self.index) if self.index is not None else "")


@dataclass(frozen=True)
class Judging:
    """How claims are judged (see the module docstring)."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    decimals: int | None = None
    sig_figs: int | None = None
    as_written: bool = True


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    node: int
    correct: float  # the correct value (exact mode: the exact value, correctly rounded)
    exact: str | None  # the correct value as an exact number, in exact mode
    ok: bool
    rule: str  # "decimals", "sig-figs" or "tolerance"
    digits: int | None  # decimals / significant figures judged to (None for tolerance)
    rounded: str | None  # the correct value rounded that way ("0.39")
    how: str  # how it was judged, in words

    @property
    def difference(self) -> float:
        return self.claim.number.value - self.correct if not self.claim.no_gradient else math.nan


@dataclass(frozen=True)
class Report:
    """The verdict on every claim about one program at one point."""

    result: GradResult
    verdicts: tuple[Verdict, ...]
    judging: Judging

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


# --- reading claims -----------------------------------------------------------


def parse_claims(kind: str, text: str, source: Source | None = None, start: int = 0) -> list[Claim]:
    """The claims in one option value: `x=-4,y=-4` (or `-12` for VALUE).

    `source`/`start` say where `text` stands (an answer file and its offset);
    by default it is its own source, named after the option.
    """
    source = source or Source(text, OPTIONS[kind])
    if kind == VALUE:
        return _claim(kind, None, source, Span(start, start + len(text)), start)
    claims = []
    for a, b in split_top_level(text):
        piece = text[a:b]
        if not piece.strip():
            continue
        lead, trail = len(piece) - len(piece.lstrip()), len(piece) - len(piece.rstrip())
        span = Span(start + a + lead, start + b - trail)  # the claim without its spaces
        match = _ASSIGNMENT.match(piece)
        if match is None:
            raise BpcalcError("value", _("'{claim}' has no value; write name=<number>").format(claim=piece.strip()),
                              source, span)
        name = match.group("name")
        index = None
        entry = _ENTRY.fullmatch(name)
        if entry is not None:
            name, index = entry.group("name"), tuple(int(k) for k in entry.group("index").split(","))
        if not _LABEL.fullmatch(name):
            message = (_("'{name}' is not a node name (name a node as in the grad table: q, q@2, %3; an entry as "
                         "W[0,1])") if name else
                       _("missing name before '=' (name a node as in the grad table: q, q@2, %3; an entry as "
                         "W[0,1])"))
            raise BpcalcError("value", message.format(name=name), source, span)
        claims.extend(_claim(kind, name, source, span, start + a + match.start("value"), index))
    return claims


def _claim(kind: str, name: str | None, source: Source, span: Span, value_at: int,
           index: tuple[int, ...] | None = None) -> list[Claim]:
    """The claim written at `span`, whose value is source.text[value_at:span.end];
    a claimed vector or matrix is one claim per entry, each judged as written."""
    text = source.text[value_at:span.end]
    shown = name or OPTIONS[VALUE]
    if not text.strip():
        message = _("no value after '{name}='") if name else _("no value given for {name}")
        raise BpcalcError("value", message.format(name=shown), source, Span(span.start, max(span.end, span.start + 1)))
    try:
        number = constant_value(shown, text)
    except BpcalcError as err:  # point it at the claim as written
        span = err.span or Span(0, len(text))
        raise BpcalcError(err.kind, err.message, source, Span(value_at + span.start, value_at + span.end)) from None
    if not isinstance(number.value, float):
        if index is not None:
            raise BpcalcError("value", _("{entry} is one entry: claim one number").format(
                entry=shown + _index_text(index)), source, span)
        return _entry_claims(kind, shown, number, source, span, text)
    return [Claim(kind, name, number, source, span, _written_place(number), index)]


def _index_text(index: tuple[int, ...]) -> str:
    from .tensor import entry_text

    return entry_text(index)


def _entry_claims(kind: str, name: str, number: AtValue, source: Source, span: Span, text: str) -> list[Claim]:
    """A claimed vector or matrix as one claim per entry. Written as a [...]
    literal, each entry keeps its own digits (0.39 is judged to 2 decimals);
    a claim computed from an expression ([1, 2] / 3) is judged to the tolerance."""
    import numpy as np

    from .lang.tokens import NUM, tokenize

    array = np.asarray(number.value, dtype=float)
    tokens = tokenize(Source(text, "claim"))
    literal = text.strip().startswith("[") and all(t.kind == NUM or t.text in "[],-+" for t in tokens)
    entries = []
    sign = ""
    for t in tokens if literal else ():
        if t.text in "-+":
            sign = t.text if t.text == "-" else ""
        elif t.kind == NUM:
            entries.append(sign + t.text)
            sign = ""
    if len(entries) != array.size:
        entries = []
    claims = []
    for k, index in enumerate(np.ndindex(*array.shape)):
        value = float(array[index])
        written = entries[k] if entries else repr(value)
        shown = AtValue(f"{name}{_index_text(index)}", value, written, None)
        place = _literal_place(written) if entries else None
        claims.append(Claim(kind, None if kind == VALUE else name, shown, source, span, place, index,
                            tuple(array.shape)))
    return claims


def _written_place(number: AtValue) -> int | None:
    """-2 for a claim written as 0.39 (or -0.39, 3.90e-1); None unless the claim
    is a single decimal number written with a point."""
    graph = number.graph
    if graph is None or len(graph) != 1 or graph.ops[0] != CONST:
        return None
    return _literal_place(graph.consts[0][1])


def _literal_place(literal: str) -> int | None:
    """-2 for '0.39' (or '-0.39', '3.90e-1'); None for a number written without a point."""
    literal = literal.lstrip("-")
    if "." not in literal or literal in CONSTANTS:
        return None
    return int(Decimal(literal).as_tuple().exponent)  # a literal our tokenizer accepted


def read_claims_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Claim]:
    """Claims from an answer file: JSON (an object) or lines.

    Lines: `name=value` pairs (gradient claims, as --expect), or a line
    starting with a key `expect:`, `expect-value:`, `expect-node:` or
    `expect-node-grad:`; `#` starts a comment. JSON: {"expect": {"x": -4},
    "expect-value": -12, "expect-node": {"q": 3}, "expect-node-grad": {...}},
    values numbers or strings.
    """
    source = read_program(None, path, max_bytes)
    if source.text.lstrip().startswith("{"):
        return _json_claims(source)
    claims: list[Claim] = []
    offset = 0
    for line in source.text.splitlines(keepends=True):
        body = line.split("#", 1)[0]
        kind, skip = _line_kind(body, source, offset)
        if body[skip:].strip():
            claims.extend(parse_claims(kind, body[skip:].rstrip("\r\n"), source, offset + skip))
        offset += len(line)
    return claims


_KEYS = {option.removeprefix("--"): kind for kind, option in OPTIONS.items()}
_KEY_PREFIX = re.compile(r"\s*([A-Za-z][\w-]*)\s*:")


def _line_kind(body: str, source: Source, offset: int) -> tuple[str, int]:
    """The kind a line's claims have, and where they start in the line."""
    match = _KEY_PREFIX.match(body)
    if match is None:
        return GRADIENT, 0
    key = match.group(1)
    if key not in _KEYS:
        from .lang.parser import suggest

        raise BpcalcError(
            "value", _("unknown key '{key}' (keys: {keys}){hint}").format(
                key=key, keys=", ".join(_KEYS), hint=suggest(key, tuple(_KEYS))),
            source, Span(offset + match.start(1), offset + match.end(1)),
        )
    return _KEYS[key], match.end()


def _json_claims(source: Source) -> list[Claim]:
    def no_constant(name: str) -> Any:
        at = source.text.find(name)
        raise BpcalcError("value", _("invalid JSON: {name} is not a JSON number").format(name=name), source,
                          Span(at, at + len(name)))

    try:
        doc = json.loads(source.text, parse_float=str, parse_int=str, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise BpcalcError("value", _("invalid JSON: {reason}").format(reason=exc.msg), source,
                          Span(exc.pos, exc.pos + 1)) from None
    if not isinstance(doc, dict):
        raise BpcalcError("value", _("an answer file in JSON must be an object such as {example}").format(
            example='{"expect": {"x": -4}}'), source)
    claims: list[Claim] = []
    for key, entry in doc.items():
        if key in _JSON_NOTES:
            continue
        kind = _KEYS.get(key) or _JSON_KEYS.get(key)
        if kind is None:
            from .lang.parser import suggest

            keys = (*_KEYS, *_JSON_KEYS)
            raise BpcalcError("value", _("{origin}: unknown key \"{key}\" (keys: {keys}){hint}").format(
                origin=source.origin, key=key, keys=", ".join(keys), hint=suggest(key, keys)))
        pairs = [(None, entry)] if kind == VALUE else list(_json_object(entry, key, source).items())
        for name, value in pairs:
            if value is None and kind == GRADIENT and name is not None:
                text = f"{name}=null"
                claims.append(Claim(kind, name, AtValue(name, math.nan, "none"), Source(text, source.origin),
                                    Span(0, len(text)), None, no_gradient=True))
                continue
            value = _json_literal(value, key, source)
            text = value if name is None else f"{name}={value}"
            claims.extend(parse_claims(kind, text, Source(text, f"{source.origin}: \"{key}\"")))
    return claims


#: The keys of the samples' reference files (samples/matrix/*.expect.json):
#: "gradient" and "value" claim as "expect" and "expect-value" do; "source"
#: (where the numbers come from) and "tolerance" (the reference's own
#: accuracy: claims are judged as written and by --rtol/--atol) are notes.
_JSON_KEYS = {"gradient": GRADIENT, "value": VALUE}
_JSON_NOTES = frozenset({"source", "tolerance"})


def _json_literal(value: Any, key: str, source: Source) -> str:
    text = json_value_text(value)
    if text is None:
        raise BpcalcError("value", _("{origin}: \"{key}\" values must be numbers, strings or nested lists of "
                                     "numbers, not {value}").format(origin=source.origin, key=key,
                                                                    value=json.dumps(value)))
    return text


def json_value_text(value: Any) -> str | None:
    """A JSON value (numbers read as strings, as written) as bpcalc text: a
    number or string as it is, nested lists as a [...] literal; None for
    anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        items = [json_value_text(v) for v in value]
        return None if None in items else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    return None


def _json_object(entry: Any, key: str, source: Source) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise BpcalcError("value", _("{origin}: \"{key}\" must be an object of name: value pairs").format(
            origin=source.origin, key=key))
    return entry


# --- resolving and judging ----------------------------------------------------


def resolve_claim(graph: Graph, claim: Claim) -> int:
    """The node a claim is about; BpcalcError pointing at it if there is none."""
    if claim.kind == VALUE:
        return graph.output
    name = claim.name or ""
    if claim.kind in (GRADIENT, UPDATED):
        if name in graph.input_names:
            return graph.input_id(name)
        node = _named_node(graph, name)
        if node is not None:
            raise BpcalcError(
                "value",
                _("'{name}' is not an input; for d output / d {name} write --expect-node-grad {name}=…").format(
                    name=name),
                claim.source, claim.span,
            )
        inputs = graph.input_names
        raise _unknown(claim, _("the program has no input '{name}' (inputs: {inputs})").format(
            name=name, inputs=", ".join(inputs) or _("none")), inputs)
    node = _named_node(graph, name)
    if node is None:
        known = tuple(dict.fromkeys(n for n in (*graph.names, *graph.labels) if n and not n.startswith("%")))
        unnamed = [label for i, label in enumerate(graph.labels) if label.startswith("%") and graph.ops[i] != CONST]
        names, shown = ", ".join(known) or _("none"), ""
        if unnamed:
            shown = ", ".join(unnamed[:10])
            if len(unnamed) > 10:
                shown = _("{listed}, … ({count} in all)").format(listed=shown, count=len(unnamed))
            message = _("the program has no node named '{name}' (names: {names}; unnamed nodes: {unnamed})")
        else:
            message = _("the program has no node named '{name}' (names: {names})")
        raise _unknown(claim, message.format(name=name, names=names, unnamed=shown), known)
    if claim.kind == NODE_GRAD and not graph.active[node]:
        raise BpcalcError(
            "value", _("'{name}' does not depend on any input, so it has no gradient").format(name=name),
            claim.source, claim.span
        )
    return node


def _named_node(graph: Graph, name: str) -> int | None:
    """A node by label (x, q@2, %3) or by name (its latest binding)."""
    labels = graph.cache.get("label index")
    if labels is None:
        labels = graph.cache["label index"] = {label: i for i, label in enumerate(graph.labels)}
        for i, n in enumerate(graph.names):
            if n is not None and graph.ops[i] != INPUT:
                labels[n] = i  # later bindings win
    return labels.get(name)


def _unknown(claim: Claim, message: str, choices: Sequence[str]) -> BpcalcError:
    from .lang.parser import suggest

    return BpcalcError("value", message + suggest(claim.name or "", tuple(choices)), claim.source, claim.span)


def resolve_claims(graph: Graph, claims: Sequence[Claim]) -> tuple[int, ...]:
    """The node each claim is about; BpcalcError for an unknown name or for
    the same thing claimed twice."""
    seen: dict[tuple[bool, int], Claim] = {}
    nodes = []
    for claim in claims:
        node = resolve_claim(graph, claim)
        gradient = claim.kind in (GRADIENT, NODE_GRAD)
        key = (UPDATED if claim.kind == UPDATED else gradient, node, claim.index)
        if key in seen:
            entry = _index_text(claim.index) if claim.index is not None else ""
            message = (_("the updated value of {node} is claimed twice ({first} and {second})")
                       if claim.kind == UPDATED else
                       _("the gradient of {node} is claimed twice ({first} and {second})") if gradient else
                       _("the value of {node} is claimed twice ({first} and {second})"))
            raise BpcalcError("value", message.format(node=graph.labels[node] + entry, first=seen[key].text,
                                                      second=claim.text), claim.source, claim.span)
        seen[key] = claim
        nodes.append(node)
    return tuple(nodes)


def judge_claims(result: GradResult, claims: Sequence[Claim], judging: Judging = Judging()) -> Report:
    """The verdict on each claim about `result` (exact values where it has them)."""
    exact = result.exact if result.exact is not None and result.exact.ok else None
    verdicts = []
    for claim, node in zip(claims, resolve_claims(result.graph, claims)):
        if claim.kind == UPDATED:
            updated = _updated(result, claim, node)
            if result.tensor:
                updated = _entry(result, claim, node, updated, False)
            verdicts.append(judge(claim, node, updated, None, judging))
            continue
        gradient = claim.kind in (GRADIENT, NODE_GRAD)
        if claim.no_gradient:
            verdicts.append(_no_gradient(result, claim, node))
            continue
        if exact is not None:
            floats, texts = (exact.adjoint_floats, exact.adjoints) if gradient else (exact.value_floats, exact.values)
            correct, exact_text = floats[node], texts[node]
        else:
            correct, exact_text = (result.adjoints if gradient else result.values)[node], None
        if result.tensor or claim.index is not None or claim.shape is not None:
            correct = _entry(result, claim, node, correct, gradient)
            for k in claim.index or ():  # exact mode: the entry's text in nested lists
                exact_text = exact_text[k] if isinstance(exact_text, list) else exact_text
        if correct is None:  # an input or node the output does not depend on
            correct = 0.0
        verdicts.append(judge(claim, node, correct, exact_text, judging))
    return Report(result, tuple(verdicts), judging)


def _no_gradient(result: GradResult, claim: Claim, node: int) -> Verdict:
    """The claim that an input has no gradient: right for class indices (data)."""
    from .tensor import data_inputs

    data = result.tensor and node in data_inputs(result.graph, result.values)
    how = (_("class indices are data, with no gradient") if data else
           _("it is a variable, with a gradient: claim its value"))
    return Verdict(claim, node, math.nan, None, data, "data", None, None, how)


def _entry(result: GradResult, claim: Claim, node: int, correct: Any, gradient: bool) -> float | None:
    """The number a claim on a tensor program is about: the node's value or
    gradient, or one entry of it; BpcalcError (pointing at the claim) when
    the claim's shape or index does not fit the node."""
    import numpy as np

    from .tensor import data_inputs

    shape = result.shape(node)
    what = claim.name or result.output_label
    if gradient and correct is None and result.tensor and node in data_inputs(result.graph, result.values):
        raise BpcalcError("value", _("{name} holds class indices: data, which has no gradient to claim").format(
            name=what), claim.source, claim.span)
    if claim.index is None and shape:
        message = _("{name} is {shape}: claim it whole ({name}=[…]) or one entry ({entry}=…)")
        raise BpcalcError("value", message.format(name=what, shape=shape_words(shape),
                                                  entry=what + _index_text((0,) * len(shape))),
                          claim.source, claim.span)
    if claim.shape is not None and claim.shape != shape:
        raise BpcalcError("value", _("the claim is {claimed}, and {name} is {shape}").format(
            claimed=shape_words(claim.shape), name=what, shape=shape_words(shape)), claim.source, claim.span)
    if claim.index is not None and (len(claim.index) != len(shape) or any(
            k >= n for k, n in zip(claim.index, shape))):
        entry = what + _index_text(claim.index)
        message = (_("{entry}: {name} is {shape}, so its entries are {first} to {last}").format(
            entry=entry, name=what, shape=shape_words(shape), first=_index_text(tuple(0 for _n in shape)),
            last=_index_text(tuple(n - 1 for n in shape))) if shape else
            _("{entry}: {name} is one number, with no entries").format(entry=entry, name=what))
        raise BpcalcError("value", message, claim.source, claim.span)
    if correct is None:
        return None
    return float(np.asarray(correct)[claim.index] if claim.index is not None else correct)


def require_lr(claims: Sequence[Claim], lr: float | None) -> None:
    """Claims about updated values need the learning rate."""
    for claim in claims:
        if claim.kind == UPDATED and lr is None:
            raise BpcalcError("usage", _("{claim}: an updated value needs the learning rate: give --lr η (\"lr\" in "
                                         "a batch record)").format(claim=f"{claim.name}={claim.text}"),
                              claim.source, claim.span)


def _updated(result: GradResult, claim: Claim, node: int) -> Any:
    """The correct updated value of the input a claim is about: θ − lr·∂f/∂θ."""
    require_lr([claim], result.lr)
    assert result.lr is not None
    gradient = result.adjoints[node]
    return result.values[node] - result.lr * (0.0 if gradient is None else gradient)


def describe_claim(result: GradResult, claim: Claim) -> str:
    """What a claim is about, as the check table says it: f, ∂f/∂x, q, ∂f/∂q."""
    out = result.output_label
    if claim.kind == VALUE:
        return out
    if claim.kind in (GRADIENT, NODE_GRAD):
        return f"∂{out}/∂{claim.label}"
    if claim.kind == UPDATED:
        return f"{claim.label} − {result.lr:g}·∂{out}/∂{claim.label}"
    return claim.label


def judge(claim: Claim, node: int, correct: float, exact: str | None, judging: Judging) -> Verdict:
    """Is `claim` right, given the `correct` value? (See the module docstring.)"""
    claimed = claim.number.value
    if not math.isfinite(correct):
        return Verdict(claim, node, correct, exact, False, "tolerance", None, None,
                       _("the correct value is {correct}, not a finite number").format(correct=correct))
    close = abs(claimed - correct) <= judging.atol + judging.rtol * abs(correct)
    place, basis = _place(claim, correct, judging)
    if place is None:
        how = (_("within the tolerance") if close else _("outside the tolerance")) if basis != ZERO else (
            _("0 has no significant figures; within the tolerance") if close else
            _("0 has no significant figures; outside the tolerance"))
        return Verdict(claim, node, correct, exact, close, "tolerance", None, None, how)
    half_unit = Fraction(10) ** place / 2
    ok = close or abs(_fraction(claimed) - _fraction(correct)) <= half_unit
    rounded = round_to_place(correct, place)
    rule = "sig-figs" if basis == SIG_FIGS_OPTION else "decimals"
    digits = judging.sig_figs if basis == SIG_FIGS_OPTION else -place
    how = _rounded_how(basis, place, digits or 0).format(n=digits, unit=10 ** max(place, 0), rounded=rounded)
    if claimed == 0 and not close and basis == AS_WRITTEN:
        # judged at the digits written, when none is: 0.0 for 0.0177 (or 0. for -0.0177) says nothing
        first = round_to_place(correct, Decimal(repr(correct)).adjusted())
        ok, how = False, _("no significant digit written, and the value is not 0: to 1 significant figure "
                           "{first}").format(first=first)
    return Verdict(claim, node, correct, exact, ok, rule, digits, rounded, how)


#: What a claim is judged by (`_place`): the options --decimals or
#: --sig-figs, its own written digits, the tolerance alone, or the tolerance
#: because the correct value 0 has no significant figures.
DECIMALS_OPTION, SIG_FIGS_OPTION, AS_WRITTEN, TOLERANCE, ZERO = "--decimals", "--sig-figs", "as written", "", "zero"


def _place(claim: Claim, correct: float, judging: Judging) -> tuple[int | None, str]:
    """(decimal exponent of the unit to judge to, what decides it), or (None,
    TOLERANCE or ZERO) for the tolerance alone."""
    if judging.decimals is not None:
        return -judging.decimals, DECIMALS_OPTION
    if judging.sig_figs is not None:
        if correct == 0:
            return None, ZERO
        return Decimal(repr(correct)).adjusted() - judging.sig_figs + 1, SIG_FIGS_OPTION
    if judging.as_written and claim.place is not None:
        return claim.place, AS_WRITTEN
    return None, TOLERANCE


def _rounded_how(basis: str, place: int, n: int) -> str:
    """How a claim judged to `n` digits was judged, to be formatted with n,
    unit (10**place) and rounded: 'rounded to 2 decimals (as written): 0.39'."""
    if basis == SIG_FIGS_OPTION:
        return ngettext("rounded to {n} significant figure (--sig-figs): {rounded}",
                        "rounded to {n} significant figures (--sig-figs): {rounded}", n)
    if place > 0:  # written as 1.5e3 (or Judging(decimals=-2) from Python)
        return (_("rounded to the nearest {unit} (--decimals): {rounded}") if basis == DECIMALS_OPTION else
                _("rounded to the nearest {unit} (as written): {rounded}"))
    return (ngettext("rounded to {n} decimal (--decimals): {rounded}",
                     "rounded to {n} decimals (--decimals): {rounded}", n) if basis == DECIMALS_OPTION else
            ngettext("rounded to {n} decimal (as written): {rounded}",
                     "rounded to {n} decimals (as written): {rounded}", n))


def _fraction(value: float) -> Fraction:
    """The shortest decimal that reads back as `value`, exactly."""
    return Fraction(repr(value))


def round_to_place(value: float, place: int) -> str:
    """`value` rounded to a multiple of 10**place, as people write it ('0.39');
    on an exact tie, both neighbours ('0.12 or 0.13')."""
    exact = Decimal(repr(value))
    quantum = Decimal(1).scaleb(place)
    with localcontext() as context:  # enough digits for 1e300 to 2 decimals
        context.prec = max(28, exact.adjusted() - place + 3)
        candidates = dict.fromkeys(exact.quantize(quantum, rounding=r) for r in (ROUND_HALF_DOWN, ROUND_HALF_UP))
    texts = [_decimal_text(d, quantum) for d in candidates]
    return texts[0] if len(texts) == 1 else _("{first} or {second}").format(first=texts[0], second=texts[1])


def _decimal_text(value: Decimal, quantum: Decimal) -> str:
    if value == 0:
        value = Decimal(0).quantize(quantum)  # not -0.00
    text = format(value, "f")
    return text if len(text) <= 24 else format(float(value), ".6g")


def collect_claims(
    expect: Sequence[str] = (),
    expect_value: str | None = None,
    expect_node: Sequence[str] = (),
    expect_node_grad: Sequence[str] = (),
    files: Sequence[Path] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    expect_updated: Sequence[str] = (),
) -> list[Claim]:
    """Every claim given on the command line and in answer files, in order."""
    claims: list[Claim] = []
    for kind, texts in ((GRADIENT, expect), (VALUE, [] if expect_value is None else [expect_value]),
                        (NODE_VALUE, expect_node), (NODE_GRAD, expect_node_grad), (UPDATED, expect_updated)):
        for text in texts:
            claims.extend(parse_claims(kind, text))
    for path in files:
        claims.extend(read_claims_file(path, max_bytes))
    if not claims:
        raise BpcalcError(
            "usage",
            _("nothing to check: give claims with --expect x=…, --expect-value …, --expect-node q=…, "
              "--expect-node-grad q=…, --expect-updated x=… (with --lr) or --expect-file FILE"),
        )
    return claims
