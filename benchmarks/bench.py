"""bpcalc's benchmark suite: start-up, scale, the check, batch. One run
measures everything side by side and prints the tables for README.md.

    python benchmarks/bench.py                 # everything (about 10 minutes)
    python benchmarks/bench.py startup batch   # some sections
    python benchmarks/bench.py --runs 3 ...    # each section three times, then the range of every headline figure
    pip install '.[bench]'                     # jax and torch for the comparisons (optional)

Whole-process timings are medians of runs interleaved round by round (so a
machine that gets busier during the run moves every command alike). Every target is reported as a ratio to a
reference measured in the same run, or as a figure next to its limit.
Results also go to benchmarks/results.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import programs  # noqa: E402

PY = sys.executable
BPCALC = str(Path(PY).parent / "bpcalc")
NEURON = str(ROOT / "samples" / "cs231n_neuron.bp")
NEURON_AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
RESULTS: dict[str, Any] = {}


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


# --- whole processes ------------------------------------------------------------


def medians(commands: dict[str, list[str]], runs: int, work: Path) -> dict[str, float]:
    """Median wall seconds of each command, the commands interleaved (round
    after round, each round in a rotated order) so that a machine that gets
    busier or quieter during the run moves every command alike and the
    ratios stay fair; two warm-up rounds are not counted."""
    names = list(commands)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(runs + 2):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.perf_counter()
            subprocess.run(commands[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r >= 2:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_=./,+*()" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def startup(work: Path, bindir: Path | None = None) -> list[str]:
    py = str(bindir / "python") if bindir else PY
    exe = str(bindir / "bpcalc") if bindir else BPCALC
    quick = {
        "python -c pass": [py, "-c", "pass"],
        "import typer": [py, "-c", "import typer"],
        "import typer, rich": [py, "-c", "import typer, rich"],
        "import typer, rich, sympy": [py, "-c", "import typer, rich, sympy"],
        "grad --json --no-check": [exe, "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--json", "--no-check"],
        "grad neuron (SymPy check)": [exe, "grad", "-f", NEURON, "--at", NEURON_AT],
    }
    runs = 30
    m = medians(quick, runs, work)
    RESULTS["startup" if bindir is None else "startup_alt"] = m
    r1 = m["grad --json --no-check"] / m["import typer"]
    r2 = m["grad neuron (SymPy check)"] / m["import typer, rich, sympy"]
    if bindir is None:
        title = f"### Start-up (whole processes, medians of {runs} runs)"
    else:
        version = subprocess.run([py, "-c", "import typer; print(typer.__version__)"], capture_output=True,
                                 text=True).stdout.strip()
        title = f"### Start-up with typer {version} (`{bindir}`; medians of {runs} runs)"
    lines = [
        title, "",
        row("command", "median", "ratio", "target", ""), row("---", "---:", "---:", "---", "---"),
    ]
    for name, secs in m.items():
        lines.append(row(f"`{name}`", f"{secs * 1000:.1f} ms", "", "", ""))
    lines += [
        row("**`bpcalc grad \"(x+y)*z\" … --json --no-check` / `import typer`**", "", f"{r1:.2f}", "≤ 1.3", verdict(r1 <= 1.3)),
        row("**`bpcalc grad` neuron with the check / `import typer, rich, sympy`**", "", f"{r2:.2f}", "≤ 1.15", verdict(r2 <= 1.15)),
        "",
    ]
    return lines


def big_processes(work: Path) -> list[str]:
    chain = work / "chain_1e5.bp"
    chain.write_text(programs.chain(100_000))
    points = work / "neuron_1e5.csv"
    import numpy as np

    table = np.random.default_rng(0).normal(size=(100_000, 5))
    with points.open("w") as f:
        f.write("w0,x0,w1,x1,w2\n")
        for r in table.tolist():
            f.write(",".join(map(repr, r)) + "\n")
    at = programs.at_text(programs.CHAIN_INPUTS)
    commands = {
        "grad --json --no-check, 10^5-node file": [BPCALC, "grad", "-f", str(chain), "--at", at, "--json", "--no-check"],
        "grad (default check), 10^5-node file": [BPCALC, "grad", "-f", str(chain), "--at", at],
        "batch, 10^5 points from CSV": [BPCALC, "batch", "-f", NEURON, "--points", str(points)],
    }
    m = medians(commands, 5, work)
    RESULTS["big_processes"] = m
    check_doc = subprocess.run(
        [BPCALC, "grad", "-f", str(chain), "--at", at, "--json"], capture_output=True, text=True
    ).stdout
    method = json.loads(check_doc)["check"]["method"]
    limits = {"grad --json --no-check, 10^5-node file": 1.5, "grad (default check), 10^5-node file": 10.0,
              "batch, 10^5 points from CSV": 2.0}
    lines = ["### Big inputs, whole processes (medians of 5 runs)", "",
             row("command", "median", "target", ""), row("---", "---:", "---", "---")]
    for name, secs in m.items():
        lines.append(row(f"`{name}`", f"{secs:.2f} s", f"< {limits[name]} s", verdict(secs < limits[name])))
    lines += ["", f"The default check of the 10^5-node program used the method `{method}`.", ""]
    return lines


# --- scale ----------------------------------------------------------------------


def _best_of(runs: int, kind: str, n: int) -> dict:
    """The fastest of `runs` fresh processes (a busy moment only ever slows a
    run down): parse and lower from the run with the fastest parse+lower,
    forward and backward from the one with the fastest forward+backward (so
    the parts of a sum come from one run); peak memory the largest."""
    results = [
        json.loads(subprocess.run([PY, str(HERE / "scale_worker.py"), kind, str(n)], capture_output=True,
                                  text=True, check=True).stdout)
        for _ in range(runs)
    ]
    best = dict(results[0])
    for pair in (("parse_us", "lower_us"), ("forward_us", "backward_us"), ("plain_tape_us",)):
        fastest = min(results, key=lambda r: sum(r[key] for key in pair))
        best.update({key: fastest[key] for key in pair})
    best["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
    return best


def scale(work: Path) -> list[str]:
    sizes = [100, 1_000, 10_000, 100_000, 1_000_000]
    lines = [
        ("### Scale (µs per node, the fastest of 3 fresh processes; parse and lower the fastest of repeated "
         "calls, forward and backward first calls, tapes included)"), "",
        row("program", "nodes", "parse", "lower", "forward", "backward", "fwd+bwd", "plain tape fwd+bwd",
            "peak RSS"),
        row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"),
    ]
    found: dict[str, dict[int, dict]] = {}
    for kind in ("chain", "mlp"):
        for n in sizes:
            r = _best_of(3, kind, n)
            found.setdefault(kind, {})[n] = r
            fb = r["forward_us"] + r["backward_us"]
            lines.append(row(kind, f"{r['nodes']:,}", f"{r['parse_us']:.2f}", f"{r['lower_us']:.2f}",
                             f"{r['forward_us']:.2f}", f"{r['backward_us']:.2f}", f"{fb:.2f}",
                             f"{r['plain_tape_us']:.2f}", f"{r['peak_rss_mib']:.0f} MiB"))
    RESULTS["scale"] = found
    lines += ["", row("target", "measured", "limit", ""), row("---", "---:", "---", "---")]
    for kind, by in found.items():
        for n in (100_000, 1_000_000):
            fb = by[n]["forward_us"] + by[n]["backward_us"]
            lines.append(row(f"{kind} {n:,}: forward+backward µs/node", f"{fb:.2f}", "≤ 1", verdict(fb <= 1)))
            ratio = fb / (by[n]["plain_tape_us"])
            lines.append(row(f"{kind} {n:,}: forward+backward / plain tape", f"{ratio:.2f}", "(reference)", ""))
        for n in sizes:
            pl = by[n]["parse_us"] + by[n]["lower_us"]
            lines.append(row(f"{kind} {by[n]['nodes']:,}: parse+lower µs/node", f"{pl:.2f}", "≤ 3", verdict(pl <= 3)))
        total = {n: sum(by[n][k] for k in ("parse_us", "lower_us", "forward_us", "backward_us")) for n in sizes}
        lin = total[1_000_000] / total[1_000]
        lines.append(row(f"{kind}: cost per node at 10^6 / at 10^3", f"{lin:.2f}", "≤ 1.5", verdict(lin <= 1.5)))
        rss = by[1_000_000]["peak_rss_mib"]
        lines.append(row(f"{kind} 10^6: peak RSS", f"{rss:.0f} MiB", "≤ 1024 MiB", verdict(rss <= 1024)))
    lines.append("")
    return lines


# --- the check ------------------------------------------------------------------


def check(work: Path) -> list[str]:
    import bpcalc

    lines = ["### The check: method and time by size (in-process, `bpcalc.grad`)", "",
             row("program", "nodes", "method", "check seconds", "ok"), row("---", "---:", "---", "---:", "---")]
    found = []
    for kind in ("mlp", "chain"):
        for n in (100, 200, 1_000, 10_000, 100_000):
            text = programs.chain(n) if kind == "chain" else programs.mlp(n)
            at = programs.CHAIN_INPUTS if kind == "chain" else programs.mlp_inputs(n)
            r = bpcalc.grad(text, at=at)
            assert r.check is not None
            found.append({"kind": kind, "nodes": len(r.graph), "method": r.check.method,
                          "seconds": r.check.seconds, "ok": r.ok})
            lines.append(row(kind, f"{len(r.graph):,}", r.check.method, f"{r.check.seconds:.2f}", r.ok))
    RESULTS["check"] = found
    lines.append("")
    return lines


# --- batch ----------------------------------------------------------------------


ROUNDS = 15


def neuron_points(n: int) -> dict[str, Any]:
    import numpy as np

    return dict(zip(("w0", "x0", "w1", "x1", "w2"), np.random.default_rng(0).normal(size=(5, n))))


def _jax_neuron() -> Any | None:
    """JAX's jit(vmap(value_and_grad)) of the neuron (float64), or None when
    jax is not importable here."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def neuron(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Any:
        return 1.0 / (1.0 + jnp.exp(-(w0 * x0 + w1 * x1 + w2)))

    both = jax.jit(jax.vmap(jax.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))))
    return lambda cols: jax.block_until_ready(both(*cols)), jax


