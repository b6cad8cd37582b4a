"""The vectorized engine: one program at many points, one numpy array per node.

`evaluate(graph, columns, wrt)` runs the forward and backward passes of
`bpcalc.engine` over whole columns of points at once: every node's value is an
array with one element per point, and each op's numpy functions come from the
op table (`Op.np_forward`, `Op.np_partials`). Points are processed in chunks
of a few thousand rows, so the arrays stay in the processor's cache and memory
stays bounded whatever the number of points (and, for big programs, the chunk
shrinks so that nodes x rows stays under `MAX_CHUNK_BYTES`).

The fast path covers points where everything is finite and regular. A point is
marked *suspect* when something there needs the scalar engine's exact rules:
a non-finite value anywhere it could hide (a domain error, an overflow), a
non-finite gradient (an infinite local derivative, or one multiplied by a zero
adjoint, which the scalar engine skips), a possible kink (relu(0), abs(0),
max/min ties, ...) or a possible underflow. `bpcalc.batch` recomputes suspect
points with the scalar engine, so their warnings, conventions and domain errors
are exactly those of `bpcalc grad`.

Elsewhere numpy's exp, sin, ... may differ from the math module's in the last
bit, and an ill-conditioned point magnifies that without bound
(cos(exp(y)^2.07) at y = 230.7: -1.24 in numpy, 0.89 in the math module). So
every chunk is computed a second time with the result of each such operation
moved by a few units in the last place (`JITTER`, in varied sizes and signs):
a point whose value or gradient moves by more than `SENSITIVE` (relative) is
*sensitive* and suspect too, so the scalar engine computes it and its numbers
are grad's, exactly; every other point agrees with grad to about 1e-10
relative (the test measures it). The second pass is cheap where it can be:
correctly rounded operations (+, -, *, /, sqrt, abs, ...) give the math
module's bits from the same arguments, so only the nodes that depend on an
operation that is not are computed again; and when every path back from
those nodes to the inputs is a plain chain of products (no adjoint is a sum
of two), each gradient moves as its chain's first adjoint moves, which is the
one compared (`VectorTape.frontier`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .engine import VARIADIC  # a node with three or more arguments: all of them where the first goes
from .graph import Graph
from .ops import OPS

#: Rows per chunk for small programs: arrays of 16384 doubles (128 KiB) keep a
#: whole chunk's work inside the processor's caches.
CHUNK_ROWS = 16384
#: Memory for one chunk's node values and adjoints, for large programs.
MAX_CHUNK_BYTES = 256 << 20
#: The second pass moves each operation's result by up to this much (relative)...
JITTER = 2.0**-49  # 8 units in the last place (of 1); the smallest move is 1
#: ... and a point whose value or gradient moves by more than this (relative)
#: is computed by the scalar engine.
SENSITIVE = 1e-11

#: Ops that can turn a non-finite argument into a finite result (exp(-inf) = 0,
#: tanh(inf) = 1, 1/inf = 0, 1^nan = 1, max(nan, 1) = 1 with comparisons, ...):
#: their arguments are checked for finiteness. Every other op passes a
#: non-finite argument on to its result, so checking where values end up is
#: enough.
_ABSORBING = frozenset({
    "div", "pow", "exp", "tanh", "sigmoid", "softplus", "relu", "max", "min",
    "atan", "atan2", "expm1", "erf", "sign", "hypot", "leaky_relu", "elu", "gelu", "silu", "softsign",
})


@dataclass(frozen=True)
class VectorTape:
    """Everything `evaluate` needs, derived once per graph."""

    #: (node, np_forward, arg0, arg1 or -1); for a node with three or more
    #: arguments (node, np_forward, all arguments, VARIADIC), here and below.
    forward: tuple[tuple[int, Callable[..., Any], Any, int], ...]
    #: (node, partials, arg0, arg1 or -1, arg0 active, arg1 active), output first.
    backward: tuple[tuple[int, Callable[..., Any], Any, int, bool, bool], ...]
    #: Nodes whose values must be finite for the fast path to hold.
    watched: tuple[int, ...]
    #: (node's kink predicate, arg0, arg1 or -1) for active nodes with kinks.
    kinks: tuple[tuple[Callable[..., Any], Any, int], ...]
    #: Active nodes that may underflow to 0 (exp, pow, sigmoid).
    underflows: tuple[int, ...]
    #: Constant-only nodes: the same at every point.
    constant: tuple[int, ...]
    #: The second (jittered) pass: the forward entries of the nodes whose value
    #: numpy and the math module may round differently, or that depend on one
    #: (`tainted`), each with its jitter factor (1.0 where the node only depends
    #: on one); every other node is computed by correctly rounded operations
    #: (+, -, *, /, sqrt, ...) from the same numbers in both engines, so it is
    #: the same to the last bit and is not computed again.
    tainted: tuple[tuple[int, Callable[..., Any], Any, int, float], ...] = ()
    #: The backward entries of the active tainted nodes (output first).
    tainted_backward: tuple[tuple[int, Callable[..., Any], Any, int, bool, bool], ...] = ()
    #: The untainted nodes that take adjoint from tainted ones, when every
    #: other path back to the inputs is a plain chain (no node adds two
    #: adjoints up): each reported gradient is then its frontier node's
    #: adjoint times a chain of correctly rounded factors, and moves (relatively)
    #: as that adjoint moves, give or take a few units in the last place. None
    #: when the shortcut does not hold: the whole backward pass runs again.
    frontier: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Batch:
    """Value and gradient at each point: `value[k]`, `gradient[j, k]` for the
    j-th input of `wrt`; `suspect[k]` marks points to recompute with the
    scalar engine (their value and gradient here are not to be used), and
    `sensitive[k]` those among them that are suspect because rounding alone
    moves their result (an ill-conditioned point)."""

    wrt: tuple[str, ...]
    value: np.ndarray
    gradient: np.ndarray
    suspect: np.ndarray
    sensitive: np.ndarray


def vector_tape(graph: Graph) -> VectorTape:
    tape = graph.cache.get("vector tape")
    if tape is not None:
        return tape
    ops, arg0, arg1, active, output = graph.ops, graph.arg0, graph.arg1, graph.active, graph.output
    forward = []
    backward = []
    kinks = []
    underflows = []
    constant = []
    consumed = [False] * len(graph)
    watched = {output}
    more = graph.more
    for i in range(len(graph)):
        a, b = arg0[i], arg1[i]
        if a < 0:
            continue
        op = OPS[ops[i]]
        args = graph.args(i)
        if more and i in more:
            a, b = args, VARIADIC  # type: ignore[assignment]
        forward.append((i, op.np_forward, a, b))
        for j in args:
            consumed[j] = True
        if op.name in _ABSORBING:
            watched.update(args)
        if not active[i]:
            constant.append(i)
            continue
        if i <= output:
            if b == VARIADIC:
                backward.append((i, op.np_partials, a, b, False, False))
            else:
                backward.append((i, op.np_partials, a, b, active[a], b >= 0 and active[b]))
        if op.np_kink is not None:
            kinks.append((op.np_kink, a, b))
        if op.underflow is not None:
            underflows.append(i)
    watched.update(i for i in range(len(graph)) if not consumed[i] and arg0[i] >= 0)
    backward.reverse()
    tainted, tainted_backward, frontier = _second_pass(graph, forward, backward)
    tape = VectorTape(
        tuple(forward), tuple(backward),
        tuple(sorted(i for i in watched if active[i] and arg0[i] >= 0)),
        tuple(kinks), tuple(underflows), tuple(constant), tainted, tainted_backward, frontier,
    )
    graph.cache["vector tape"] = tape
    return tape


#: Ops whose numpy result is the math module's to the last bit (correctly
#: rounded in IEEE arithmetic, or exact): nothing to jitter.
_EXACT = frozenset({"neg", "add", "sub", "mul", "div", "sqrt", "abs", "relu", "max", "min"})
#: The frontier shortcut is taken for programs of at most this many nodes (a
#: chain of k correctly rounded products moves a result by at most ~k units in
#: the last place more than its frontier's adjoint moves: far below SENSITIVE/2).
_FRONTIER_MAX_NODES = 10_000


def _second_pass(graph: Graph, forward: list, backward: list) -> tuple[tuple, tuple, tuple[int, ...] | None]:
    """What the jittered pass computes again (see VectorTape)."""
    n = len(graph)
    ops, active, output = graph.ops, graph.active, graph.output
    tainted = [False] * n
    entries = []
    for i, f, a, b in forward:
        args = a if b == VARIADIC else (a,) if b < 0 else (a, b)
        source = ops[i] not in _EXACT
        if source or any(tainted[j] for j in args):
            tainted[i] = True
            entries.append((i, f, a, b, _JITTERS[i * 40503 % 65521 % 16] if source else 1.0))
    if not tainted[output]:
        return (), (), ()
    tainted_backward = tuple(e for e in backward if tainted[e[0]])
    # adjoint contributions each untainted active node receives (with multiplicity)
    takers: list[list[int]] = [[] for _ in range(n)]
    for i, _p, a, b, _aa, _ab in backward:
        args = a if b == VARIADIC else (a,) if b < 0 else (a, b)
        for j in args:
            if active[j]:
                takers[j].append(i)
    frontier = []
    chain = n <= _FRONTIER_MAX_NODES
    for j in range(n):
        if not active[j] or tainted[j] or not takers[j]:
            continue
        from_tainted = [tainted[i] for i in takers[j]]
        if all(from_tainted):
            frontier.append(j)
        elif any(from_tainted) or len(takers[j]) > 1:
            chain = False
    return tuple(entries), tainted_backward, (tuple(frontier) if chain else None)


def chunk_rows(graph: Graph) -> int:
    """Rows per chunk: CHUNK_ROWS, fewer when the program is large."""
    per_row = 16 * max(1, len(graph))  # a value and an adjoint per node
    return max(1, min(CHUNK_ROWS, MAX_CHUNK_BYTES // per_row))


def evaluate(graph: Graph, columns: Mapping[str, np.ndarray], wrt: Sequence[str] | None = None) -> Batch:
    """Value and gradient of `graph`'s output at every point.

    `columns` maps each input name to a 1-D float array (all the same length);
    `wrt` chooses the inputs whose gradient is reported (default: all).
    """
    names = graph.input_names
    wrt = tuple(names if wrt is None else wrt)
    missing = [name for name in names if name not in columns]
    if missing:
        raise ValueError(f"no values for input{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    cols = [np.ascontiguousarray(columns[name], dtype=np.float64) for name in names]
    n = len(cols[0]) if cols else _rows_without_inputs(columns)
    if any(c.shape != (n,) for c in cols):
        raise ValueError("every input column must be a 1-D array of the same length")
    value = np.empty(n)
    gradient = np.empty((len(wrt), n))
    suspect = np.zeros(n, dtype=bool)
    sensitive = np.zeros(n, dtype=bool)
    report = [graph.input_id(name) for name in wrt]
    tape = vector_tape(graph)
    step = chunk_rows(graph)

    def run(lo: int) -> None:
        hi = min(n, lo + step)
        with np.errstate(all="ignore"):
            _chunk(graph, tape, [c[lo:hi] for c in cols], hi - lo, report,
                   value[lo:hi], gradient[:, lo:hi], suspect[lo:hi], sensitive[lo:hi])

    starts = range(0, n, step)
    if len(starts) > 1 and _threads() > 1:
        # numpy lets go of the interpreter lock inside each operation: the
        # chunks of one call run on every core (each writes its own slices)
        for _ in _pool().map(run, starts):
            pass
    else:
        for lo in starts:
            run(lo)
    return Batch(wrt, value, gradient, suspect, sensitive)


def _threads() -> int:
    """Threads for the chunks of one call: `BPCALC_THREADS`, else 1 (every
    chunk in the calling thread). A second thread pays only on an idle
    machine: on a shared 2-core machine it measured 1.1-1.2 x slower than
    one (the GIL between numpy calls, and a core that is not free)."""
    import os

    wanted = os.environ.get("BPCALC_THREADS", "")
    return max(1, int(wanted)) if wanted.strip().isdigit() else 1


_POOL: list[Any] = []


def _pool() -> Any:
    """One pool of worker threads for the process, made on first use."""
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="bpcalc-vector"))
    return _POOL[0]


def outputs(graph: Graph, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The output's value at every point: the forward pass only, as numpy
    computes it (no suspect points: inf and nan are left as they are)."""
    names = graph.input_names
    cols = [np.ascontiguousarray(columns[name], dtype=np.float64) for name in names]
    n = len(cols[0]) if cols else _rows_without_inputs(columns)
    out = np.empty(n)
    tape = vector_tape(graph)
    step = chunk_rows(graph)
    with np.errstate(all="ignore"):
        for lo in range(0, n, step):
            values = _forward(graph, tape, [c[lo : lo + step] for c in cols])
            out[lo : lo + step] = values[graph.output]
    return out


