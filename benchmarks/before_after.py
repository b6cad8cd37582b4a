"""The tree before a change against this one, side by side in one run:

    git worktree add --detach /tmp/old <commit>
    python benchmarks/before_after.py /tmp/old [sections]

Sections (default all): `batch` (the vectorized engine on the CS231n neuron
at 10^6 points: CPU time of the calling thread, so that other processes on
a shared machine count less), `tensors` (the two-layer net through
`bpcalc.grad(check=False)`, both trees and PyTorch eager, one thread each),
`scale` (`scale_worker.py chain 1000000` in fresh processes), `startup` and
`grading` (whole processes). In-process sections load each tree's package
in turn (the old one first on sys.path) and alternate calls; whole processes
put the tree first on PYTHONPATH. Medians, the fastest in brackets. The
in-process sections also check that both trees give the same numbers, bit
for bit.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# one thread for BLAS and torch, as bench.py's tensor comparison (set before numpy loads)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import bench  # noqa: E402

PY = sys.executable


def _ours() -> list[str]:
    return [k for k in sys.modules if k == "bpcalc" or k.startswith("bpcalc.")]


class Tree:
    """One tree's bpcalc package. bpcalc imports some modules inside its
    functions (`from .vector import evaluate`), and those imports look in
    sys.modules: so around every call this tree's modules are put back there
    (and its root first on sys.path, for a module not loaded yet), or the
    tree loaded last would serve both trees' calls (it did, before
    2026-11-29: the batch section then compared the new engine with itself)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.modules: dict[str, Any] = {}
        with self:
            import bpcalc
            import bpcalc.vector  # noqa: F401
        self.package = bpcalc
        self.__file__ = bpcalc.__file__

    def __enter__(self) -> "Tree":
        for name in _ours():
            del sys.modules[name]
        sys.modules.update(self.modules)
        sys.path.insert(0, self.root)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.path.remove(self.root)
        self.modules = {k: sys.modules[k] for k in _ours()}

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.package, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            with self:
                return found(*args, **kwargs)

        return call


def alternate(calls: dict[str, Callable[[], Any]], rounds: int, clock: Callable[[], float]) -> dict[str, list[float]]:
    for f in calls.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(rounds):
        for k, f in calls.items():
            start = clock()
            f()
            times[k].append(clock() - start)
    return times


def summary(times: dict[str, list[float]], scale: float, unit: str) -> str:
    return ", ".join(f"{k} {statistics.median(v) * scale:.1f} {unit} ({min(v) * scale:.1f})" for k, v in times.items())


def batch(old: Any, new: Any) -> str:
    import numpy as np

    program = Path(bench.NEURON).read_text()
    cols = bench.neuron_points(1_000_000)
    a, b = old.grad_batch(program, cols), new.grad_batch(program, cols)
    assert np.array_equal(a.value, b.value) and all(np.array_equal(a.gradient[k], b.gradient[k]) for k in a.gradient)
    times = alternate({"before": lambda: old.grad_batch(program, cols), "after": lambda: new.grad_batch(program, cols)},
                      15, time.thread_time)
    return "batch, grad_batch neuron 10^6 points, CPU ms of the thread: " + summary(times, 1e3, "ms")


def tensors(old: Any, new: Any) -> str:
    import numpy as np

    onehot = bench.two_layer_point()
    indices = {**onehot, "t": onehot["t"].argmax(axis=1).astype(float)}
    lines = []
    for case, (p, wrt) in {"training": (indices, bench.TRAINING),
                           "every input": (onehot, ("X", "W1", "b1", "W2", "b2", "t"))}.items():
        a = old.grad(bench.TWO_LAYER, at=p, check=False, wrt=list(wrt))
        b = new.grad(bench.TWO_LAYER, at=p, check=False, wrt=list(wrt))
        assert a.value == b.value and all(np.array_equal(a.gradient[k], b.gradient[k]) for k in wrt)
        calls = {"before": lambda p=p, wrt=wrt: old.grad(bench.TWO_LAYER, at=p, check=False, wrt=list(wrt)),
                 "after": lambda p=p, wrt=wrt: new.grad(bench.TWO_LAYER, at=p, check=False, wrt=list(wrt))}
        torch_run = bench._torch_two_layer(p, wrt, 1)
        if torch_run is not None:
            calls["torch"] = torch_run[0]
        times = alternate(calls, 200, time.perf_counter)
        med = {k: statistics.median(v) for k, v in times.items()}
        ratios = f"; before / torch {med['before'] / med['torch']:.3f}, after / torch {med['after'] / med['torch']:.3f}" \
            if "torch" in med else ""
        lines.append(f"tensors, two-layer net, {case}, wall µs: " + summary(times, 1e6, "µs") + ratios)
    return "\n".join(lines)