def neuron_by_hand(cols: dict[str, Any], rows: int = 32768) -> tuple[Any, Any]:
    """The neuron's value and 5 gradients written by hand in NumPy, as lean
    as NumPy allows: chunks that stay in cache, every result written into a
    reused buffer, 13 array operations per chunk and no check of any kind.
    No engine built on NumPy calls can be faster; it is the floor for
    bpcalc's vectorized engine (which also checks every point)."""
    import numpy as np

    w0, x0, w1, x1, w2 = (cols[k] for k in ("w0", "x0", "w1", "x1", "w2"))
    n = len(w0)
    value, grad = np.empty(n), np.empty((5, n))
    z, t = np.empty(rows), np.empty(rows)
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        m = hi - lo
        a0, b0, a1, b1, c, zz, tt = w0[lo:hi], x0[lo:hi], w1[lo:hi], x1[lo:hi], w2[lo:hi], z[:m], t[:m]
        np.multiply(a0, b0, out=zz)
        np.multiply(a1, b1, out=tt)
        zz += tt
        zz += c
        np.negative(zz, out=zz)
        np.exp(zz, out=zz)  # e = exp(-z)
        np.add(zz, 1.0, out=tt)
        f = np.divide(1.0, tt, out=value[lo:hi])  # f = 1/(1 + e)
        g = np.multiply(f, f, out=grad[4, lo:hi])
        g *= zz  # df/dz = f^2 e
        np.multiply(g, b0, out=grad[0, lo:hi])
        np.multiply(g, a0, out=grad[1, lo:hi])
        np.multiply(g, b1, out=grad[2, lo:hi])
        np.multiply(g, a1, out=grad[3, lo:hi])
    return value, grad


