"""The tensor engine: forward and backward over vectors and matrices.

Programs whose inputs or literals are vectors or matrices, or that use a
tensor-only operation (`@`, `.T`, sum, softmax, cross_entropy, ...), run here;
every other program keeps the scalar engine (`bpcalc.engine`), its numbers and
its speed. The same graph, the same one table of operations (`bpcalc.ops`):

- `shapes` runs the shape rules over the graph before anything is computed
  (once the point is known), so a mismatch is an error that names the
  operation, both shapes and the likely fix, with nothing allocated;
- `forward` is one loop over the graph, each node one NumPy call (no Python
  loop over entries), reporting domain errors, overflow, kinks and ties at
  the first entry where they happen, with its index;
- `backward` seeds the scalar output's adjoint with 1 and, from the output
  back, adds each argument's vector-Jacobian product. The gradient of a
  tensor has that tensor's shape (the PyTorch / JAX / CS231n convention).
  An entrywise op's product is upstream * local partial, entry by entry;
  broadcasting is undone here, once, by summing over the broadcast axes
  (`unbroadcast`), never in a rule. Fan-out accumulates.

A zero upstream passes nothing back, and a zero local partial wins over an
infinite or undefined upstream (relu's slope 0 at x < 0 stops a nan from
above), as for scalars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import BpcalcError, Diagnostic, Span
from .graph import CONST, INPUT, Graph
from .i18n import _, language, ngettext
from .ops import OPS, TENSOR_OPS, Shape, ShapeError, ce_index_problem, described, shape_words

_MAX_WARNINGS_PER_KIND = 20
#: Shapes of a graph's nodes remembered per graph, for so many shapes of its inputs.
_KNOWN_SHAPES = 16
#: A broadcast of an (N, 1) and an (N,) operand to (N, N) is warned from this N up.
TRAP_MIN = 2


def _fmt(v: float) -> str:
    return format(v, ".6g")


def entry_text(index: Sequence[int]) -> str:
    """(2, 0) -> '[2, 0]'."""
    return "[" + ", ".join(str(int(k)) for k in index) + "]"


def _operand(graph: Graph, j: int) -> str:
    """How an argument is named in a message: its name, else its text."""
    return graph.names[j] or graph.snippet(j, 30)


def _fail(graph: Graph, i: int, kind: str, message: str) -> BpcalcError:
    return BpcalcError(kind, message, graph.source, Span(graph.starts[i], graph.ends[i]))


def shapes(graph: Graph, point: Mapping[str, Any], max_entries: int,
           need_scalar: bool = True) -> tuple[list[Shape], list[Diagnostic]]:
    """The shape of every node, by the op table's shape rules, with warnings
    (the (N, 1) against (N,) broadcast trap). Raises BpcalcError("shape") at
    the first operation whose operands do not fit; ("limit") when the entries
    of all nodes together exceed `max_entries`; ("shape") when `need_scalar`
    and the output is not a scalar."""
    # the warnings are words: in the language they were said in
    found, warned = _shapes(graph, point, max_entries, need_scalar)
    return list(found), list(warned)


def _shapes(graph: Graph, point: Mapping[str, Any], max_entries: int,
            need_scalar: bool) -> tuple[tuple[Shape, ...], tuple[Diagnostic, ...]]:
    """`shapes`, as the tuples it remembers (no copies)."""
    ndarray = np.ndarray
    key = (tuple(v.shape if v.__class__ is ndarray else np.shape(v) for v in map(point.__getitem__, graph.input_names)),
           max_entries, need_scalar, language())
    known = graph.cache.setdefault("shapes", {})
    found = known.get(key)
    if found is not None:  # the same program at points of the same shapes (a training loop)
        return found
    n = len(graph)
    out: list[Shape] = [()] * n
    warnings: list[Diagnostic] = []
    for i, shape in zip(graph.inputs, key[0]):
        out[i] = shape
    for i, (v, _literal) in graph.consts.items():
        out[i] = tuple(np.shape(v))
    ops, params = graph.ops, graph.params
    total = 0
    for i in range(n):
        op = ops[i]
        if op != INPUT and op != CONST:
            args = graph.args(i)
            argshapes = [out[j] for j in args]
            names = [_operand(graph, j) for j in args]
            try:
                if op in TENSOR_OPS:
                    out[i] = TENSOR_OPS[op].shape(names, *argshapes, **dict(params.get(i, ())))
                elif len(argshapes) == 1:
                    out[i] = argshapes[0]
                else:
                    shape = argshapes[0]
                    for k in range(1, len(argshapes)):  # max(a, b, c): each against the ones before
                        pair = (", ".join(names[:k]) if k > 1 else names[0], names[k])
                        trap = _trap(pair, shape, argshapes[k])
                        shape = _broadcast(pair, shape, argshapes[k])
                        if trap:
                            warnings.append(Diagnostic("shape", f"{graph.describe(i)}: {trap}", i))
                    out[i] = shape
            except ShapeError as err:
                hint = f"; {err.hint}" if err.hint else ""
                raise _fail(graph, i, "shape", f"{graph.snippet(i, 60)}: {err.message}{hint}") from None
        total += math.prod(out[i])
        if total > max_entries:
            raise _fail(graph, i, "limit",
                        _("the program's vectors and matrices hold more than {most} entries in all; raise the limit "
                          "with --max-entries").format(most=f"{max_entries:,}"))
    o = graph.output
    if need_scalar and out[o]:
        label = graph.names[o] or graph.snippet(o, 40)
        raise _fail(graph, o, "shape", _("the output {label} is {what}, and a gradient needs one number: "
                                         "reduce it with sum(...) or mean(...)").format(
            label=label, what=shape_words(out[o])))
    found = (tuple(out), tuple(warnings))
    if len(known) < _KNOWN_SHAPES:
        known[key] = found
    return found


def _broadcast(names: Sequence[str], a: Shape, b: Shape) -> Shape:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ShapeError(
            _("{left} and {right}: they cannot be combined entry by entry "
              "(NumPy broadcasting: sizes must match or be 1, counting from the last axis)").format(
                left=described(names[0], a), right=described(names[1], b)),
            _broadcast_hint(names, a, b)) from None


def _broadcast_hint(names: Sequence[str], a: Shape, b: Shape) -> str:
    if len(a) == 2 and len(b) == 2 and a == tuple(reversed(b)):
        return _("did you mean {left} and {right}.T?").format(left=names[0], right=names[1])
    if len(a) == 2 and len(b) == 1 and a[0] == b[0]:
        return _("{vector} matches the rows of {matrix}: for one value per row, write {vector} as a column "
                 "({column})").format(vector=names[1], matrix=names[0], column=f"{b[0]}×1")
    return ""


def _trap(names: Sequence[str], a: Shape, b: Shape) -> str:
    for (x, sx), (y, sy) in (((names[0], a), (names[1], b)), ((names[1], b), (names[0], a))):
        if len(sx) == 2 and sx[1] == 1 and len(sy) == 1 and sx[0] == sy[0] >= TRAP_MIN:
            k = sx[0]
            return _("{x} is {k}×1 and {y} has {k} entries, so they broadcast to {k}×{k} (every pair), "
                     "not {k} entries; if you meant entry by entry, make both {k}×1 or both vectors").format(
                x=x, y=y, k=k)
    return ""


# --- forward -------------------------------------------------------------------


def forward(graph: Graph, point: Mapping[str, Any],
            kept: dict[int, Any] | None = None) -> tuple[list[Any], list[Diagnostic]]:
    """Values of every node (NumPy arrays; 0-d for scalars), plus warnings.
    Shapes must have been checked (`shapes`). Raises BpcalcError("domain")
    at the first entry where an operation is undefined (log of a negative,
    division by zero), naming the node and the entry. `kept`, when given,
    receives what the backward pass can reuse (sigmoid's exp, cross-entropy's
    log softmax), by node."""
    n = len(graph)
    values: list[Any] = [None] * n
    asarray = np.asarray
    for i, name in zip(graph.inputs, graph.input_names):
        values[i] = asarray(point[name], dtype=float)
    for i, (v, _literal) in graph.consts.items():
        values[i] = asarray(v, dtype=float)
    warnings: list[Diagnostic] = []
    counts: dict[str, int] = {}
    with np.errstate(all="ignore"):
        for i, args, kind, op, kw in _forward_steps(graph):
            argv = [values[j] for j in args]
            if kind == _CE and not _valid_indices(*argv):
                problem = ce_index_problem(np, *argv)
                if problem:
                    raise _fail(graph, i, "value", f"{problem} in {graph.describe(i)}")
            if kind == _SCALAR:
                spec = OPS[op]
                pair = spec.np_kept
            else:
                pair = TENSOR_OPS[op].kept
            if pair is not None and kept is not None:
                out, kept[i] = pair[0](np, *argv, **kw)
                out = asarray(out, dtype=float)
            elif kind == _SCALAR:
                out = asarray(spec.np_forward(np, *argv), dtype=float)
            else:
                out = asarray(TENSOR_OPS[op].forward(np, *argv, **kw), dtype=float)
            if kind == _SCALAR:
                if not all_finite(out):
                    _nonfinite_entry(graph, i, argv, out, warnings, counts)
                if spec.kink is not None and spec.np_kink is not None and graph.active[i]:
                    _entry_notes(graph, i, "kink", spec.np_kink(np, *argv), argv, spec.kink, warnings, counts)
                if spec.underflow is not None and not out.all():  # a zero somewhere (or -0.0)
                    zero = (out == 0.0) & np.all([np.isfinite(a) for a in np.broadcast_arrays(*argv)], axis=0)
                    _entry_notes(graph, i, "underflow", zero, argv,
                                 lambda *a, _u=spec.underflow: _u(0.0, *a), warnings, counts)
            elif kind == _TIES:
                _tie_note(graph, i, argv[0], out, warnings, counts)
            values[i] = out
    for kind, count in counts.items():
        if count > _MAX_WARNINGS_PER_KIND:
            warnings.append(Diagnostic(kind, f"… and {count - _MAX_WARNINGS_PER_KIND} more {kind} warnings", None))
    return values, warnings


#: What `forward` does at a node besides computing it: nothing more (a
#: tensor op), the class-index check (cross_entropy), the note on ties
#: (max or min of an active tensor), or the scalar op's checks (a domain
#: error or an overflow, kinks, underflow).
_TENSOR, _CE, _TIES, _SCALAR = range(4)
#: The keyword arguments of a node without any (shared: never written).
_NO_PARAMS: dict[str, Any] = {}


def _valid_indices(x: Any, t: Any) -> bool:
    """cross_entropy's target holds probabilities, or class indices that are
    whole numbers from 0 to C - 1, as `ce_index_problem` asks; False when in
    doubt (it then says what is wrong, if anything). Fewer passes than it: a
    whole number in range is its own int64, which, read unsigned, is below C."""
    if t.shape == x.shape:
        return True
    idx = t.astype(np.int64)  # nan, inf, huge: some integer, unequal to t (numpy's warnings are off)
    return bool((idx == t).all()) and bool((idx.view(np.uint64) < x.shape[-1]).all())


def _forward_steps(graph: Graph) -> tuple[tuple[int, tuple[int, ...], int, str, dict[str, Any]], ...]:
    """The forward pass's work at each computed node, derived once per graph:
    (node, arguments, kind, op, keyword arguments). The op's functions are
    looked up in the table at each call."""
    found = graph.cache.get("tensor forward")
    if found is None:
        steps = []
        ops, active, params = graph.ops, graph.active, graph.params
        for i in range(len(graph)):
            op = ops[i]
            if op == INPUT or op == CONST:
                continue
            kw = dict(params[i]) if i in params else _NO_PARAMS
            if op in TENSOR_OPS:
                kind = _CE if op == "cross_entropy" else _TIES if op in ("amax", "amin") and active[i] else _TENSOR
            else:
                kind = _SCALAR
            steps.append((i, graph.args(i), kind, op, kw))
        found = tuple(steps)
        if len(graph) <= _PLAN_MAX_NODES:
            graph.cache["tensor forward"] = found
    return found


#: The forward steps and backward plans are remembered for graphs of up to
#: so many nodes (a larger one derives them at each call, as cheap as the
#: loops themselves, rather than keep about 100 bytes a node).
_PLAN_MAX_NODES = 100_000


def node_value(graph: Graph, i: int, argv: Sequence[Any]) -> Any:
    """Node i's value from its arguments' values: its op's forward function,
    nothing else (no checks, no warnings)."""
    op = graph.ops[i]
    if op in TENSOR_OPS:
        return np.asarray(TENSOR_OPS[op].forward(np, *argv, **dict(graph.params.get(i, ()))), dtype=float)
    return np.asarray(OPS[op].np_forward(np, *argv), dtype=float)


def recompute(graph: Graph, values: Sequence[Any], node: int, value: Any, below: Sequence[int]) -> Any:
    """The output's value when node `node` takes `value` and everything else
    stays: only the nodes in `below` (those that depend on it, in order) are
    computed again."""
    changed = list(values)
    changed[node] = value
    with np.errstate(all="ignore"):
        for i in below:
            changed[i] = node_value(graph, i, [changed[j] for j in graph.args(i)])
    return changed[graph.output]


def dependents(graph: Graph, node: int) -> list[int]:
    """The nodes that depend on `node`, in topological order, up to the output."""
    hit = [False] * len(graph)
    hit[node] = True
    found = []
    for i in range(node + 1, graph.output + 1):
        if any(hit[j] for j in graph.args(i)):
            hit[i] = True
            found.append(i)
    return found


def _first(mask: Any) -> tuple[tuple[int, ...], int]:
    """The index of the first True entry of `mask` and how many there are."""
    where = np.argwhere(mask)
    return tuple(int(k) for k in where[0]), len(where)


def _at(argv: Sequence[Any], shape: Shape, index: tuple[int, ...]) -> list[float]:
    """Each argument's scalar at `index` of the broadcast result."""
    return [float(np.broadcast_to(a, shape)[index]) for a in argv]