def whole(tree: str, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([PY, *args], env={**os.environ, "PYTHONPATH": tree}, capture_output=True, check=False)
    return time.perf_counter() - start


def scale(trees: dict[str, str]) -> str:
    found: dict[str, list[float]] = {k: [] for k in trees}
    for r in range(3):
        for k in (list(trees) if r % 2 == 0 else list(reversed(list(trees)))):
            out = subprocess.run([PY, str(HERE / "scale_worker.py"), "chain", "1000000"], capture_output=True,
                                 text=True, check=True, env={**os.environ, "PYTHONPATH": trees[k]}).stdout
            r_ = json.loads(out.strip().splitlines()[-1])
            found[k].append(r_["forward_us"] + r_["backward_us"])
    return "scale, chain 10^6 forward+backward µs/node, 3 rounds: " + "; ".join(
        f"{k} {', '.join(f'{x:.3f}' for x in v)}" for k, v in found.items())


def startup(trees: dict[str, str]) -> str:
    grad = ["-m", "bpcalc", "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--json", "--no-check"]
    neuron = ["-m", "bpcalc", "grad", "-f", str(bench.NEURON), "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"]
    refs = {"import typer": ["-c", "import typer"], "import typer, rich, sympy": ["-c", "import typer, rich, sympy"]}
    got: dict[str, list[float]] = {}
    for r in range(22):
        for k, tree in trees.items():
            for name, args in (("grad --json --no-check", grad), ("neuron with the check", neuron)):
                t = whole(tree, args)
                if r >= 2:
                    got.setdefault(f"{name} {k}", []).append(t)
        for name, args in refs.items():
            t = whole(trees["after"], args)
            if r >= 2:
                got.setdefault(name, []).append(t)
    m = {k: statistics.median(v) for k, v in got.items()}
    return "startup, medians of 20 interleaved rounds: " + "; ".join(
        f"{k}: grad --json --no-check / import typer {m[f'grad --json --no-check {k}'] / m['import typer']:.2f}, "
        f"neuron with the check / import typer, rich, sympy "
        f"{m[f'neuron with the check {k}'] / m['import typer, rich, sympy']:.2f}" for k in trees)


def grading(trees: dict[str, str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = bench.programs_file(Path(tmp), 400), bench.programs_file(Path(tmp), 5_000)
        got: dict[str, list[float]] = {}
        for _ in range(3):
            for k, tree in trees.items():
                got.setdefault(f"400 SymPy {k}", []).append(
                    400 / whole(tree, ["-m", "bpcalc", "batch", "--programs", str(small)]))
                got.setdefault(f"5000 --no-check {k}", []).append(
                    5000 / whole(tree, ["-m", "bpcalc", "batch", "--programs", str(big), "--no-check"]))
    return "grading, programs/s, medians of 3 interleaved rounds: " + "; ".join(
        f"{k} {statistics.median(v):,.0f}" for k, v in got.items())


def main() -> None:
    old_root = sys.argv[1]
    chosen = sys.argv[2:] or ["batch", "tensors", "scale", "startup", "grading"]
    trees = {"before": old_root, "after": str(HERE.parent)}
    if {"batch", "tensors"} & set(chosen):
        old, new = Tree(old_root), Tree(str(HERE.parent))
        assert Path(old.__file__).resolve() != Path(new.__file__).resolve()
        if "batch" in chosen:
            print(batch(old, new), flush=True)
        if "tensors" in chosen:
            print(tensors(old, new), flush=True)
    for name, section in (("scale", scale), ("startup", startup), ("grading", grading)):
        if name in chosen:
            print(section(trees), flush=True)


if __name__ == "__main__":
    main()