def neuron_side_by_side(n: int, rounds: int = ROUNDS) -> dict[str, Any]:
    """`bpcalc.grad_batch` and JAX on the same 10^6 points in one process,
    call after call (round by round, so a busier moment slows both): the
    median and the fastest of each. JAX's compilation is not counted."""
    import numpy as np

    import bpcalc

    program = Path(NEURON).read_text()
    cols = neuron_points(n)
    r = bpcalc.grad_batch(program, cols)  # warm (tapes, thread pool)
    found: dict[str, Any] = {"points": n, "recomputed": int(r.recomputed.sum())}
    jax = _jax_neuron()
    value, grad = neuron_by_hand(cols)
    assert np.allclose(value, r.value, rtol=1e-13)
    assert all(np.allclose(grad[j], r.gradient[k], rtol=1e-9, atol=1e-300) for j, k in enumerate(cols))
    ours: list[float] = []
    theirs: list[float] = []
    floor: list[float] = []
    if jax is not None:
        call, module = jax
        jcols = [module.numpy.asarray(c) for c in cols.values()]
        value, grads = call(jcols)
        assert np.allclose(np.asarray(value), r.value, rtol=1e-12)
        assert np.allclose(np.asarray(grads[0]), r.gradient["w0"], rtol=1e-10, atol=1e-300)
        found["jax"] = module.__version__
    for _ in range(rounds):
        start = time.perf_counter()
        bpcalc.grad_batch(program, cols)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        neuron_by_hand(cols)
        floor.append(time.perf_counter() - start)
        if jax is not None:
            start = time.perf_counter()
            call(jcols)
            theirs.append(time.perf_counter() - start)
    found["bpcalc_s"] = {"median": statistics.median(ours), "best": min(ours)}
    found["numpy_by_hand_s"] = {"median": statistics.median(floor), "best": min(floor)}
    if theirs:
        found["jax_s"] = {"median": statistics.median(theirs), "best": min(theirs)}
    return found