def _where(graph: Graph, i: int, index: tuple[int, ...], count: int) -> str:
    if not index:
        return graph.describe(i)
    where = _("{node} at entry {entry}").format(node=graph.describe(i), entry=entry_text(index))
    if count > 1:
        where += ngettext(" (and {n} more entry)", " (and {n} more entries)", count - 1).format(n=count - 1)
    return where


def _note(graph: Graph, kind: str, message: str, i: int, warnings: list[Diagnostic], counts: dict[str, int]) -> None:
    counts[kind] = counts.get(kind, 0) + 1
    if counts[kind] <= _MAX_WARNINGS_PER_KIND:
        warnings.append(Diagnostic(kind, message, i))


def _entry_notes(graph: Graph, i: int, kind: str, mask: Any, argv: Sequence[Any], check: Any,
                 warnings: list[Diagnostic], counts: dict[str, int]) -> None:
    """Kinks or underflow: the scalar rule's message at the first entry it
    applies to, with the entry and how many more."""
    mask = np.asarray(mask)
    if not mask.any():
        return
    shape = np.broadcast_shapes(*(np.shape(a) for a in argv), mask.shape)
    mask = np.broadcast_to(mask, shape)
    for index in np.argwhere(mask)[:50]:
        index = tuple(int(k) for k in index)
        message = check(*_at(argv, shape, index))
        if message:
            hits = int(mask.sum())
            _note(graph, kind, _("{node}: {message}").format(node=_where(graph, i, index, hits), message=message), i,
                  warnings, counts)
            return


