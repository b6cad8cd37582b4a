"""The vectorized engine: one program at many points, one numpy array per node.

`evaluate(graph, columns, wrt)` runs the forward and backward passes of
`bpcalc.engine` over whole columns of points at once: every node's value is an
array with one element per point, and each op's numpy functions come from the
op table (`Op.np_forward`, `Op.np_partials`). Points are processed in chunks
of some thousands of rows, so the arrays stay in the processor's caches and memory
stays bounded whatever the number of points (and, for big programs, the chunk
shrinks so that nodes x rows stays under `MAX_CHUNK_BYTES`). Each thread keeps
a row per node for values and one for adjoints (`Work`), reused chunk after
chunk: an op that is a ufunc (`Op.np_ufunc`) writes its result into its row,
and an adjoint that is one contribution passed on unchanged is shared, not
copied; so the fast path allocates (and the system maps) almost nothing.

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
moved up, point by point, by a random 2^-37 to 2^-36 (`jitters`): a point
whose value or gradient moves by more than `SENSITIVE` (relative: what 8
units in the last place would move by 1e-11), or leaves a domain (a nan),
or whose argument of a kink moves that much (which side of relu's kink it
is on is rounding's choice), or whose gradient is a sum that cancels (the
terms' magnitudes, `_scales`, far above the sum), is *sensitive* and
suspect too, so the scalar engine computes it and its numbers are grad's,
exactly; every other point agrees with grad to about 1e-10 relative (the
tests measure it). The second pass is cheap where it can be:
correctly rounded operations (+, -, *, /, sqrt, abs, ...) give the math
module's bits from the same arguments, so only the nodes that depend on an
operation that is not are computed again; and when every path back from
those nodes to the inputs is a plain chain of products (no adjoint is a sum
of two), each gradient moves as its chain's first adjoint moves, which is the
one compared (`VectorTape.frontier`). And where the program's structure
bounds how far those last-bit differences can travel (`_bounded`: sources
such as exp and log followed by products, quotients and sums that cannot
cancel, like the sigmoid neuron 1/(1 + exp(-z))), no point can move by
SENSITIVE and the second pass is not run at all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .engine import VARIADIC  # a node with three or more arguments: all of them where the first goes
from .graph import Graph
from .ops import OPS

#: Rows per chunk for small programs: arrays of 32768 doubles (256 KiB); with
#: the reused rows of `Work`, 32768 measured 5-15 % faster than 16384 on the
#: CS231n neuron (benchmarks/README.md) and a chunk still fits the caches.
CHUNK_ROWS = 32768
#: Memory for one chunk's node values and adjoints, for large programs.
MAX_CHUNK_BYTES = 256 << 20
#: The second pass moves each operation's result by up to this much (relative)...
JITTER = 2.0**-36  # 65536 units in the last place (of 1); the smallest move is half that
#: ... and a point whose value or gradient moves by more than this (relative)
#: is computed by the scalar engine: the magnification at which 8 units in
#: the last place move a result by 1e-11. (Until 2026-11-29 the moves were a
#: few units in the last place, one size per node: two sums of moved terms
#: could round them away or cancel exactly, and an ill-conditioned point
#: went unseen; tests/test_vector.py has the case. Now each point draws its
#: own moves, in a range wide enough that a cancellation needs two sums of
#: random moves to agree to 1 part in 65536.)
SENSITIVE = 1e-11 * (JITTER / 2.0**-49)

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
    #: For each forward entry, the op's numpy ufunc (`Op.np_ufunc`) when the
    #: node changes from point to point, else None: the result is written
    #: into the node's row of a block reused chunk after chunk.
    ufuncs: tuple[Any, ...]
    #: (node, partials, arg0, arg1 or -1, arg0 active, arg1 active), output first.
    backward: tuple[tuple[int, Callable[..., Any], Any, int, bool, bool], ...]
    #: Nodes whose values must be finite for the fast path to hold.
    watched: tuple[int, ...]
    #: (node's kink predicate, arg0, arg1 or -1) for active nodes with kinks.
    kinks: tuple[tuple[Callable[..., Any], Any, int], ...]
    #: (node, result >= 0) for active nodes that may underflow to 0 (exp, pow,
    #: sigmoid); a result >= 0 (`Op.nonnegative`: exp, sigmoid) below the
    #: smallest normal number is suspect too.
    underflows: tuple[tuple[int, bool], ...]
    #: Constant-only nodes: the same at every point.
    constant: tuple[int, ...]
    #: The second (jittered) pass: the forward entries of the nodes whose value
    #: numpy and the math module may round differently, or that depend on one
    #: (`tainted`), each with True for an op that is not correctly rounded
    #: (its result moved by `jitters`), False for one that only depends on
    #: one; every other node is computed by correctly rounded operations
    #: (+, -, *, /, sqrt, ...) from the same numbers in both engines, so it is
    #: the same to the last bit and is not computed again.
    tainted: tuple[tuple[int, Callable[..., Any], Any, int, bool], ...] = ()
    #: The backward entries of the active tainted nodes (output first).
    tainted_backward: tuple[tuple[int, Callable[..., Any], Any, int, bool, bool], ...] = ()
    #: The untainted nodes that take adjoint from tainted ones, when every
    #: other path back to the inputs is a plain chain (no node adds two
    #: adjoints up): each reported gradient is then its frontier node's
    #: adjoint times a chain of correctly rounded factors, and moves (relatively)
    #: as that adjoint moves, give or take a few units in the last place. None
    #: when the shortcut does not hold: the whole backward pass runs again.
    frontier: tuple[int, ...] | None = None
    #: The second pass is not needed: `_bounded` proved that moving every
    #: inexact operation's result by JITTER moves the value and each frontier
    #: adjoint by at most BOUND x JITTER (relative), far below SENSITIVE, at
    #: every point where everything is finite. Only gradients so small that a
    #: product lost relative precision (below `_TINY`) are left to the scalar engine.
    bounded: bool = False
    #: The moved arguments of ops with kinks (relu, abs, max, ...): where one
    #: moves by more than SENSITIVE, which side of the kink the point is on is
    #: decided by rounding (relu(sin(exp(58))): numpy's sin is negative, the
    #: math module's positive), even when the output does not move.
    fragile: tuple[int, ...] = ()


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
    ufuncs = []
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
        ufuncs.append(getattr(np, op.np_ufunc) if op.np_ufunc and active[i] and b != VARIADIC else None)
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
            underflows.append((i, op.nonnegative))
    watched.update(i for i in range(len(graph)) if not consumed[i] and arg0[i] >= 0)
    backward.reverse()
    tainted, tainted_backward, frontier = _second_pass(graph, forward, backward)
    bounded = bool(tainted) and _bounded(graph, tainted, tainted_backward, frontier)
    if bounded:
        tainted, tainted_backward = (), ()
    moved = {e[0] for e in tainted}
    fragile = sorted({j for _p, a, b in kinks for j in ((*a,) if b == VARIADIC else (a, b)) if j in moved})
    tape = VectorTape(
        tuple(forward), tuple(ufuncs), tuple(backward),
        tuple(sorted(i for i in watched if active[i] and arg0[i] >= 0)),
        tuple(kinks), tuple(underflows), tuple(constant), tainted, tainted_backward, frontier, bounded,
        tuple(fragile),
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
            entries.append((i, f, a, b, source))
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


#: Inexact operations `_bounded` accepts as the source of a rounding
#: difference (applied to numbers that both engines have to the last bit):
#: their partial is their own result (exp) or exact from the argument (log).
_BOUNDED_SOURCES = frozenset({"exp", "log"})
#: The largest move, in units of JITTER, that `_bounded` accepts: BOUND x
#: JITTER is 1/22 of SENSITIVE.
BOUND = 256.0


def _signs(graph: Graph) -> list[int]:
    """Each node's sign where the program's structure fixes it: 1 for >= 0
    at every point, -1 for <= 0, 0 when it depends on the point."""
    ops, arg0, arg1 = graph.ops, graph.arg0, graph.arg1
    sign = [0] * len(graph)
    for i, (v, _literal) in graph.consts.items():
        if isinstance(v, float) and v == v:
            sign[i] = 1 if v >= 0 else -1
    for i in range(len(graph)):
        a, b, op = arg0[i], arg1[i], ops[i]
        if a < 0 or (graph.more and i in graph.more):
            continue
        if getattr(OPS.get(op), "nonnegative", False) or (op == "mul" and a == b):
            sign[i] = 1
        elif op == "neg":
            sign[i] = -sign[a]
        elif op in ("mul", "div"):
            sign[i] = sign[a] * sign[b]
        elif op == "add" and sign[a] == sign[b]:
            sign[i] = sign[a]
        elif op == "sub" and sign[a] == -sign[b]:
            sign[i] = sign[a]
    return sign


def _bounded(graph: Graph, tainted: Sequence[tuple], tainted_backward: Sequence[tuple],
             frontier: tuple[int, ...] | None) -> bool:
    """Whether moving every inexact operation's result by at most JITTER
    (relative) provably moves the output and every frontier adjoint by at
    most BOUND x JITTER (relative) at every point where all values are
    finite: then the second pass could flag no point and is not run.

    A first-order bound on relative moves, node by node: a source
    (`_BOUNDED_SOURCES`, of unmoved arguments) moves by 1; a product or
    quotient by the sum of its arguments' moves; a negation by its
    argument's; a sum or difference by the larger of its arguments' moves
    only when the two cannot cancel (same sign for +, opposite for -, as
    `_signs` proves); every rounding adds 1 (a generous unit: one rounding
    is 1/16 of JITTER). The same for the adjoints of the moved nodes, from
    the output's (1, unmoved) back: each contribution is the adjoint times
    the op's partial (a product of moved and unmoved values), and a node
    taking several contributions needs them all of one sign. Anything else
    (another op, a moved argument of a source, a sign the structure does not
    fix, no frontier shortcut) is not bounded here: the second pass decides."""
    if frontier is None:
        return False
    ops = graph.ops
    sign = _signs(graph)
    move: dict[int, float] = {}
    for i, _f, a, b, _source in tainted:
        op = ops[i]
        if b == VARIADIC:
            return False
        ra, rb = move.get(a, 0.0), move.get(b, 0.0) if b >= 0 else 0.0
        if op in _BOUNDED_SOURCES:
            if ra:
                return False
            move[i] = 1.0
        elif op == "neg":
            move[i] = ra
        elif op in ("mul", "div"):
            move[i] = ra + rb + 1
        elif (op == "add" and sign[a] == sign[b] != 0) or (op == "sub" and sign[a] == -sign[b] != 0):
            move[i] = max(ra, rb) + 1
        else:
            return False
    # adjoints: contributions (move, sign) each moved or frontier node receives
    taken: dict[int, list[tuple[float, int]]] = {graph.output: [(0.0, 1)]}
    adjoint: dict[int, tuple[float, int]] = {}

    def settle(j: int) -> tuple[float, int] | None:
        parts = taken.get(j)
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        s = parts[0][1]
        if s == 0 or any(p[1] != s for p in parts):
            return None  # contributions that may cancel
        return max(p[0] for p in parts) + len(parts), s

    for i, _p, a, b, act_a, act_b in tainted_backward:
        got = settle(i)
        if got is None:
            if i in taken:
                return False
            continue  # no adjoint reaches this node
        adjoint[i] = got
        r, s = got
        op = ops[i]
        ra, rb = move.get(a, 0.0), move.get(b, 0.0) if b >= 0 else 0.0
        out: list[tuple[int, bool, float, int]] = []  # (argument, active, move, sign)
        if op == "neg":
            out.append((a, act_a, r, -s))
        elif op == "add":
            out += [(a, act_a, r, s), (b, act_b, r, s)]
        elif op == "sub":
            out += [(a, act_a, r, s), (b, act_b, r, -s)]
        elif op == "mul":
            out += [(a, act_a, r + rb + 1, s * sign[b]), (b, act_b, r + ra + 1, s * sign[a])]
        elif op == "div":
            out += [(a, act_a, r + rb + 2, s * sign[b]), (b, act_b, r + move[i] + rb + 2, -s * sign[i] * sign[b])]
        elif op == "exp":
            out.append((a, act_a, r + move[i] + 1, s * sign[i]))
        elif op == "log":
            out.append((a, act_a, r + 2, s * sign[a]))
        else:
            return False
        for j, act, rj, sj in out:
            if act:
                taken.setdefault(j, []).append((rj, sj))
    worst = move[graph.output]
    for j in frontier:
        got = settle(j)
        if got is None:
            if j in taken:
                return False
            continue
        worst = max(worst, got[0])
    return worst <= BOUND and all(r <= BOUND for r, _s in adjoint.values())


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
                   value[lo:hi], gradient[:, lo:hi], suspect[lo:hi], sensitive[lo:hi], _work(len(graph), step))

    starts = range(0, n, step)
    if len(starts) > 1 and _threads() > 1:
        # numpy lets go of the interpreter lock inside each operation: the
        # chunks of one call run on every core (each writes its own slices)
        k = _threads()
        share = -(-len(starts) // k)  # each thread a run of consecutive chunks
        for _ in _pool().map(lambda part: [run(lo) for lo in part],
                             [starts[t * share:(t + 1) * share] for t in range(k)]):
            pass
    else:
        for lo in starts:
            run(lo)
    return Batch(wrt, value, gradient, suspect, sensitive)


@dataclass(frozen=True)
class Work:
    """Arrays one thread reuses chunk after chunk (none is allocated per
    operation, so no page is mapped and unmapped at every step): a row per
    node for values and one for adjoints, all ones (the output's adjoint)
    and a scratch row."""

    values: np.ndarray
    adjoints: np.ndarray
    ones: np.ndarray
    scratch: np.ndarray
    #: Scratch blocks by shape (the magnitudes of a chunk's gradients).
    blocks: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)
    #: The second pass's factors by node (`jitters`).
    moves: dict[int, np.ndarray] = field(default_factory=dict)

    @staticmethod
    def of(nodes: int, rows: int) -> "Work":
        return Work(np.empty((nodes, rows)), np.empty((nodes, rows)), np.ones(rows), np.empty(rows))

    def jitters(self, node: int, rows: int) -> np.ndarray:
        """`jitters(node, ...)` for the first `rows` rows of a chunk, kept."""
        found = self.moves.get(node)
        if found is None:
            found = self.moves[node] = jitters(node, len(self.ones))
        return found[:rows]

    def rows_like(self, a: np.ndarray) -> np.ndarray:
        """A scratch block of `a`'s shape, kept for the next chunk."""
        block = self.blocks.get(a.shape)
        if block is None:
            block = self.blocks[a.shape] = np.empty(a.shape)
        return block


#: Work blocks up to this size stay allocated between calls (per thread).
_KEEP_WORK_BYTES = 64 << 20
_WORK = threading.local()


def _work(nodes: int, rows: int) -> Work:
    """This thread's work arrays for `nodes` x `rows`, reused between calls
    when they are small."""
    work = getattr(_WORK, "work", None)
    if work is not None and work.values.shape == (nodes, rows):
        return work
    work = Work.of(nodes, rows)
    if 16 * nodes * rows <= _KEEP_WORK_BYTES:
        _WORK.work = work
    return work


def _threads() -> int:
    """Threads for the chunks of one call: `BPCALC_THREADS`, else 1 (every
    chunk in the calling thread; each thread takes a run of consecutive
    chunks). A second thread pays only when the second core is free: on the
    2-core machine of benchmarks/README.md, the neuron at 10^6 points took
    8.8 ms with two threads against 11.2 with one when idle (chunks of 65536
    rows), but 13.6 against 11.3 with another process busy on one core, and
    27 against 13 when JAX's thread pool ran in the same process (the GIL
    between numpy calls, and a core that is not free)."""
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


def _forward(graph: Graph, tape: VectorTape, cols: list[np.ndarray], rows: np.ndarray | None = None,
             out: np.ndarray | None = None) -> list[Any]:
    """Every node's value over one chunk (arrays; constants stay 0-d),
    written into `rows` (a row per node, a chunk long) where the op is a
    ufunc and `rows` is given; the output's into `out` if given."""
    if rows is not None and out is not None:
        rows = list(rows)
        rows[graph.output] = out
    values: list[Any] = [None] * len(graph)
    for i, col in zip(graph.inputs, cols):
        values[i] = col
    for i, (v, _literal) in graph.consts.items():
        values[i] = np.float64(v)  # numpy's IEEE arithmetic: 1.0 / 0 is inf, not ZeroDivisionError
    for (i, f, a, b), uf in zip(tape.forward, tape.ufuncs if rows is not None else [None] * len(tape.forward)):
        if uf is not None:
            values[i] = uf(values[a], out=rows[i]) if b == -1 else uf(values[a], values[b], out=rows[i])
        elif b == -1:
            values[i] = f(np, values[a])
        elif b == VARIADIC:  # a is the tuple of arguments
            values[i] = f(np, *[values[j] for j in a])
        else:
            values[i] = f(np, values[a], values[b])
    return values


def jitters(node: int, rows: int) -> np.ndarray:
    """The factors that move node `node`'s result in the second pass, one
    per row of a chunk: 1 + JITTER x (1/2 to 1), the size drawn at random
    (seeded by the node, so a run is repeatable). All upwards: two moved
    terms of a sum (exp(z) + exp(z), written twice) cannot cancel; in a
    difference (tanh(a) - tanh(b)) their sizes differ, point by point, but by
    a rare chance."""
    rng = np.random.default_rng([node, 0x5EED])
    return 1.0 + JITTER * rng.uniform(0.5, 1.0, rows)


def _rows_without_inputs(columns: Mapping[str, np.ndarray]) -> int:
    lengths = {len(c) for c in columns.values()}
    return lengths.pop() if len(lengths) == 1 else 1


def _chunk(graph: Graph, tape: VectorTape, cols: list[np.ndarray], rows: int, report: list[int],
           value: np.ndarray, gradient: np.ndarray, suspect: np.ndarray, sensitive: np.ndarray,
           work: Work | None = None) -> None:
    """Forward and backward over one chunk, then again with the result of
    every operation that numpy may round differently jittered; results
    written into the views. `work`: arrays to reuse (allocated if None)."""
    work = work or Work.of(len(graph), rows)
    values = _forward(graph, tape, cols, work.values[:, :rows], value)

    # -- which points need the scalar engine --
    if not all(np.isfinite(values[i]).all() for i in tape.constant):
        suspect[:] = True  # the same at every point: let the scalar engine report it
        return
    for predicate, a, b in tape.kinks:
        if b == VARIADIC:
            suspect |= predicate(np, *[values[j] for j in a])
        else:
            suspect |= predicate(np, values[a]) if b < 0 else predicate(np, values[a], values[b])
    for i, nonnegative in tape.underflows:
        v = values[i]
        if nonnegative:  # a zero, or a subnormal that kept only some bits
            if not v.min() >= _NORMAL:  # (a nan elsewhere makes the smallest nan)
                suspect |= v < _NORMAL
        elif not v.all():  # a zero somewhere (no temporary when there is none)
            suspect |= v == 0

    frontier = tape.frontier or ()
    slots = {i: gradient[j] for j, i in enumerate(report)}
    adj, kept = _backward(graph, tape.backward, values, rows, frontier, slots, work)
    if values[graph.output] is not value:
        value[:] = values[graph.output]
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
    finite, tiny = _magnitudes(gradient, work.rows_like(gradient))
    if not (finite and all(np.isfinite(np.add.reduce(c)) for c in checked)):
        acc = np.zeros(rows)
        for c in checked:
            acc += c
        for g in gradient:
            acc += g
        suspect |= ~np.isfinite(acc)

    # -- the same with each inexact operation's rounding moved: how sensitive is each point --
    if tape.bounded:
        if tiny:  # a (nearly) subnormal gradient: the scalar engine computes it
            m = np.abs(gradient)
            suspect |= ((m < _TINY) & (m > 0)).any(axis=0)
        return
    if not tape.tainted:
        return  # correctly rounded operations only: numpy's numbers are the math module's
    moved = list(values)
    for i, f, a, b, source in tape.tainted:
        if b == -1:
            v = f(np, moved[a])
        elif b == VARIADIC:
            v = f(np, *[moved[j] for j in a])
        else:
            v = f(np, moved[a], moved[b])
        moved[i] = v * work.jitters(i, rows) if source else v
    drift = _moved(value, moved[graph.output], SENSITIVE)
    for i in tape.fragile:
        drift |= _moved(values[i], moved[i], SENSITIVE)
    if tape.frontier is not None:
        moved_adj, _ = _backward(graph, tape.tainted_backward, moved, rows, ())
        scale = _scales(graph, tape.tainted_backward, values, rows)
        for i in tape.frontier:
            if moved_adj[i] is not None:
                drift |= _moved(kept[i], moved_adj[i], SENSITIVE / 2)
                drift |= _cancelled(kept[i], scale[i])
        if tiny:  # a (nearly) subnormal gradient has lost relative precision: compare it itself
            moved_adj, _ = _backward(graph, tape.backward, moved, rows, ())
            drift |= _moved_rows(gradient, [moved_adj[i] for i in report])
    else:
        moved_adj, _ = _backward(graph, tape.backward, moved, rows, ())
        drift |= _moved_rows(gradient, [moved_adj[i] for i in report])
        scale = _scales(graph, tape.backward, values, rows)
        for j, i in enumerate(report):
            if scale[i] is not None:
                drift |= _cancelled(gradient[j], scale[i])
    sensitive |= drift & ~suspect
    suspect |= drift


#: The smallest normal double: an exp (a sigmoid) below it has lost relative precision
#: (numpy's and the math module's may differ by more than a last bit).
_NORMAL = 2.0**-1022
#: Below this a gradient may be subnormal (or become so when it moves): the
#: frontier shortcut and `_bounded` do not judge it.
_TINY = 2.0**-960


def _magnitudes(a: np.ndarray, scratch: np.ndarray) -> tuple[bool, bool]:
    """Whether every entry of `a` is finite, and whether some entry is not
    zero but below _TINY in magnitude (`scratch`: a block of a's shape; no
    temporary unless an entry is below _TINY)."""
    if not a.size:
        return True, False
    m = np.abs(a, out=scratch)
    finite = bool(np.isfinite(m.max()))  # a nan makes the largest nan
    return finite, not m.min() >= _TINY and bool(((m < _TINY) & (m > 0)).any())  # (a nan makes the smallest nan)


def _partials(graph: Graph, entry: tuple, values: list[Any]) -> list[tuple[int, Any]]:
    """A backward entry's (argument, local partial) pairs, for its active
    arguments: the op table's `np_partials` at the node's values."""
    i, p, a, b, act_a, act_b = entry
    if b == VARIADIC:
        active = graph.active
        return [(j, pj) for j, pj in zip(a, p(np, *[values[j] for j in a], values[i])) if active[j]]
    if b < 0:
        return [(a, p(np, values[a], values[i])[0])] if act_a else []
    pa, pb = p(np, values[a], values[b], values[i])
    return [(j, pj) for j, pj, act in ((a, pa, act_a), (b, pb, act_b)) if act]


def _scales(graph: Graph, entries: Sequence[tuple], values: list[Any], rows: int) -> list[Any]:
    """Each node's adjoint as the backward pass through `entries` would make
    it, with every partial and every adjoint taken by its magnitude: the sum
    of the magnitudes of the terms that make up each adjoint (None where no
    term reaches)."""
    scale: list[Any] = [None] * len(graph)
    scale[graph.output] = np.ones(rows)
    for entry in entries:
        g = scale[entry[0]]
        if g is None:
            continue
        for j, pj in _partials(graph, entry, values):
            term = g * np.abs(pj)
            scale[j] = term if scale[j] is None else scale[j] + term
    return scale


def _cancelled(adjoint: Any, scale: np.ndarray) -> np.ndarray:
    """Where an adjoint is so much smaller than the sum of its terms'
    magnitudes (a sum that cancels: (x*y)/x differentiated in x is y/x -
    x*y/x^2, 0 in exact arithmetic and rounding noise in floating point)
    that its terms' last-bit differences move it by more than the second
    pass looks for: there the moved pass can miss it (the noise may cancel
    exactly again), so it is marked outright."""
    return scale > np.abs(adjoint) * (SENSITIVE / JITTER)


def _moved(was: np.ndarray, now: Any, limit: float) -> np.ndarray:
    """Where `now` differs from `was` by more than `limit`, relatively, or
    is not a number any more (the moved pass left an operation's domain:
    sin of a huge argument changed sign under a log)."""
    d = now - was
    np.abs(d, out=d)
    w = np.abs(was)
    w *= limit
    return ~(d <= w)  # a nan compares false


def _moved_rows(was: np.ndarray, now: list[Any]) -> np.ndarray:
    """Rows (points) where some row of `now` differs from the same row of
    `was` (one row a reported gradient) by more than SENSITIVE, relatively."""
    drift = np.zeros(was.shape[1], dtype=bool)
    for w, v in zip(was, now):
        if v is not None:
            drift |= _moved(w, v, SENSITIVE)
    return drift


def _backward(graph: Graph, entries: Sequence[tuple], values: list[Any], rows: int,
              keep: Sequence[int], slots: Mapping[int, np.ndarray] | None = None,
              work: Work | None = None) -> tuple[list[Any], dict[int, np.ndarray]]:
    """Adjoints, output first, through `entries`; a node's adjoint is let go
    once used (only the inputs' remain, and those of the nodes in `keep`,
    returned apart). A node's adjoint is made in its own row (`slots`: the
    result's rows for some nodes, else its row of `work.adjoints`, else a
    new array); an adjoint that is one contribution passed on unchanged (a
    sum's, or a partial itself when the adjoint above is the output's, all
    ones) is that array, shared and never written (a node's row is not
    written once the node is done, so sharing it is safe)."""
    n = len(graph)
    adj: list[Any] = [None] * n
    mine = [False] * n  # adj[j] is j's own row: contributions may be added in place
    slots = slots or {}
    kept: dict[int, np.ndarray] = {}
    if work is None:
        ones, scratch, block = np.ones(rows), None, None
    else:
        ones, scratch, block = work.ones[:rows], work.scratch[:rows], work.adjoints[:, :rows]

    def row(j: int) -> np.ndarray:
        got = slots.get(j)
        if got is not None:
            return got
        return np.empty(rows) if block is None else block[j]

    def add(j: int, g: np.ndarray, partial: Any) -> None:
        """adj[j] += g * partial."""
        source = None  # the contribution when it is an array as it is
        if partial.__class__ is float:
            if partial == 1.0:
                source = g
        elif g is ones and partial.__class__ is np.ndarray and partial.shape == (rows,):
            source = partial
        current = adj[j]
        if current is None:
            if source is not None:
                adj[j] = source
                return
            target = row(j)
            mine[j] = True
            if partial.__class__ is float and partial == -1.0:
                adj[j] = np.negative(g, out=target)
            else:
                adj[j] = np.multiply(g, partial, out=target)
            return
        if source is None:
            if partial.__class__ is float and partial == -1.0:
                source = np.negative(g, out=scratch) if scratch is not None else -g
            else:
                source = np.multiply(g, partial, out=scratch) if scratch is not None else g * partial
        if mine[j]:
            current += source
        else:
            adj[j] = np.add(current, source, out=row(j))
            mine[j] = True

    adj[graph.output] = ones
    for entry in entries:
        i = entry[0]
        g = adj[i]
        if g is None:
            continue
        adj[i] = None
        if keep and i in keep:
            kept[i] = g
        for j, pj in _partials(graph, entry, values):
            add(j, g, pj)
    for i in keep:
        if adj[i] is not None:  # an input on the frontier keeps its own adjoint
            kept[i] = adj[i]
    return adj, kept
