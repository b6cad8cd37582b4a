"""Generated programs for the benchmarks: a deep chain and an unrolled MLP.

    chain(n): `a = a*b + sin(a)` repeated: heavy reuse (every line uses `a`
              twice and `b` once), depth n/3.
    mlp(n):   a fully connected tanh/sigmoid network unrolled into scalar
              statements (literal weights, 8 named inputs), about n nodes.

`python benchmarks/programs.py chain 100000 > chain.bp` writes one out.
"""

from __future__ import annotations

import random
import sys

CHAIN_INPUTS = {"x": 0.5, "y": 0.9}
MLP_WIDTH = 16  # neurons per layer (4 below SMALL nodes)
MLP_INPUTS = 8  # named inputs (2 below SMALL nodes)
SMALL = 1000


def chain(nodes: int) -> str:
    """About `nodes` nodes (3 per line, plus the 2 inputs)."""
    lines = ["a = x", "b = y"]
    lines += ["a = a*b + sin(a)"] * max(1, (nodes - 2) // 3)
    return "\n".join(lines) + "\na\n"


def mlp(nodes: int, seed: int = 0) -> str:
    """About `nodes` nodes: layers of MLP_WIDTH neurons, tanh and sigmoid in
    turn, summed at the end."""
    rng = random.Random(seed)
    width = MLP_WIDTH if nodes >= SMALL else 4
    previous = list(mlp_inputs(nodes))
    lines: list[str] = []
    count = len(previous)
    layer = 0
    while True:
        act = "tanh" if layer % 2 == 0 else "sigmoid"
        current = []
        for j in range(width):
            scale = 1.0 / len(previous) ** 0.5
            terms = " + ".join(f"{rng.uniform(-2, 2) * scale:.4f}*{p}" for p in previous)
            name = f"h{layer}_{j}"
            lines.append(f"{name} = {act}({terms} + {rng.uniform(-0.5, 0.5):.4f})")
            current.append(name)
            count += 3 * len(previous) + 2  # weight, mul, add per term; bias and activation
        previous = current
        layer += 1
        if count + width >= nodes:
            break
    lines.append(" + ".join(previous))
    return "\n".join(lines) + "\n"


def mlp_inputs(nodes: int) -> dict[str, float]:
    """The inputs of `mlp(nodes)` and a point to evaluate it at."""
    count = MLP_INPUTS if nodes >= SMALL else 2
    return {f"x{k}": round(0.1 * (k + 1) * (-1) ** k, 3) for k in range(count)}


def at_text(point: dict[str, float]) -> str:
    return ",".join(f"{k}={v}" for k, v in point.items())


if __name__ == "__main__":
    kind, n = sys.argv[1], int(sys.argv[2])
    sys.stdout.write(chain(n) if kind == "chain" else mlp(n))