def _nonfinite_entry(graph: Graph, i: int, argv: Sequence[Any], out: Any,
                     warnings: list[Diagnostic], counts: dict[str, int]) -> None:
    """The first entry where a non-finite value appears from finite
    arguments: a domain error (as the scalar engine says it, with the entry)
    or an overflow warning."""
    shape = out.shape
    finite_args = np.all([np.isfinite(np.broadcast_to(a, shape)) for a in argv], axis=0)
    fresh = ~np.isfinite(out) & finite_args
    if not fresh.any():
        return  # an earlier non-finite value, already reported, propagates
    index, count = _first(fresh)
    scalars = _at(argv, shape, index)
    spec = OPS[graph.ops[i]]
    try:
        spec.forward(*scalars)
    except (ValueError, ZeroDivisionError):
        message = spec.domain(*scalars) or _("{op} is undefined at {arguments}").format(
            op=spec.name, arguments=", ".join(map(_fmt, scalars)))
        raise _fail(graph, i, "domain", _("{message} in {node}").format(
            message=message, node=_where(graph, i, index, count))) from None
    except OverflowError:
        pass
    shown = ", ".join(map(_fmt, scalars))
    _note(graph, "overflow", _("{node}: {call} overflows to {value}").format(
        node=_where(graph, i, index, count), call=f"{spec.name}({shown})", value=_fmt(float(out[index]))),
        i, warnings, counts)