def one_core_side_by_side(n: int) -> dict[str, Any]:
    """`neuron_side_by_side` in a fresh process pinned to one CPU (before
    jax loads, so XLA's CPU client makes one thread): the same thread count
    for both. By default JAX runs its compiled loop on every core. ({}
    where a process cannot be pinned: Linux only.)"""
    if not hasattr(os, "sched_setaffinity"):
        return {}
    out = subprocess.run([PY, __file__, "--one-core-worker", str(n)], capture_output=True, text=True, check=True,
                         env={**os.environ, **{k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}})
    return json.loads(out.stdout.strip().splitlines()[-1])


def scalar_throughput(n: int = 20_000) -> float:
    from bpcalc.engine import backward, forward
    from bpcalc.errors import Source
    from bpcalc.lang.lower import build

    graph, _ = build(Source(Path(NEURON).read_text()))
    start = time.perf_counter()
    for k in range(n):
        values, _ = forward(graph, {"w0": 2.0, "x0": -1.0 + k * 1e-6, "w1": -3.0, "x1": -2.0, "w2": -3.0})
        backward(graph, values)
    return n / (time.perf_counter() - start)


def programs_file(work: Path, count: int) -> Path:
    forms = ["(x+y)*z", "x*y + sin(z)", "1/(1+exp(-(x*y+z)))", "tanh(x)*y - z^2", "max(x, y) * relu(z) + log(1 + x*x)"]
    path = work / f"programs_{count}.jsonl"
    with path.open("w") as f:
        for k in range(count):
            at = {"x": round(0.37 * k % 3 - 1.5, 2), "y": round(0.11 * k % 2 - 1, 2), "z": 1.25}
            f.write(json.dumps({"program": forms[k % len(forms)], "at": at, "expect": {"x": 1.0}}) + "\n")
    return path