def _forward(graph: Graph, tape: VectorTape, cols: list[np.ndarray], jitter: bool = False) -> list[Any]:
    """Every node's value over one chunk (arrays; constants stay 0-d), each
    operation's result moved by up to ±JITTER if `jitter`."""
    values: list[Any] = [None] * len(graph)
    for i, col in zip(graph.inputs, cols):
        values[i] = col
    for i, (v, _literal) in graph.consts.items():
        values[i] = np.float64(v)  # numpy's IEEE arithmetic: 1.0 / 0 is inf, not ZeroDivisionError
    for i, f, a, b in tape.forward:
        if b == -1:
            out = f(np, values[a])
        elif b == VARIADIC:  # a is the tuple of arguments
            out = f(np, *[values[j] for j in a])
        else:
            out = f(np, values[a], values[b])
        values[i] = out * _JITTERS[i * 40503 % 65521 % 16] if jitter else out
    return values


#: 1 ± JITTER times 1/8, ..., 8/8, one for each node in a scattered order: two
#: nodes whose moves cancel exactly (tanh(a) and tanh(b) both near 1, in
#: tanh'(a) - tanh'(b)) are unlikely.
_JITTERS = tuple(1.0 + s * k / 8 * JITTER for k in range(1, 9) for s in (1, -1))


