"""The Python API: `bpcalc.grad(program, at=...)` -> GradResult.

The command line is one client of this; everything it prints is derived from
a `GradResult`, and `GradResult.to_dict()` is exactly the `--json` document.
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from .engine import backward, forward
from .errors import Diagnostic, Source
from .graph import Graph
from .i18n import _
from .lang.lower import build
from .limits import DEFAULT_ATOL, DEFAULT_BUDGET, DEFAULT_LIMITS, DEFAULT_RTOL, Limits, require_finite
from .point import AtValue, as_point, resolve

if TYPE_CHECKING:  # imported where used: start-up stays light (issue 6)
    from .derivative import Derivatives
    from .exact import ExactResult
    from .verify import Check

SCHEMA = "bpcalc.grad/1"


def num(v: float | None) -> float | str | None:
    """A float for strict JSON: non-finite numbers become "inf", "-inf", "nan"."""
    if v is None or math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def jsonable(v: Any) -> Any:
    """`num` for a scalar; nested lists of `num` for a vector or matrix."""
    if v is None or isinstance(v, float):
        return num(v)
    if getattr(v, "ndim", 0) == 0:
        return num(float(v))
    import numpy as np

    if np.isfinite(v).all():
        return v.tolist()
    return [jsonable(row) for row in v] if v.ndim > 1 else [num(float(x)) for x in v]


def shape_of(v: Any) -> list[int]:
    return list(getattr(v, "shape", ()))


def scalar_or_array(v: Any) -> Any:
    """A 0-d array as a float; anything else as it is."""
    return float(v) if getattr(v, "ndim", None) == 0 else v


#: Longest node text in results; the full extent is in `span`.
MAX_NODE_TEXT = 1000
#: Longest node text in JSON, which has every node: a 10^6-node program then
#: writes about 200 bytes per node, not up to a kilobyte.
MAX_JSON_NODE_TEXT = 80


@dataclass(frozen=True)
class NodeResult:
    id: int
    label: str
    name: str | None
    op: str
    inputs: tuple[int, ...]
    text: str  # its source text, white space folded, at most MAX_NODE_TEXT characters
    span: tuple[int, int]  # [start, end) character offsets in the program
    value: Any  # a float; a NumPy array for a vector or matrix
    grad: Any  # the same shape as value; None for nodes that do not depend on any input
    shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class GradResult:
    """The value and gradient of a program at a point, with every node's
    value and adjoint, the independent check, and the warnings.

    In a tensor program (`tensor` is True) values and adjoints are NumPy
    arrays (0-d for scalars) and each adjoint has its node's shape; an input
    used only as class indices (cross_entropy's target) is data and has no
    gradient (None)."""

    program: str
    graph: Graph
    at: Mapping[str, AtValue]
    values: tuple[float, ...]
    adjoints: tuple[float | None, ...]
    wrt: tuple[str, ...]
    check: Check | None
    warnings: tuple[Diagnostic, ...]
    exact: ExactResult | None = None  # exact mode (`exact=True`)
    derivatives: Derivatives | None = None  # d output / d input formulas (`derivative=True`)
    tensor: bool = False  # computed by the tensor engine (vectors and matrices)
    lr: float | None = None  # the learning rate of one step of gradient descent (`updated`)

    @property
    def value(self) -> float:
        return scalar_or_array(self.values[self.graph.output])

    def shape(self, i: int) -> tuple[int, ...]:
        return tuple(getattr(self.values[i], "shape", ()))

    @property
    def output_label(self) -> str:
        return self.graph.names[self.graph.output] or "f"

    @property
    def gradient(self) -> dict[str, Any]:
        """d output / d input for each reported input (0.0 if it does not
        matter); for a vector or matrix input, an array of its shape; None
        for class-index data."""
        g = self.graph
        adj = self.adjoints
        out: dict[str, Any] = {}
        for name in self.wrt:
            a = adj[g.inputs[g.input_names.index(name)]]
            if self.tensor:
                out[name] = scalar_or_array(a)
            else:
                out[name] = 0.0 if a is None else a
        return out

    @property
    def updated(self) -> dict[str, Any]:
        """One step of gradient descent with learning rate `lr`: θ − lr·∂f/∂θ
        for each reported input, all from the same gradient (a simultaneous
        update); an array for a vector or matrix input; none for class-index
        data (no gradient). {} without `lr`."""
        if self.lr is None:
            return {}
        return {name: updated_value(self.at[name].value, g, self.lr)
                for name, g in self.gradient.items() if g is not None}

    @property
    def exact_gradient(self) -> dict[str, Any]:
        """d output / d input as exact text ("11/5") in exact mode, else {};
        for a vector or matrix input, nested lists of entry texts."""
        if self.exact is None:
            return {}
        adjoints = self.exact.adjoints
        return {name: adjoints[self.graph.input_id(name)] for name in self.wrt}

    @property
    def nodes(self) -> tuple[NodeResult, ...]:
        g = self.graph
        return tuple(
            NodeResult(
                i, g.labels[i], g.names[i], g.ops[i], g.args(i), g.snippet(i, MAX_NODE_TEXT),
                (g.starts[i], g.ends[i]), scalar_or_array(self.values[i]), scalar_or_array(self.adjoints[i]),
                self.shape(i),
            )
            for i in range(len(g))
        )

    @property
    def ok(self) -> bool:
        return self.check is None or self.check.ok

    def __str__(self) -> str:
        """The node table and the check, as `bpcalc grad` prints them."""
        from .notebook import grad_text

        return grad_text(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython's console
        p.text(str(self))

    def _repr_html_(self) -> str:  # a notebook: the table, and the picture when Graphviz is there
        from .notebook import grad_html

        return grad_html(self)

    def node_dicts(self) -> Iterator[dict[str, Any]]:
        """The `nodes` of `to_dict()`, one at a time (a writer can stream them)."""
        g = self.graph
        values = self.values
        adjoints = self.adjoints
        labels, names, ops, starts, ends = g.labels, g.names, g.ops, g.starts, g.ends
        snippet = g.snippet
        for i in range(len(g)):
            yield {
                "id": i,
                "label": labels[i],
                "name": names[i],
                "op": ops[i],
                "inputs": list(g.args(i)),
                "text": snippet(i, MAX_JSON_NODE_TEXT),
                "span": [starts[i], ends[i]],
                "shape": shape_of(values[i]),
                "value": jsonable(values[i]),
                "grad": jsonable(adjoints[i]),
            }

    def to_dict(self, nodes: bool = True) -> dict[str, Any]:
        """The --json document; with nodes=False its "nodes" are None, for a
        writer that streams `node_dicts()` in their place (not in exact mode,
        which adds to each node)."""
        g = self.graph
        nodes = list(self.node_dicts()) if nodes or self.exact is not None else None
        return {
            "schema": SCHEMA,
            "program": self.program,
            "at": {name: jsonable(at.value) for name, at in self.at.items()},
            "output": {"id": g.output, "label": g.labels[g.output]},
            "value": jsonable(self.value),
            "gradient": {name: jsonable(v) for name, v in self.gradient.items()},
            "nodes": nodes,
            "check": check_to_dict(self.check),
            "warnings": [w.message for w in self.warnings],
            "exact": self.exact_to_dict(nodes),
            "derivatives": derivatives_to_dict(self.derivatives),
            **({} if self.lr is None else {"lr": self.lr, "updated": {
                name: jsonable(v) for name, v in self.updated.items()}}),
        }

    def exact_to_dict(self, nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The `exact` key (None unless exact mode); also gives each node dict
        an "exact" entry {"value", "grad"} of exact texts."""
        exact = self.exact
        if exact is None:
            return None
        for node, value, grad in zip(nodes, exact.values, exact.adjoints):
            node["exact"] = {"value": value, "grad": grad}
        out = self.graph.output
        return {
            "ok": exact.ok,
            "note": exact.note,
            "value": exact.values[out],
            "gradient": self.exact_gradient,
            "latex": {
                "value": exact.latex_values[out],
                "gradient": {name: exact.latex_adjoints[self.graph.input_id(name)] for name in self.wrt},
            },
            "seconds": round(exact.seconds, 3),
        }


def updated_value(theta: Any, gradient: Any, lr: float) -> Any:
    """θ − lr·g: a number, or an array for a vector or matrix input."""
    return scalar_or_array(theta - lr * gradient) if hasattr(theta, "shape") else theta - lr * gradient


def check_to_dict(check: Check | None) -> dict[str, Any] | None:
    """The `check` key: the method, the tolerances, a verdict per input."""
    if check is None:
        return None
    per_input = _tensor_input_dict if getattr(check, "tensor", False) else _input_dict
    return {
        "ok": check.ok,
        "method": check.method,
        "rtol": check.rtol,
        "atol": check.atol,
        "inputs": {c.name: per_input(c) for c in check.inputs},
        "notes": list(check.notes),
        "seconds": round(check.seconds, 3),
    }


def _input_dict(c: Any) -> dict[str, Any]:
    return {
        "derivative": c.derivative,
        "value": num(c.symbolic),
        "engine": num(c.engine),
        "finite_difference": num(c.fd),
        "status": c.status,
        "ok": c.ok,
    }


def _tensor_input_dict(c: Any) -> dict[str, Any]:
    """A tensor input's verdict: SymPy's and the finite differences' gradients
    entry by entry (or the number of random directions), and the worst entry."""
    return {
        "shape": list(c.shape),
        "engine": jsonable(c.engine),
        "sympy": jsonable(c.symbolic) if c.symbolic is not None else None,
        "finite_difference": jsonable(c.fd) if c.fd is not None else None,
        "directions": c.directions or None,
        "worst_entry": list(c.worst) if c.worst is not None else None,
        "max_abs_difference": num(c.error),
        "not_judged": c.unjudged,
        "status": c.status,
        "ok": c.ok,
    }


def derivatives_to_dict(found: Derivatives | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "ok": found.ok,
        "simplified": found.simplified,
        "note": found.note,
        "formulas": {f.name: formula_to_dict(f) for f in found.formulas},
        "seconds": round(found.seconds, 3),
    }


def formula_to_dict(f: Any) -> dict[str, Any]:
    """One formula: text and LaTeX; in a tensor program also its form
    ("matrix" or "entries") and, entry by entry, nested lists of formulas."""
    if not f.how:
        return {"text": f.text, "latex": f.latex}
    entries = {"entries": f.entries, "entries_latex": f.entries_latex} if f.entries is not None else {}
    return {"form": f.how, "text": f.text, "latex": f.latex, **entries}


@contextmanager
def without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: building a graph makes millions of
    small objects and no cycles, and the collector's repeated scans of them
    would cost more than the work itself (measured: 3x on 10^6 nodes)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: Graphs of short programs already built in this process, by (text, origin,
#: limits): a notebook or a training loop calls grad on the same program
#: again and again. A Graph is frozen (its `cache` holds only what is derived
#: from it), so one can serve every call.
_BUILT: dict[tuple[str, str, Limits], tuple[Graph, tuple[Diagnostic, ...]]] = {}
_BUILT_MAX_TEXT = 4096
_BUILT_MAX = 64


def _built(source: Source, limits: Limits) -> tuple[Graph, list[Diagnostic]]:
    if len(source.text) > _BUILT_MAX_TEXT:
        return build(source, limits)
    key = (source.text, source.origin, limits)
    found = _BUILT.get(key)
    if found is None:
        graph, warnings = build(source, limits)
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.pop(next(iter(_BUILT)))
        found = _BUILT[key] = (graph, tuple(warnings))
    return found[0], list(found[1])


def _resolved(graph: Graph, point: Mapping[str, AtValue], wrt: Sequence[str] | None,
              python: bool) -> tuple[tuple[str, ...], list[int]]:
    """`resolve` (the inputs to report) and their node ids, remembered per
    graph for the names given (a training loop gives the same ones each
    time); an error is raised every time, never remembered."""
    known = graph.cache.setdefault("resolved", {})
    try:
        key: tuple[Any, ...] | None = (tuple(point), None if wrt is None else tuple(wrt), python)
        found = known.get(key)
    except TypeError:  # a name that is not even hashable: resolve says what is wrong
        found = key = None
    if found is None:
        chosen = resolve(graph, point, wrt, python)
        found = (chosen, tuple(graph.input_id(name) for name in chosen))
        if key is not None and len(known) < _RESOLVED_MAX:
            known[key] = found
    return found[0], list(found[1])


_RESOLVED_MAX = 16


def analyze(source: Source, at: Mapping[str, object] | None, wrt: Sequence[str] | None = None,
            limits: Limits = DEFAULT_LIMITS, python: bool = False):
    """Parse, lower, resolve the point, run forward and backward.

    Returns (graph, point, wrt, values, adjoints, warnings, tensor); the
    building block for `grad` and for other commands (check, explain, graph,
    batch). `tensor` says the tensor engine ran (vectors and matrices).
    """
    enabled = gc.isenabled()  # without_gc, inline: a training loop calls this thousands of times
    gc.disable()
    try:
        graph, warnings = _built(source, limits)
        point = as_point(at)
        chosen, ids = _resolved(graph, point, wrt, python)
        plain = {name: v.value for name, v in point.items()}
        if graph.uses_tensors or not all(isinstance(v, float) for v in plain.values()):
            from . import tensor

            values, adjoints, tw = tensor.value_and_grad(graph, plain, ids, limits.max_entries)
            return graph, point, chosen, values, adjoints, [*warnings, *tw], True
        values, fw = forward(graph, plain)
        adjoints, bw = backward(graph, values)
    finally:
        if enabled:
            gc.enable()
    return graph, point, chosen, values, adjoints, [*warnings, *fw, *bw], False


def grad(
    program: str | Source,
    at: Mapping[str, object] | None = None,
    *,
    wrt: Sequence[str] | None = None,
    check: bool = True,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    budget: float = DEFAULT_BUDGET,
    origin: str = "<program>",
    limits: Limits = DEFAULT_LIMITS,
    exact: bool = False,
    derivative: bool = False,
    python: bool = False,
) -> GradResult:
    """Value and gradient of `program` at `at`, checked against SymPy.

    `at` maps input names to numbers or constant expressions ("pi/4").
    `exact=True` adds exact values and gradients (`.exact`: SymPy numbers
    such as 11/5), `derivative=True` the formulas d output / d input
    (`.derivatives`); each SymPy step may take `budget` seconds.
    `python=True` (`bpcalc.grad`): messages name at= and wrt=, not --at.
    Raises `bpcalc.BpcalcError` on bad input (its `.render()` is the message
    with a caret under the place).

    >>> r = grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4})
    >>> r.value, r.gradient
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})
    """
    source = program if isinstance(program, Source) else Source(program, origin)
    graph, point, chosen, values, adjoints, warnings, tensor = analyze(source, at, wrt, limits, python)
    result = GradResult(source.text, graph, point, tuple(values), tuple(adjoints), chosen, None, tuple(warnings),
                        tensor=tensor)
    return with_sympy(result, check=check, exact=exact, derivative=derivative, rtol=rtol, atol=atol, budget=budget)


def with_sympy(
    result: GradResult,
    *,
    check: bool = True,
    exact: bool = False,
    derivative: bool = False,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    budget: float = DEFAULT_BUDGET,
) -> GradResult:
    """`result` with the SymPy steps asked for: the check, exact values, the
    derivative formulas (each within `budget` seconds; their notes become
    warnings). Lets a caller validate cheaply before the slow part."""
    if not (math.isfinite(rtol) and math.isfinite(atol) and math.isfinite(budget)):
        require_finite({"rtol": rtol, "atol": atol, "budget": budget})  # says which
    if not (check or exact or derivative):
        return result  # nothing to add (a training loop's check=False)
    graph, point = result.graph, result.at
    warnings = list(result.warnings)
    if check:
        result = (_tensor_check if result.tensor else _scalar_check)(result, warnings, rtol, atol, budget)
    if exact:
        if result.tensor:
            from .exact_tensor import exact_tensor_values

            found = exact_tensor_values(graph, point, [a is not None for a in result.adjoints], budget)
        else:
            from .exact import exact_values

            found = exact_values(graph, point, budget)
        warnings += [Diagnostic("exact", found.note)] if found.note else []
        result = replace(result, exact=found)
    if derivative:
        if result.tensor:
            from .derivative_tensor import tensor_derivatives

            formulas = tensor_derivatives(result, budget)
        else:
            from .derivative import derivatives as derivative_formulas

            formulas = derivative_formulas(graph, result.wrt, budget)
        result = replace(result, derivatives=formulas)
    return replace(result, warnings=tuple(warnings))


def _scalar_check(result: GradResult, warnings: list[Diagnostic], rtol: float, atol: float,
                  budget: float) -> GradResult:
    """The SymPy check of a scalar program (`verify`); its warnings join `warnings`."""
    if not result.wrt:
        warnings.append(Diagnostic("check", _("the program has no inputs, so it has no gradient to check")))
        return result
    from .verify import check as run_check

    verdict = run_check(result.graph, result.at, result.gradient, warnings, rtol=rtol, atol=atol, budget=budget)
    warnings += [Diagnostic("ill-conditioned", _(
        "{partial} = {engine} is inaccurate in double precision at this point; SymPy's exact value is {exact} "
        "(see the check's note; --exact computes with exact numbers)").format(
            partial=f"∂{result.output_label}/∂{c.name}", engine=f"{c.engine:.6g}", exact=f"{c.symbolic:.6g}"))
        for c in verdict.ill_conditioned]
    return replace(result, check=verdict)  # its notes say how it checked


def _tensor_check(result: GradResult, warnings: list[Diagnostic], rtol: float, atol: float,
                  budget: float) -> GradResult:
    """The check of a tensor program: SymPy entry by entry where affordable,
    else central finite differences (`verify_tensor`)."""
    gradient = {name: g for name, g in result.gradient.items() if g is not None}
    if not gradient:
        warnings.append(Diagnostic("check", _("the program has no inputs with a gradient, so there is nothing to "
                                              "check")))
        return result
    from .verify_tensor import check_tensor

    kinks = [w for w in result.warnings if w.kind == "kink"]
    verdict = check_tensor(result.graph, {n: v.value for n, v in result.at.items()}, gradient,
                           [w.message for w in kinks], rtol=rtol, atol=atol, budget=budget,
                           kink_nodes=[w.node for w in kinks if w.node is not None])
    return replace(result, check=verdict)  # type: ignore[arg-type]