def batch(work: Path) -> list[str]:
    n = 1_000_000
    side = neuron_side_by_side(n)
    ours = n / side["bpcalc_s"]["median"]
    scalar = scalar_throughput()
    lines = [f"### Batch (in-process, {ROUNDS} interleaved rounds: medians, the fastest in brackets)", "",
             row("measurement", "figure", "ratio", "target", ""), row("---", "---:", "---:", "---", "---")]
    lines.append(row(f"`bpcalc.grad_batch`, CS231n neuron, {n:,} points, float64 (value and 5 gradients)",
                     f"{ours / 1e6:.1f} M points/s ({n / side['bpcalc_s']['best'] / 1e6:.1f})", "", "", ""))
    lines.append(row("scalar engine, the same neuron, point by point", f"{scalar / 1e6:.3f} M points/s",
                     f"{ours / scalar:.0f}× slower", "", ""))
    if "jax_s" not in side:
        lines.append(row("JAX jit(vmap(value_and_grad)), float64", "**jax is not importable: not measured** "
                         "(`pip install '.[bench]'`)", "", "≥ 1", ""))
    else:
        theirs = n / side["jax_s"]["median"]
        ratio = ours / theirs
        best = side["jax_s"]["best"] / side["bpcalc_s"]["best"]
        lines.append(row(f"JAX {side['jax']} jit(vmap(value_and_grad)), float64, compiled",
                         f"{theirs / 1e6:.1f} M points/s ({n / side['jax_s']['best'] / 1e6:.1f})",
                         f"bpcalc / JAX = {ratio:.2f} ({best:.2f})", "≥ 1", verdict(ratio >= 1)))
        hand = side["numpy_by_hand_s"]
        lines.append(row("the neuron written by hand in NumPy, no checks (`neuron_by_hand`: the floor of any "
                         "engine made of NumPy calls)", f"{n / hand['median'] / 1e6:.1f} M points/s "
                         f"({n / hand['best'] / 1e6:.1f})", f"by hand / JAX = {side['jax_s']['median'] / hand['median']:.2f} "
                         f"({side['jax_s']['best'] / hand['best']:.2f}); bpcalc / by hand = "
                         f"{hand['median'] / side['bpcalc_s']['median']:.2f}", "", ""))
    one = one_core_side_by_side(n)
    if "jax_s" in one:
        ratio = one["jax_s"]["median"] / one["bpcalc_s"]["median"]
        best = one["jax_s"]["best"] / one["bpcalc_s"]["best"]
        lines.append(row("the same two in a process pinned to one core (XLA's thread pool follows the "
                         "affinity): one thread each", f"bpcalc {n / one['bpcalc_s']['median'] / 1e6:.1f}, JAX "
                         f"{n / one['jax_s']['median'] / 1e6:.1f}, NumPy by hand {n / one['numpy_by_hand_s']['median'] / 1e6:.1f} "
                         "M points/s", f"bpcalc / JAX = {ratio:.2f} ({best:.2f})",
                         "", ""))
    small = programs_file(work, 400)
    big = programs_file(work, 5_000)
    commands = {
        "400 programs, SymPy check": [BPCALC, "batch", "--programs", str(small)],
        "400 programs, SymPy check, --jobs 2": [BPCALC, "batch", "--programs", str(small), "--jobs", "2"],
        "5000 programs, --no-check": [BPCALC, "batch", "--programs", str(big), "--no-check"],
        "5000 programs, --no-check --jobs 2": [BPCALC, "batch", "--programs", str(big), "--no-check", "--jobs", "2"],
    }
    m = medians(commands, 3, work)
    for name, secs in m.items():
        count = 400 if name.startswith("400") else 5000
        rate = count / secs
        target = 200 if "SymPy" in name else 5000
        lines.append(row(f"`batch --programs`: {name} (whole process)", f"{rate:,.0f} programs/s", "",
                         f"≥ {target:,}/s", verdict(rate >= target)))
    RESULTS["batch"] = {"vector_points_per_second": ours, "scalar_points_per_second": scalar, "side_by_side": side,
                        "one_core": one, "programs_seconds": m}
    lines.append("")
    return lines


# --- tensors --------------------------------------------------------------------

TWO_LAYER = "h = sigmoid(X @ W1 + b1); s = h @ W2 + b2; L = cross_entropy(s, t)"