def _rows_without_inputs(columns: Mapping[str, np.ndarray]) -> int:
    lengths = {len(c) for c in columns.values()}
    return lengths.pop() if len(lengths) == 1 else 1


def _chunk(graph: Graph, tape: VectorTape, cols: list[np.ndarray], rows: int, report: list[int],
           value: np.ndarray, gradient: np.ndarray, suspect: np.ndarray, sensitive: np.ndarray) -> None:
    """Forward and backward over one chunk, then again with the result of
    every operation that numpy may round differently jittered; results
    written into the views."""
    values = _forward(graph, tape, cols)

    # -- which points need the scalar engine --
    if not all(np.isfinite(values[i]).all() for i in tape.constant):
        suspect[:] = True  # the same at every point: let the scalar engine report it
        return
    for predicate, a, b in tape.kinks:
        if b == VARIADIC:
            suspect |= predicate(np, *[values[j] for j in a])
        else:
            suspect |= predicate(np, values[a]) if b < 0 else predicate(np, values[a], values[b])
    for i in tape.underflows:
        v = values[i]
        if not v.all():  # a zero somewhere (no temporary when there is none)
            suspect |= v == 0

    frontier = tape.frontier or ()
    slots = {i: gradient[j] for j, i in enumerate(report)}
    adj, kept = _backward(graph, tape.backward, values, rows, frontier, slots)
    out = values[graph.output]
    value[:] = out
    for j, i in enumerate(report):
        g = adj[i]
        if g is None:
            gradient[j] = 0.0
        elif g is not slots[i]:
            gradient[j] = g
    # finite everywhere it could hide: a sum of each is finite unless an entry
    # is not (or the sum overflows); only then look entry by entry
    checked = [values[i] for i in tape.watched]
    checked += [adj[i] for i in graph.inputs if adj[i] is not None and i not in slots]
    if not (all(np.isfinite(np.add.reduce(c)) for c in checked)
            and np.isfinite(np.add.reduce(gradient, axis=1)).all()):
        acc = np.zeros(rows)
        for c in checked:
            acc += c
        for g in gradient:
            acc += g
        suspect |= ~np.isfinite(acc)

    # -- the same with each inexact operation's rounding moved: how sensitive is each point --
    if not tape.tainted:
        return  # correctly rounded operations only: numpy's numbers are the math module's
    moved = list(values)
    for i, f, a, b, jitter in tape.tainted:
        if b == -1:
            v = f(np, moved[a])
        elif b == VARIADIC:
            v = f(np, *[moved[j] for j in a])
        else:
            v = f(np, moved[a], moved[b])
        moved[i] = v * jitter if jitter != 1.0 else v
    drift = _moved(value, moved[graph.output], SENSITIVE)
    if tape.frontier is not None:
        moved_adj, _ = _backward(graph, tape.tainted_backward, moved, rows, ())
        for i in tape.frontier:
            if moved_adj[i] is not None:
                drift |= _moved(kept[i], moved_adj[i], SENSITIVE / 2)
        if _tiny(gradient):  # a (nearly) subnormal gradient has lost relative precision: compare it itself
            moved_adj, _ = _backward(graph, tape.backward, moved, rows, ())
            drift |= _moved_rows(gradient, [moved_adj[i] for i in report])
    else:
        moved_adj, _ = _backward(graph, tape.backward, moved, rows, ())
        drift |= _moved_rows(gradient, [moved_adj[i] for i in report])
    sensitive |= drift & ~suspect
    suspect |= drift


