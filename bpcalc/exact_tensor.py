"""Exact mode for vectors and matrices: every entry of every node's value and
gradient as an exact SymPy number.

The inputs are exact: a number as written (`1.1` -> 11/10, `pi/4`, see
`symbolic.exact_input`); an entry of a vector or matrix as the shortest
decimal of its double (0.1 -> 1/10; a value computed in a literal, such as
1/3, is its double 0.3333333333333333). The values are the graph expanded
entry by entry with each op's SymPy counterpart (`verify_tensor.sympy_arrays`,
the expansion the tensor check uses). The backward pass is the engine's loop
(each node's vector-Jacobian product, summed over its users) done with
SymPy numbers:

- an entrywise op: upstream x the exact local partial, entry by entry, with
  the scalar exact mode's rules (`exact.PartialRules`: the engine's
  convention at a kink), broadcasting undone by summing, as the engine does;
- max / min of a tensor: the upstream at the largest (smallest) entry, split
  evenly on a tie, as the engine does;
- any other tensor op (@, .T, sum, mean, softmax, cross_entropy, ...): the
  derivative of <upstream, op(arguments)> with respect to each entry of an
  argument, taken by SymPy on the op's counterpart over placeholder symbols
  and evaluated at the exact arguments.

It is affordable for small programs only: the limits are the tensor check's
(`verify_tensor.SYMPY_MAX_ENTRIES` input entries with a gradient,
`SYMPY_MAX_GRAPH_ENTRIES` entries in all nodes). Beyond them, and when the
budget runs out, the result says so (`ok` False, `note`) and the values are
floats, as for scalars.
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np

from .budget import run_with_budget
from .exact import (ExactResult, PartialRules, Texts, floats_note, from_float, from_outcome, to_float,
                    too_long_note)
from .graph import CONST, INPUT, Graph
from .limits import DEFAULT_BUDGET
from .symbolic import import_sympy
from .ops import TENSOR_OPS, _expand
from .point import AtValue
from .tensor import unbroadcast


def exact_tensor_values(graph: Graph, point: Mapping[str, AtValue], need: Sequence[bool],
                        budget: float = DEFAULT_BUDGET) -> ExactResult:
    """Exact values of every node of a tensor program at `point`, and exact
    adjoints of the nodes `need` marks (the engine's: the others are None),
    within `budget` seconds; see the module docstring."""
    from .verify_tensor import sympy_limits

    start = time.monotonic()
    plain = {name: at.value for name, at in point.items()}
    wrt = [name for name in graph.input_names if need[graph.input_id(name)]]
    if why := sympy_limits(graph, plain, wrt):
        return ExactResult.failed(len(graph), floats_note(why))
    import_sympy()  # here, once, so the forked child has it (without the collector's scans)

    outcome = run_with_budget(_exact_in_child, (graph, point, tuple(need)), budget)
    return from_outcome(outcome, len(graph), budget, time.monotonic() - start)


def exact_inputs(sp: Any, point: Mapping[str, AtValue]) -> dict[str, Any]:
    """Input name -> its exact value as an object array (0-d for a number)."""
    from .symbolic import exact_input
    from .verify_tensor import exact_array

    return {name: exact_array(sp, at.value) if np.ndim(at.value) else np.array(exact_input(sp, at), dtype=object)
            for name, at in point.items()}


# --- in the budgeted child --------------------------------------------------


def _exact_in_child(graph: Graph, point: Mapping[str, AtValue], need: tuple[bool, ...]) -> tuple:
    import sympy as sp

    from .verify_tensor import sympy_arrays

    values = sympy_arrays(sp, graph, exact_inputs(sp, point))
    floats = [_floats(sp, v) for v in values]
    adjoints = _backward(sp, graph, values, floats, need)
    texts = Texts(sp)
    none = ((),) * len(graph)
    result = (
        tuple(_texts(texts.text, v) for v in values), tuple(_texts(texts.text, a) for a in adjoints),
        tuple(latex_matrix(texts.latex, v) for v in values), tuple(latex_matrix(texts.latex, a) for a in adjoints),
        tuple(floats), tuple(None if a is None else _floats(sp, a) for a in adjoints),
        none, none,
    )
    return (too_long_note(texts.too_long), *result)


def _floats(sp: Any, a: Any) -> Any:
    """An object array of exact numbers correctly rounded to doubles."""
    return np.vectorize(lambda v: to_float(sp, v), otypes=[float])(a) if a.ndim else np.array(to_float(sp, a.item()))


def _texts(text: Any, a: Any) -> Any:
    """Nested lists of texts (one text for a number); None for no array."""
    if a is None:
        return None
    return np.vectorize(text, otypes=[object])(a).tolist() if a.ndim else text(a.item())


def latex_matrix(latex: Any, a: Any) -> str | None:
    """An array of exact numbers in LaTeX: a number as itself, a vector or a
    matrix as a bmatrix (a vector as a row, as the tensor explanation writes
    it); None when an entry has no LaTeX (too long) or for no array."""
    if a is None:
        return None
    if a.ndim == 0:
        return latex(a.item())
    if a.ndim > 2:
        return None
    entries = np.vectorize(latex, otypes=[object])(a)
    if any(e is None for e in entries.flat):
        return None
    rows = [entries] if a.ndim == 1 else list(entries)
    return "\\begin{bmatrix}" + " \\\\ ".join(" & ".join(row) for row in rows) + "\\end{bmatrix}"


def _zero(sp: Any, shape: tuple[int, ...]) -> Any:
    out = np.empty(shape, dtype=object)
    out.fill(sp.Integer(0))
    return out


def _backward(sp: Any, graph: Graph, values: list[Any], floats: list[Any], need: Sequence[bool]) -> list[Any]:
    """Exact adjoints (object arrays; None where `need` is False)."""
    n = len(graph)
    out = graph.output
    adj: list[Any] = [None] * n
    if need[out]:
        adj[out] = np.full(values[out].shape, sp.Integer(1), dtype=object)
    rules = PartialRules(sp)
    for i in range(out, -1, -1):
        g = adj[i]
        op = graph.ops[i]
        if g is None or not need[i] or op in (INPUT, CONST):
            continue
        args = graph.args(i)
        wanted = [need[j] for j in args]
        if op in ("amax", "amin"):
            cots = [_extreme_vjp(sp, graph, i, g, floats[args[0]], floats[i])]
        elif op in TENSOR_OPS:
            cots = _tensor_vjp(sp, graph, i, g, [values[j] for j in args], wanted)
        else:
            cots = _entrywise_vjp(sp, graph, i, g, [values[j] for j in args], [floats[j] for j in args],
                                  floats[i], wanted, rules)
        for j, c, w in zip(args, cots, wanted):
            if c is None or not w:
                continue
            adj[j] = c if adj[j] is None else adj[j] + c
    return [None if not need[i] else (adj[i] if adj[i] is not None else _zero(sp, values[i].shape))
            for i in range(n)]


def _entrywise_vjp(sp: Any, graph: Graph, i: int, g: Any, argv: list[Any], argf: list[Any], outf: Any,
                   wanted: list[bool], rules: PartialRules) -> list[Any]:
    """upstream x exact local partial, entry by entry (a zero on either side
    passes nothing back), then broadcasting undone."""
    op = graph.ops[i]
    shape = g.shape
    exact = [np.broadcast_to(a, shape) for a in argv]
    approx = [np.broadcast_to(a, shape) for a in argf]
    outs = np.broadcast_to(outf, shape)
    cots = [_zero(sp, shape) if w else None for w in wanted]
    for index in np.ndindex(shape):
        up = g[index]
        if up == 0:
            continue
        local = rules.at(op, [a[index] for a in exact], [float(a[index]) for a in approx],
                         float(outs[index]))
        for c, p in zip(cots, local):
            if c is not None and p != 0:
                c[index] = up * p
    return [None if c is None else np.asarray(unbroadcast(c, np.shape(a)), dtype=object) for c, a in zip(cots, argv)]


def _extreme_vjp(sp: Any, graph: Graph, i: int, g: Any, xf: Any, outf: Any) -> Any:
    """max / min of a tensor: the upstream at the extreme entry, split evenly
    on a tie (the engine's weights 1/k, exactly)."""
    params = dict(graph.params.get(i, ()))
    axis = params.get("axis")
    (weights,) = TENSOR_OPS[graph.ops[i]].vjp(np, np.ones(np.shape(outf)), xf, outf, **params)
    spread = _expand(np, g, xf.shape, axis)
    cot = _zero(sp, xf.shape)
    for index in np.ndindex(xf.shape):
        if weights[index] != 0:
            cot[index] = spread[index] * from_float(sp, float(weights[index]))
    return cot


def _tensor_vjp(sp: Any, graph: Graph, i: int, g: Any, argv: list[Any], wanted: list[bool]) -> list[Any]:
    """d <g, op(arguments)> / d each entry of each wanted argument: SymPy on
    the op's counterpart over placeholder symbols, at the exact arguments."""
    top = TENSOR_OPS[graph.ops[i]]
    placeholders: list[Any] = []
    mapping: dict[Any, Any] = {}
    for k, (a, w) in enumerate(zip(argv, wanted)):
        if not w:
            placeholders.append(a)
            continue
        syms = np.empty(a.shape, dtype=object)
        for index in np.ndindex(a.shape):
            s = sp.Dummy(f"a{k}", real=True)
            syms[index] = s
            mapping[s] = a[index]
        placeholders.append(syms)
    out = np.asarray(top.sympy(sp, np, *placeholders, **dict(graph.params.get(i, ()))), dtype=object)
    inner = sp.Add(*[u * o for u, o in zip(g.flat, out.flat) if u != 0])
    cots: list[Any] = []
    for syms, w in zip(placeholders, wanted):
        if not w:
            cots.append(None)
            continue
        cot = np.empty(syms.shape, dtype=object)
        for index in np.ndindex(syms.shape):
            cot[index] = sp.diff(inner, syms[index]).xreplace(mapping)
        cots.append(cot)
    return cots