def two_layer_point(seed: int = 0) -> dict[str, Any]:
    """The DLFS two-layer net's shapes: batch 100, 784 -> 100 -> 10, one-hot t."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.zeros((100, 10))
    t[np.arange(100), rng.integers(0, 10, 100)] = 1.0
    return {"X": rng.random((100, 784)), "W1": 0.01 * rng.standard_normal((784, 100)), "b1": np.zeros(100),
            "W2": 0.01 * rng.standard_normal((100, 10)), "b2": np.zeros(10), "t": t}


def two_layer_numpy(p: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """The same net written by hand in NumPy (DLFS chapter 5's layers)."""
    import numpy as np

    a1 = p["X"] @ p["W1"] + p["b1"]
    z1 = 1.0 / (1.0 + np.exp(-a1))
    s = z1 @ p["W2"] + p["b2"]
    m = s.max(axis=1, keepdims=True)
    e = np.exp(s - m)
    y = e / e.sum(axis=1, keepdims=True)
    n = s.shape[0]
    loss = -np.sum(p["t"] * np.log(y)) / n
    ds = (y - p["t"]) / n
    dW2 = z1.T @ ds
    db2 = ds.sum(axis=0)
    dz1 = ds @ p["W2"].T
    da1 = dz1 * z1 * (1.0 - z1)
    dW1 = p["X"].T @ da1
    db1 = da1.sum(axis=0)
    dX = da1 @ p["W1"].T
    return loss, {"X": dX, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "t": -np.log(y) / n}


TRAINING = ("W1", "b1", "W2", "b2")


def _torch_two_layer(p: dict[str, Any], wrt: tuple[str, ...], threads: int) -> Any | None:
    """PyTorch eager computing the same gradients (float64), or None when
    torch is not importable."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    tp = {k: torch.tensor(v, requires_grad=k in wrt) for k, v in p.items()}
    if p["t"].ndim == 1:
        tp["t"] = torch.tensor(p["t"], dtype=torch.long)  # class indices
    F = torch.nn.functional
    chosen = [tp[k] for k in wrt]

    def run() -> Any:
        h = torch.sigmoid(tp["X"] @ tp["W1"] + tp["b1"])
        loss = F.cross_entropy(h @ tp["W2"] + tp["b2"], tp["t"])
        return loss, torch.autograd.grad(loss, chosen)

    return run, torch.__version__


#: Threads for BLAS (numpy's OpenBLAS) and PyTorch in the tensor comparison:
#: one each, set before either loads. Two multi-threaded runtimes in one
#: process on a shared 2-core machine wait on each other (torch's OpenMP
#: threads spin after each call while OpenBLAS's want the same cores), which
#: measures the scheduler, not the engines.
TENSOR_THREADS = 1


def tensors(work: Path) -> list[str]:
    """The in-process comparison in a fresh process with TENSOR_THREADS
    threads for BLAS and torch, then the whole process with the default check."""
    env = {**os.environ, **{k: str(TENSOR_THREADS) for k in (
        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    out = subprocess.run([PY, __file__, "--tensors-worker", str(TENSOR_THREADS)], capture_output=True, text=True,
                         env=env, check=True).stdout
    lines, found = json.loads(out.strip().splitlines()[-1])
    point = work / "two_layer.json"
    point.write_text(json.dumps({k: v.tolist() for k, v in two_layer_point().items()}))
    program = work / "two_layer.bp"
    program.write_text(TWO_LAYER)
    whole = medians({"grad": [BPCALC, "grad", "-f", str(program), "--at-file", str(point)],
                     "json": [BPCALC, "grad", "-f", str(program), "--at-file", str(point), "--json"]}, 3, work)
    lines += [
        row("whole process `bpcalc grad -f net.bp --at-file point.json` (default check)",
            f"{whole['grad']:.2f} s", "", "", "< 3 s", verdict(whole["grad"] < 3)),
        row("the same with `--json` (every node's value and gradient: 0.5 M numbers)",
            f"{whole['json']:.2f} s", "", "", "", ""),
        "",
    ]
    RESULTS["tensors"] = {**found, "whole_process_s": whole["grad"], "whole_process_json_s": whole["json"]}
    return lines


def tensors_in_process(threads: int, rounds: int = 30) -> tuple[list[str], dict[str, Any]]:
    """The tensor engine against PyTorch eager and hand-written NumPy in the
    same process, call after call (medians of interleaved rounds, the fastest
    in brackets)."""
    import numpy as np

    import bpcalc

    onehot = two_layer_point()
    indices = {**onehot, "t": onehot["t"].argmax(axis=1).astype(float)}
    cases = {  # name -> (point, wrt)
        "training": (indices, TRAINING),
        "every input": (onehot, ("X", "W1", "b1", "W2", "b2", "t")),
    }
    calls: dict[str, Any] = {}
    torch_version = None
    for name, (p, wrt) in cases.items():
        r = bpcalc.grad(TWO_LAYER, at=p, check=False, wrt=list(wrt))
        calls[f"bpcalc {name}"] = lambda p=p, wrt=wrt: bpcalc.grad(TWO_LAYER, at=p, check=False, wrt=list(wrt))
        torch_run = _torch_two_layer(p, wrt, threads)
        if torch_run is not None:
            run, torch_version = torch_run
            loss, grads = run()
            assert abs(loss.item() - r.value) <= 1e-12 * abs(r.value)
            for k, g in zip(wrt, grads):
                assert np.allclose(r.gradient[k], g.numpy(), rtol=1e-10, atol=1e-15), k
            calls[f"torch {name}"] = run
    loss, ref = two_layer_numpy(onehot)
    r = bpcalc.grad(TWO_LAYER, at=onehot, check=False)
    assert abs(r.value - loss) <= 1e-12 * abs(loss)
    for k, g in ref.items():
        assert np.allclose(r.gradient[k], g, rtol=1e-10, atol=1e-15), k
    calls["numpy by hand"] = lambda: two_layer_numpy(onehot)
    times: dict[str, list[float]] = {k: [] for k in calls}
    for f in calls.values():
        f()
    for _ in range(rounds):
        for k, f in calls.items():
            start = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - start)
    med = {k: statistics.median(t) for k, t in times.items()}
    best = {k: min(t) for k, t in times.items()}

    def ms(k: str) -> str:
        return f"{med[k] * 1e3:.2f} ms ({best[k] * 1e3:.2f})"

    lines = [
        (f"### Vectors and matrices (in-process, {rounds} interleaved rounds: medians, the fastest in brackets; "
         f"{threads} threads for BLAS and torch)"), "",
        "The DLFS two-layer net: batch 100, 784 → 100 → 10, sigmoid, softmax cross-entropy, float64, value and "
        "gradients through `bpcalc.grad(check=False)`.", "",
        row("computation", "bpcalc", "reference", "ratio (fastest)", "limit", ""),
        row("---", "---:", "---:", "---:", "---", "---"),
    ]
    for name, (_p, wrt) in cases.items():
        ours, theirs = f"bpcalc {name}", f"torch {name}"
        what = (f"gradients of {', '.join(wrt)}" + (" (t: class indices, data)" if name == "training" else
                                                    " (t: one-hot probabilities)"))
        if theirs in med:
            ratio = med[ours] / med[theirs]
            lines.append(row(f"{what}: vs PyTorch {torch_version} eager", ms(ours), ms(theirs),
                             f"{ratio:.2f} ({best[ours] / best[theirs]:.2f})", "≤ 1.0", verdict(ratio <= 1.0)))
        else:
            lines.append(row(f"{what}: vs PyTorch eager", ms(ours), "**torch is not importable: not measured** "
                             "(`pip install '.[bench]'`)", "", "≤ 1.0", ""))
    ratio = med["bpcalc every input"] / med["numpy by hand"]
    lines += [
        row("every gradient: vs the same net written by hand in NumPy (DLFS chapter 5)", ms("bpcalc every input"),
            ms("numpy by hand"), f"{ratio:.2f} ({best['bpcalc every input'] / best['numpy by hand']:.2f})",
            "≤ 1.3", verdict(ratio <= 1.3)),
    ]
    return lines, {"median_ms": {k: v * 1e3 for k, v in med.items()},
                   "fastest_ms": {k: v * 1e3 for k, v in best.items()}, "threads": threads, "torch": torch_version}


def startup_alt(work: Path) -> list[str]:
    """The start-up section again in another environment (BENCH_ALT_BIN: the
    bin/ folder of a virtualenv with bpcalc and a different typer)."""
    alt = os.environ.get("BENCH_ALT_BIN")
    if not alt:
        return ["(start-up with another typer: not measured; set BENCH_ALT_BIN)", ""]
    return startup(work, Path(alt))


SECTIONS = {"startup": startup, "startup-alt": startup_alt, "big": big_processes, "scale": scale,
            "check": check, "batch": batch, "tensors": tensors}


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import sympy
    import typer

    return (f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores, {cpu or platform.processor()}; "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, sympy {sympy.__version__}, "
            f"typer {typer.__version__}; load average at start {os.getloadavg()[0]:.2f}")


def figures(results: dict[str, Any]) -> dict[str, float]:
    """The headline figures of one run (those README.md quotes), by name."""
    f: dict[str, float] = {}
    st = results.get("startup")
    if st:
        f["start-up: grad --json --no-check / import typer (≤ 1.3)"] = st["grad --json --no-check"] / st["import typer"]
        f["start-up: grad neuron with the check / import typer, rich, sympy (≤ 1.15)"] = (
            st["grad neuron (SymPy check)"] / st["import typer, rich, sympy"])
    for name, secs in (results.get("big_processes") or {}).items():
        f[f"whole process, s: {name}"] = secs
    for kind, by in (results.get("scale") or {}).items():
        for n, r in by.items():
            if int(n) in (100_000, 1_000_000):
                f[f"scale: {kind} {int(n):,} forward+backward µs/node (≤ 1; chain ≤ 0.5 for issue 16)"] = (
                    r["forward_us"] + r["backward_us"])
                f[f"scale: {kind} {int(n):,} parse+lower µs/node"] = r["parse_us"] + r["lower_us"]
    for c in results.get("check") or []:
        if c["nodes"] > 50_000:
            f[f"check seconds: {c['kind']} {c['nodes']:,} nodes ({c['method']})"] = c["seconds"]
    b = results.get("batch")
    if b:
        side = b["side_by_side"]
        f["batch: grad_batch M points/s (neuron, 10^6, median)"] = side["points"] / side["bpcalc_s"]["median"] / 1e6
        if "jax_s" in side:
            f["batch: JAX jit(vmap(value_and_grad)) M points/s (median)"] = side["points"] / side["jax_s"]["median"] / 1e6
            f["batch: bpcalc / JAX, medians (≥ 1)"] = side["jax_s"]["median"] / side["bpcalc_s"]["median"]
            f["batch: bpcalc / JAX, fastest calls"] = side["jax_s"]["best"] / side["bpcalc_s"]["best"]
            if "numpy_by_hand_s" in side:
                f["batch: NumPy by hand (no checks) / JAX, medians"] = (side["jax_s"]["median"]
                                                                        / side["numpy_by_hand_s"]["median"])
        one = b.get("one_core") or {}
        if "jax_s" in one:
            f["batch: bpcalc / JAX, one core each, medians"] = one["jax_s"]["median"] / one["bpcalc_s"]["median"]
        f["batch: scalar engine M points/s"] = b["scalar_points_per_second"] / 1e6
        for name, secs in b["programs_seconds"].items():
            f[f"grading: {name}, programs/s"] = (400 if name.startswith("400") else 5000) / secs
    t = results.get("tensors")
    if t:
        med = t["median_ms"]
        for case in ("training", "every input"):
            if f"torch {case}" in med:
                f[f"tensors: bpcalc / PyTorch eager, {case} (≤ 1.0)"] = med[f"bpcalc {case}"] / med[f"torch {case}"]
        f["tensors: bpcalc / NumPy by hand, every gradient"] = med["bpcalc every input"] / med["numpy by hand"]
        f["tensors: two-layer net, whole process with the check, s"] = t["whole_process_s"]
    return f


def main() -> None:
    if sys.argv[1:2] == ["--tensors-worker"]:
        print(json.dumps(tensors_in_process(int(sys.argv[2]))))
        return
    if sys.argv[1:2] == ["--one-core-worker"]:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        print(json.dumps(neuron_side_by_side(int(sys.argv[2]))))
        return
    args = sys.argv[1:]
    runs = 1
    if "--runs" in args:
        k = args.index("--runs")
        runs = int(args[k + 1])
        del args[k : k + 2]
    chosen = args or list(SECTIONS)
    print(f"Machine: {machine()}\n")
    every: list[dict[str, float]] = []
    for run in range(runs):
        if runs > 1:
            print(f"## Run {run + 1} of {runs}\n")
        with tempfile.TemporaryDirectory() as tmp:
            for name in chosen:
                for line in SECTIONS[name](Path(tmp)):
                    print(line, flush=True)
        every.append(figures(RESULTS))
    if runs > 1:
        print(f"## Ranges over the {runs} runs\n")
        print(row("figure", "lowest", "highest", "each run"))
        print(row("---", "---:", "---:", "---"))
        for key in every[0]:
            got = [f[key] for f in every if key in f]
            print(row(key, f"{min(got):.3g}", f"{max(got):.3g}", ", ".join(f"{x:.3g}" for x in got)))
        print()
    # a partial run updates its sections and keeps the others
    path = HERE / "results.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    measured_on = {**kept.get("measured_on", {}), **{name: machine() for name in chosen}}
    ranges = {**kept.get("ranges", {}), **({k: [f.get(k) for f in every] for k in every[0]} if runs > 1 else {})}
    path.write_text(json.dumps({**kept, **RESULTS, "measured_on": measured_on, "ranges": ranges}, indent=2) + "\n")


if __name__ == "__main__":
    main()
