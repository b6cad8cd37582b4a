"""One scale measurement in a fresh process (so peak memory is its own):

    python benchmarks/scale_worker.py chain 100000

prints one JSON line: nodes, seconds and µs per node for parse, lower,
forward and backward (bpcalc parses and lowers in one streaming pass, `build`:
lower is that pass minus the parser alone, each the fastest of repeated calls;
forward and backward are first calls, so they include building the engine's
tapes),
peak RSS, and the same program's forward+backward in a plain Python
list-of-nodes tape (the reference the issue measures against).
"""

from __future__ import annotations

import gc
import json
import math
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import programs  # noqa: E402

from bpcalc.engine import backward, forward  # noqa: E402
from bpcalc.errors import Source  # noqa: E402
from bpcalc.lang.lower import build  # noqa: E402
from bpcalc.lang.parser import iter_statements  # noqa: E402


def plain_tape(ops: list[str], arg0: list[int], arg1: list[int], values: list[float], output: int) -> float:
    """Forward and backward over a list of (op, a, b) with inline Python
    arithmetic: what a minimal hand-written tape costs (only the ops the
    generated programs use)."""
    start = time.perf_counter()
    v = list(values)
    sin, cos, tanh, exp = math.sin, math.cos, math.tanh, math.exp
    for i, (op, a, b) in enumerate(zip(ops, arg0, arg1)):
        if op == "mul":
            v[i] = v[a] * v[b]
        elif op == "add":
            v[i] = v[a] + v[b]
        elif op == "sin":
            v[i] = sin(v[a])
        elif op == "tanh":
            v[i] = tanh(v[a])
        elif op == "sigmoid":
            v[i] = 1.0 / (1.0 + exp(-v[a]))
    g = [0.0] * len(v)
    g[output] = 1.0
    for i in range(output, -1, -1):
        op, a, b, gi = ops[i], arg0[i], arg1[i], g[i]
        if op == "mul":
            g[a] += gi * v[b]
            g[b] += gi * v[a]
        elif op == "add":
            g[a] += gi
            g[b] += gi
        elif op == "sin":
            g[a] += gi * cos(v[a])
        elif op == "tanh":
            g[a] += gi * (1.0 - v[i] * v[i])
        elif op == "sigmoid":
            g[a] += gi * v[i] * (1.0 - v[i])
    return time.perf_counter() - start


def fastest(call: Callable[[], object], min_runs: int = 2, min_total: float = 0.3) -> float:
    """The fastest wall time of `call`, run at least `min_runs` times and
    until `min_total` seconds have been spent."""
    best, spent, runs = math.inf, 0.0, 0
    while runs < min_runs or spent < min_total:
        start = time.perf_counter()
        call()
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def peak_rss() -> int:
    """Peak resident memory of this process, in bytes: VmHWM, which starts
    afresh at exec (ru_maxrss would include the parent's before the exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    kind, n = sys.argv[1], int(sys.argv[2])
    text = programs.chain(n) if kind == "chain" else programs.mlp(n)
    point = programs.CHAIN_INPUTS if kind == "chain" else programs.mlp_inputs(n)
    source = Source(text)
    gc.disable()  # as bpcalc itself does while building (api.without_gc)
    # bpcalc parses and lowers in one streaming pass (build): time that, and
    # the parser alone (its statements drained, not kept); lower is the rest.
    # Each is the fastest of repeated calls (at least 2, and at least 0.3 s
    # in all), as timeit does: a busy moment only ever slows a call down.

    def drain() -> None:
        for _statement in iter_statements(source):
            pass

    parse_s = fastest(drain)
    build_s = fastest(lambda: build(source))
    lower_s = max(build_s - parse_s, 0.0)
    graph, _ = build(source)
    t2 = time.perf_counter()
    values, _ = forward(graph, point)
    t3 = time.perf_counter()
    adjoints, _ = backward(graph, values)
    t4 = time.perf_counter()
    rss = peak_rss()
    start_values = [0.0] * len(graph)
    for i, name in zip(graph.inputs, graph.input_names):
        start_values[i] = point[name]
    for i, (v, _lit) in graph.consts.items():
        start_values[i] = v
    plain = plain_tape(list(graph.ops), list(graph.arg0), list(graph.arg1), start_values, graph.output)
    nodes = len(graph)
    us = 1e6 / nodes
    print(json.dumps({
        "kind": kind, "nodes": nodes,
        "parse_us": parse_s * us, "lower_us": lower_s * us,
        "forward_us": (t3 - t2) * us, "backward_us": (t4 - t3) * us,
        "plain_tape_us": plain * us, "peak_rss_mib": rss / 2**20,
    }))


if __name__ == "__main__":
    main()
