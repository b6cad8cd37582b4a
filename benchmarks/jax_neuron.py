"""JAX reference: jit(vmap(grad)) of the CS231n neuron at N points, float64.

Run with a Python that has jax (benchmarks/README.md says how); prints one
JSON line: {"points": N, "seconds": median, "points_per_second": ...}.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)


def neuron(w0, x0, w1, x1, w2):
    return 1.0 / (1.0 + jnp.exp(-(w0 * x0 + w1 * x1 + w2)))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    cols = [jnp.asarray(c) for c in np.random.default_rng(0).normal(size=(5, n))]
    both = jax.jit(jax.vmap(jax.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))))
    jax.block_until_ready(both(*cols))  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(both(*cols))
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(json.dumps({"points": n, "seconds": seconds, "points_per_second": n / seconds,
                      "jax": jax.__version__, "dtype": "float64"}))


if __name__ == "__main__":
    main()