def _tie_note(graph: Graph, i: int, x: Any, out: Any, warnings: list[Diagnostic], counts: dict[str, int]) -> None:
    axis = dict(graph.params.get(i, ())).get("axis")
    hit = x == (out if axis is None else np.expand_dims(out, axis % x.ndim))
    ties = hit.sum() if axis is None else hit.sum(axis=axis)
    if np.any(ties > 1):
        where = ", ".join(entry_text(k) for k in np.argwhere(hit)[:4]) + (" …" if hit.sum() > 4 else "")
        shared = (_("{node}: the largest value is shared by entries {entries}: the gradient is split evenly among "
                    "them") if graph.ops[i] == "amax" else
                  _("{node}: the smallest value is shared by entries {entries}: the gradient is split evenly among "
                    "them"))
        _note(graph, "kink", shared.format(node=graph.describe(i), entries=where), i, warnings, counts)


# --- backward ------------------------------------------------------------------


def unbroadcast(g: Any, shape: Shape) -> Any:
    """g summed over the axes that broadcasting added or stretched: the
    gradient of an operand that was broadcast to g's shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    stretched = tuple(k for k, size in enumerate(shape) if size == 1 and g.shape[k] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def _times_local(g: Any, p: Any) -> Any:
    """upstream * local partial, where a zero on either side gives 0 (so an
    infinite or undefined factor on the other side does not make a nan)."""
    if type(p) is float and p in (1.0, -1.0):  # add, sub, neg: no product to form
        return g if p == 1.0 else -g
    r = g * p
    if not all_finite(r):
        r = np.where((g == 0) | (np.asarray(p) == 0), 0.0, r)
    return r


def all_finite(a: Any) -> bool:
    """Every entry of `a` is finite: a sum (one pass, no temporary) is finite
    unless an entry is not or the sum overflows; only then look closer.
    (Called where numpy's floating-point warnings are off.)"""
    if a.__class__ is np.ndarray and a.dtype is _FLOAT64 and a.size >= _DOT_MIN and a.flags.c_contiguous:
        # the sum of squares (BLAS's dot, half the time of a sum): a nan or
        # an infinity in any entry makes it one too (squares are never negative)
        v = a.reshape(-1)
        return math.isfinite(v @ v) or bool(np.isfinite(a).all())
    return math.isfinite(np.add.reduce(a, axis=None)) or bool(np.isfinite(a).all())


_FLOAT64 = np.dtype(np.float64)


#: `all_finite` by a dot product from this many entries (below, a sum is as fast).
_DOT_MIN = 8192


def node_vjp(graph: Graph, i: int, g: Any, argv: Sequence[Any], out: Any,
             need: Sequence[bool] | None = None, kept: Mapping[int, Any] | None = None) -> list[Any]:
    """Node i's vector-Jacobian product with the upstream gradient `g`: one
    array per argument, of that argument's shape (None for an argument with
    no gradient, such as class indices, and for one `need` says nobody asked
    for). The op table's rule, then broadcasting undone: the one place it is.
    `kept`: what `forward` kept, by node."""
    op = graph.ops[i]
    wanted = [True] * len(argv) if need is None else list(need)
    kw = dict(graph.params.get(i, ()))
    if op in TENSOR_OPS and TENSOR_OPS[op].selective and not all(wanted):
        kw["need"] = tuple(wanted)
    cots = _cotangents(op, kw, None if kept is None else kept.get(i), g, argv, out, wanted, _times_local)
    return [None if c is None or not w else unbroadcast(np.asarray(c, dtype=float), np.shape(a))
            for c, a, w in zip(cots, argv, wanted)]


def _cotangents(op: str, kw: Mapping[str, Any], kept: Any, g: Any, argv: Sequence[Any], out: Any,
                wanted: Sequence[bool], times: Any) -> Sequence[Any]:
    """The op table's rule at one node: upstream `g` times the local
    derivative, one entry per argument (None where not `wanted`), before
    broadcasting is undone; from what forward `kept` when it kept something.
    `times`: how a scalar op's partial multiplies g (`_times_local`, or
    `_times` without the zero rule)."""
    if op in TENSOR_OPS:
        spec = TENSOR_OPS[op]
        if kept is not None:
            return spec.kept[1](np, kept, g, *argv, out, **kw)  # type: ignore[index]
        return spec.vjp(np, g, *argv, out, **kw)
    scalar = OPS[op]
    if kept is not None:
        partials = scalar.np_kept[1](np, kept, *argv, out)  # type: ignore[index]
    else:
        partials = scalar.np_partials(np, *argv, out)
    return [times(g, p) if w else None for w, p in zip(wanted, partials)]


def data_inputs(graph: Graph, values: Sequence[Any]) -> set[int]:
    """Inputs used only as class indices (cross_entropy's target when it is
    indices): data, which has no gradient."""
    used_otherwise: set[int] = set()
    as_indices: set[int] = set()
    for i, op in enumerate(graph.ops):
        for k, j in enumerate(graph.args(i)):
            if op == "cross_entropy" and k == 1 and values[j].shape != values[graph.arg0[i]].shape:
                as_indices.add(j)
            else:
                used_otherwise.add(j)
    return {j for j in as_indices if graph.ops[j] == INPUT and j not in used_otherwise}


@dataclass(frozen=True)
class _BackwardPlan:
    """What `backward` does at points of one set of input shapes for one
    `wrt`, derived once: the nodes whose adjoints are needed, each step from
    the output back, and the adjoints whose finiteness is checked when
    nothing went wrong (the others follow from them)."""

    need: tuple[bool, ...]
    #: (node, arguments, which arguments need a product, tensor op?, op,
    #: keyword arguments, the same with `need` for a selective op), from the
    #: output back
    steps: tuple[tuple[int, tuple[int, ...], tuple[bool, ...], bool, str, dict[str, Any], dict[str, Any]], ...]
    #: needed nodes whose adjoint's finiteness `_implied_finite` checks, in order
    checked: tuple[int, ...]
    #: checked node -> (a scalar op using it, another of that op's arguments,
    #: checked and not in here): when the first node's adjoint is the very
    #: array of the op's (x + b passes its upstream on as it is), the other
    #: argument's finite adjoint already says it is finite
    aliases: dict[int, tuple[int, int]]


def _backward_plan(graph: Graph, values: Sequence[Any], wrt: Sequence[int] | None) -> _BackwardPlan:
    """The plan for these values' input shapes (class indices or
    probabilities) and `wrt`, remembered per graph."""
    key = (tuple(values[i].shape for i in graph.inputs), None if wrt is None else tuple(wrt))
    known = graph.cache.setdefault("backward plans", {})
    plan = known.get(key)
    if plan is not None:
        return plan
    need = tuple(_needed(graph, data_inputs(graph, values), wrt))
    ops, params = graph.ops, graph.params
    out = graph.output
    steps = []
    for i in range(out, -1, -1):
        op = ops[i]
        if not need[i] or op == INPUT or op == CONST:
            continue
        args = graph.args(i)
        wanted = tuple(need[j] for j in args)
        kw = dict(params[i]) if i in params else _NO_PARAMS
        steps.append((i, args, wanted, op in TENSOR_OPS, op, kw, kw if all(wanted) else {**kw, "need": wanted}))
    # A scalar op passes each argument upstream * local partial, and the
    # product of a non-finite number with anything is not finite; sums and
    # broadcasting undone keep a non-finite entry non-finite too. So a
    # finite adjoint of an argument that receives such a product says the
    # node's own adjoint (every entry of it) is finite: only the others are
    # checked. The output's adjoint is the seed, ones.
    def implied(i: int) -> bool:
        return ops[i] != INPUT and ops[i] != CONST and ops[i] not in TENSOR_OPS and any(need[j] for j in graph.args(i))

    checked = tuple(i for i in range(len(graph)) if need[i] and i != out and not implied(i))
    roots = set(checked)
    candidates: dict[int, list[tuple[int, int]]] = {}
    for i in range(out + 1):
        if need[i] and implied(i):
            args = graph.args(i)
            for r in args:
                if r in roots:
                    candidates.setdefault(r, []).extend((i, k) for k in args if k != r and k in roots)
    aliases: dict[int, tuple[int, int]] = {}
    kept_checked: set[int] = set()  # the other arguments relied on: never skipped themselves
    for r in sorted(candidates, reverse=True):  # inner nodes first (inputs such as a bias are the small ones)
        if r in kept_checked:
            continue
        for i, k in candidates[r]:
            if k not in aliases:
                aliases[r] = (i, k)
                kept_checked.add(k)
                break
    plan = _BackwardPlan(need, tuple(steps), checked, aliases)
    if len(known) < _KNOWN_SHAPES and len(graph) <= _PLAN_MAX_NODES:
        known[key] = plan
    return plan


def _backward_pass(plan: _BackwardPlan, values: Sequence[Any], out: int, kept: Mapping[int, Any] | None,
                   careful: bool) -> list[Any]:
    """The adjoints by the plan's steps, from the output `out` back.
    `careful`: each upstream * local partial with a non-finite entry is made
    again with the zero rule (`_times_local`); without it the products are
    left as they come (the same numbers whenever every adjoint turns out
    finite)."""
    adj: list[Any] = [None] * len(values)
    if plan.need[out]:
        adj[out] = np.ones(values[out].shape)
    asarray = np.asarray
    times = _times_local if careful else _times
    for i, args, wanted, tensor_op, op, kw, selective_kw in plan.steps:
        g = adj[i]
        if g is None:
            continue
        argv = [values[j] for j in args]
        if tensor_op and TENSOR_OPS[op].selective:
            kw = selective_kw
        cots = _cotangents(op, kw, None if kept is None else kept.get(i), g, argv, values[i], wanted, times)
        for j, c, w, a in zip(args, cots, wanted, argv):
            if c is None or not w:
                continue
            c = asarray(c, dtype=float)
            if c.shape != a.shape:
                c = unbroadcast(c, a.shape)
            adj[j] = c if adj[j] is None else adj[j] + c
    return adj


def _times(g: Any, p: Any) -> Any:
    """upstream * local partial as it comes: `_times_local` without the
    zero rule, which changes nothing when the product is finite."""
    if type(p) is float and p in (1.0, -1.0):
        return g if p == 1.0 else -g
    return g * p


def _implied_finite(plan: _BackwardPlan, result: Sequence[Any]) -> bool:
    """Every needed adjoint is finite, by checking the plan's `checked` ones
    (an array met twice is checked once)."""
    seen: set[int] = set()  # ids of the arrays checked (all alive in `result`)
    aliases = plan.aliases
    for i in plan.checked:
        a = result[i]
        if i in aliases and a is result[aliases[i][0]] or id(a) in seen:
            continue
        if not all_finite(a):
            return False
        seen.add(id(a))
    return True


def backward(graph: Graph, values: Sequence[Any], wrt: Sequence[int] | None = None,
             kept: Mapping[int, Any] | None = None) -> tuple[list[Any], list[Diagnostic]]:
    """Adjoints d(output)/d(node), each of its node's shape (None for nodes
    that do not depend on any input, and for class-index data), plus a
    warning where a gradient is infinite or undefined.

    `wrt` (input node ids) limits the work to the nodes on a path from one
    of those inputs to the output: the others get None (their adjoints are
    not computed), and a product whose argument needs no adjoint (the
    data side of X @ W when only W's gradient is asked for) is skipped.
    `kept`: what `forward` kept for the rules that reuse it.

    The pass first runs without looking at any product; when every adjoint
    then proves finite (`_implied_finite`), that is the answer. Otherwise it
    runs again the careful way (a zero local partial wins over an infinite
    upstream, and the other way round), and the first non-finite adjoint
    from the output back is reported."""
    n = len(graph)
    plan = _backward_plan(graph, values, wrt)
    need = plan.need
    out = graph.output
    with np.errstate(all="ignore"):
        for careful in (False, True):
            adj = _backward_pass(plan, values, out, kept, careful)
            result = [
                None if not need[i] else (adj[i] if adj[i] is not None else np.zeros(values[i].shape))
                for i in range(n)
            ]
            if not need[out] or (not careful and _implied_finite(plan, result)):
                return result, []
        first = next((i for i in range(n - 1, -1, -1) if result[i] is not None and not all_finite(result[i])), None)
    warnings: list[Diagnostic] = []
    if first is not None:
        a = result[first]
        index, count = _first(~np.isfinite(a))
        warnings.append(Diagnostic(
            "nonfinite",
            _("the gradient at {node} is {value}: an infinite or undefined local derivative on the way back").format(
                node=_where(graph, first, index, count), value=_fmt(float(a[index]))), first))
    return result, warnings


def _needed(graph: Graph, data: set[int], wrt: Sequence[int] | None) -> list[bool]:
    """Nodes whose adjoint is needed: active, not data, and (when `wrt` is
    given) depending on one of the inputs in `wrt`."""
    active = graph.active
    if wrt is None:
        return [active[i] and i not in data for i in range(len(graph))]
    wanted = set(wrt) - data
    need = [False] * len(graph)
    for i in range(len(graph)):
        if not active[i] or i in data:
            continue
        if i in wanted or any(need[j] for j in graph.args(i)):
            need[i] = True
    return need


def value_and_grad(graph: Graph, point: Mapping[str, Any], wrt: Sequence[int],
                   max_entries: int) -> tuple[list[Any], list[Any], list[Diagnostic]]:
    """Every node's value and adjoint at `point` (the adjoints only on paths
    from the inputs `wrt`), and the warnings of the shape check, the forward
    and the backward pass: the whole engine, as `bpcalc grad` runs it."""
    _found, sw = _shapes(graph, point, max_entries, True)
    kept: dict[int, Any] = {}
    values, fw = forward(graph, point, kept)
    adjoints, bw = backward(graph, values, wrt, kept)
    return values, adjoints, [*sw, *fw, *bw]


def evaluate(graph: Graph, point: Mapping[str, Any], max_entries: int) -> Any:
    """The output's value of a program without gradients (constant
    expressions such as `--at x=[1,2]*2`)."""
    shapes(graph, point, max_entries, need_scalar=False)
    values, _warnings = forward(graph, point)
    return values[graph.output]