#: Below this a gradient may be subnormal (or become so when it moves): the
#: frontier shortcut does not judge it.
_TINY = 2.0**-960


def _tiny(a: np.ndarray) -> bool:
    """Some entry of `a` is not zero but below _TINY in magnitude."""
    if not a.size:
        return False
    m = np.abs(a)
    if m.min(axis=None) >= _TINY:
        return False
    return bool(((m < _TINY) & (m > 0)).any())


def _moved(was: np.ndarray, now: Any, limit: float) -> np.ndarray:
    """Where `now` differs from `was` by more than `limit`, relatively."""
    d = now - was
    np.abs(d, out=d)
    w = np.abs(was)
    w *= limit
    return d > w


def _moved_rows(was: np.ndarray, now: list[Any]) -> np.ndarray:
    """Rows (points) where some row of `now` differs from the same row of
    `was` (one row a reported gradient) by more than SENSITIVE, relatively."""
    drift = np.zeros(was.shape[1], dtype=bool)
    for w, v in zip(was, now):
        if v is not None:
            drift |= _moved(w, v, SENSITIVE)
    return drift


def _backward(graph: Graph, entries: Sequence[tuple], values: list[Any], rows: int,
              keep: Sequence[int], slots: Mapping[int, np.ndarray] | None = None) -> tuple[list[Any], dict[int, np.ndarray]]:
    """Adjoints, output first, through `entries`; a node's adjoint is freed
    once used (only the inputs' remain, and those of the nodes in `keep`,
    returned apart). `slots` gives arrays where some nodes' adjoints are
    made in place (the rows of the result), when they can be."""
    adj: list[Any] = [None] * len(graph)
    slots = slots or {}
    kept: dict[int, np.ndarray] = {}
    adj[graph.output] = np.ones(rows)
    for i, p, a, b, act_a, act_b in entries:
        g = adj[i]
        if g is None:
            continue
        adj[i] = None
        mine = True
        if keep and i in keep:
            kept[i] = g
            mine = False
        if b == VARIADIC:
            active = graph.active
            for j, pj in zip(a, p(np, *[values[j] for j in a], values[i])):
                if active[j]:
                    _accumulate(adj, j, g, pj, False, slots)
        elif b < 0:
            _accumulate(adj, a, g, p(np, values[a], values[i])[0], mine, slots)
        else:
            pa, pb = p(np, values[a], values[b], values[i])
            given = act_a and _accumulate(adj, a, g, pa, mine, slots)
            if act_b:
                _accumulate(adj, b, g, pb, mine and not given, slots)
    for i in keep:
        if adj[i] is not None:  # an input on the frontier keeps its own adjoint
            kept[i] = adj[i]
    return adj, kept


def _accumulate(adj: list[Any], a: int, g: np.ndarray, partial: Any, may_take: bool,
                slots: Mapping[int, np.ndarray]) -> bool:
    """adj[a] += g * partial. Returns True when `g` itself became adj[a] (it
    may be given away once, when its node is done with it). A node with a
    slot gets its first contribution written into the slot."""
    current = adj[a]
    if partial.__class__ is float:
        if partial == 1.0:
            if current is not None:
                current += g
                return False
            if a in slots:
                adj[a] = slot = slots[a]
                np.copyto(slot, g)
                return False
            adj[a] = g if may_take else g.copy()
            return may_take
        if partial == -1.0:
            if current is not None:
                current -= g
            elif a in slots:
                adj[a] = np.negative(g, out=slots[a])
            else:
                adj[a] = -g
            return False
    if current is None:
        if a in slots:
            adj[a] = np.multiply(g, partial, out=slots[a])
        else:
            adj[a] = g * partial
    else:
        current += g * partial
    return False
