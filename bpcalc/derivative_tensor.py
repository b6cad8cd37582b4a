"""`--derivative` for vectors and matrices: d output / d input in matrix
notation where the rules compose into one formula, else entry by entry.

Matrix notation: the backward pass is walked once more, from the output to
the inputs, with each operation's rule written as an expression over the
program's names instead of numbers (d(A @ B)/dA = upstream · Bᵀ, an
entrywise function's slope, a sum's upstream copied to every entry, ...).
A named node of the program stands for itself (x1 in J = ½‖T1·x1 − y‖² is
x1, whatever computed it); a few rules keep the formula short (1·a = a,
½·2 = 1, a sum's upstream of ones disappears in a product). A formula is
kept only when it is VERIFIED: evaluated with NumPy at the point, it must
give the engine's gradient (rtol 1e-9, atol 1e-12) with its shape. An
operation without a matrix rule here (relu, max, softmax, a broadcast other
than a bias), or a formula that does not verify, leaves that input to the
entrywise formulas.

Entry by entry: every entry of every input becomes a SymPy symbol (W[0, 1]),
the graph is expanded entry by entry (`verify_tensor.sympy_arrays`, the
check's expansion), and each entry of the gradient is SymPy's derivative,
simplified within the budget as for scalars (`bpcalc.derivative`), within
the tensor check's size limits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from .derivative import Derivatives, Formula, clip, with_fallback
from .graph import CONST, INPUT, Graph
from .i18n import _
from .limits import DEFAULT_ATOL, DEFAULT_BUDGET, DEFAULT_RTOL
from .ops import OPS, TENSOR_OPS

if TYPE_CHECKING:
    from .api import GradResult

MATRIX = "matrix"
ENTRIES = "entries"


@dataclass(frozen=True)
class M:
    """A matrix-notation expression: `op` over `args`, of shape `shape`.
    "name" (a node of the program, `name`), "num" (`value`), "add", "sub",
    "neg", "mul" (scalar times anything, or entry by entry), "div", "pow"
    (by a number), "matmul", "outer", "T", "sum" (`axis`), "fill" (args[0]
    copied to every entry of `shape`), "fn" (entrywise function `name`),
    "positive" (1 where args[0] > 0, else 0: relu's slope), "onehot" (class
    indices args[0] as one-hot rows of `shape`)."""

    op: str
    args: tuple["M", ...] = ()
    shape: tuple[int, ...] = ()
    name: str = ""
    value: Fraction | None = None
    axis: int | None = None


class NoMatrixForm(Exception):
    """A rule that does not compose into one matrix formula (its message says which)."""


def num(value: Fraction | int) -> M:
    return M("num", value=Fraction(value))


def _is_num(m: M, value: int | None = None) -> bool:
    return m.op == "num" and (value is None or m.value == value)


def _bshape(a: M, b: M) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(a.shape, b.shape))


def add(a: M, b: M) -> M:
    if a == b:  # a fan-out of the same contribution: W·reg + W·reg
        return mul(num(2), a)
    if b.op == "neg":
        return M("sub", (a, b.args[0]), _bshape(a, b))
    return M("add", (a, b), _bshape(a, b))


def neg(a: M) -> M:
    if a.op == "neg":
        return a.args[0]
    if _is_num(a):
        return num(-a.value)  # type: ignore[operator]
    return M("neg", (a,), a.shape)


def mul(a: M, b: M) -> M:
    """a times b (a scalar times anything, or entry by entry), tidied."""
    if _is_num(a) and _is_num(b):
        return num(a.value * b.value)  # type: ignore[operator]
    if (_is_num(b) and not _is_num(a)) or (a.shape and not b.shape):  # the scalar first: 0.5·x
        a, b = b, a
    if _is_num(a) and b.op == "fill":
        return fill(mul(a, b.args[0]), b.shape)
    if a.op == "fill" and b.shape == a.shape:  # ones copied over b's entries, times b
        return mul(a.args[0], b)
    if b.op == "fill" and a.shape == b.shape:
        return mul(b.args[0], a)
    if _is_num(a, 1):
        return b
    if _is_num(a, -1):
        return neg(b)
    if _is_num(a) and b.op == "mul" and _is_num(b.args[0]):
        return mul(num(a.value * b.args[0].value), b.args[1])  # type: ignore[operator]
    if _is_num(a) and b.op == "neg":
        return mul(num(-a.value), b.args[0])  # type: ignore[operator]
    if b.op == "neg":
        return neg(mul(a, b.args[0]))
    if a.op == "neg":
        return neg(mul(a.args[0], b))
    return M("mul", (a, b), _bshape(a, b))


def div(a: M, b: M) -> M:
    return M("div", (a, b), _bshape(a, b))


def matmul(a: M, b: M) -> M:
    """a·b (the matrix product), with signs and numbers taken out front."""
    if a.op == "neg":
        return neg(matmul(a.args[0], b))
    if b.op == "neg":
        return neg(matmul(a, b.args[0]))
    if a.op == "mul" and _is_num(a.args[0]):
        return mul(a.args[0], matmul(a.args[1], b))
    return M("matmul", (a, b), TENSOR_OPS["matmul"].shape(("a", "b"), a.shape, b.shape))


def transpose(a: M) -> M:
    if a.op == "T":
        return a.args[0]
    if len(a.shape) < 2:
        return a
    return M("T", (a,), tuple(reversed(a.shape)))


#: Operations whose matrix form is built by a tidying constructor.
_TIDY: dict[str, Callable[..., M]] = {"add": add, "neg": neg, "mul": mul, "div": div, "matmul": matmul,
                                      "transpose": transpose}


def fill(value: M, shape: tuple[int, ...]) -> M:
    """`value` (a number) copied to every entry of `shape`."""
    if not shape:
        return value
    return M("fill", (value,), shape)


def reduce_to(g: M, shape: tuple[int, ...], what: str) -> M:
    """The upstream `g` of a broadcast result, summed back to an argument's
    `shape`: a number (sum of every entry) or a bias row (sum down the
    columns); other broadcasts have no matrix rule here."""
    if g.shape == shape:
        return g
    if g.op == "neg":
        return neg(reduce_to(g.args[0], shape, what))
    if g.op == "fill" and not shape:
        return mul(num(int(np.prod(g.shape))), g.args[0])
    if not shape:
        return M("sum", (g,), ())
    if len(g.shape) == 2 and len(shape) == 1 and g.shape[1] == shape[0]:
        return M("sum", (g,), shape, axis=0)
    raise NoMatrixForm(_("{what} broadcasts an argument in a way the matrix rules here do not undo").format(
        what=what))


# --- the backward pass in matrix notation ----------------------------------------


#: Entrywise functions with a rule in matrix notation: the local slope from
#: the argument `a` and the result `out`.
_SLOPES: dict[str, Callable[[M, M], M]] = {
    "exp": lambda a, out: out,
    "log": lambda a, out: div(num(1), a),
    "sigmoid": lambda a, out: mul(out, M("sub", (num(1), out), out.shape)),
    "tanh": lambda a, out: M("sub", (num(1), M("pow", (out, num(2)), out.shape)), out.shape),
    "sqrt": lambda a, out: div(num(1), mul(num(2), out)),
    "relu": lambda a, out: M("positive", (a,), a.shape),  # the engine's convention: relu'(0) = 0
}


def forward_forms(graph: Graph, shapes: Sequence[tuple[int, ...]]) -> list[M | None]:
    """Each node in matrix notation: a named node (an input, or a name given
    in the program) by its name, a number literal as its number, an
    operation over its arguments' forms; None where there is no form."""
    forms: list[M | None] = [None] * len(graph)
    for i, op in enumerate(graph.ops):
        name = graph.names[i]
        if name and i != graph.output:
            forms[i] = M("name", shape=shapes[i], name=name)
        elif op == CONST:
            value, literal = graph.consts[i]
            forms[i] = _number(literal) if isinstance(value, float) else None
        elif op != INPUT:
            args = [forms[j] for j in graph.args(i)]
            forms[i] = None if None in args else _op_form(graph, i, args, shapes[i])  # type: ignore[arg-type]
    return forms


def _number(literal: str) -> M | None:
    try:
        return num(Fraction(literal))
    except ValueError:  # pi, e
        return None


def _op_form(graph: Graph, i: int, args: list[M], shape: tuple[int, ...]) -> M | None:
    op = graph.ops[i]
    if op in _TIDY:
        return _TIDY[op](*args)
    if op in ("sub", "outer") or (op == "pow" and _is_num(args[1])):
        return M(op, tuple(args), shape)
    if op == "sum":
        return M("sum", (args[0],), shape, axis=dict(graph.params.get(i, ())).get("axis"))
    if op in OPS and len(args) == 1:
        return M("fn", (args[0],), shape, name=op)
    return None


def matrix_adjoints(graph: Graph, shapes: Sequence[tuple[int, ...]], need: Sequence[bool],
                    forms: Sequence[M | None]) -> dict[int, M | str]:
    """Input node id -> its adjoint in matrix notation, or why there is none
    (the first rule on its way back that does not compose)."""
    n = len(graph)
    adj: list[M | str | None] = [None] * n
    out = graph.output
    adj[out] = num(1)
    for i in range(out, -1, -1):
        g = adj[i]
        if g is None or not need[i] or graph.ops[i] in (INPUT, CONST):
            continue
        args = graph.args(i)
        if isinstance(g, str):
            cots: list[M | str | None] = [g] * len(args)
        else:
            try:
                cots = list(_rule(graph, i, g, shapes, forms))
            except NoMatrixForm as why:
                cots = [str(why)] * len(args)
        for j, c in zip(args, cots):
            if c is None or not need[j]:
                continue
            previous = adj[j]
            if previous is None or isinstance(c, str):
                adj[j] = c if not isinstance(previous, str) else previous
            elif not isinstance(previous, str):
                adj[j] = add(previous, c)
    return {j: adj[j] if adj[j] is not None else num(0) for j in graph.inputs if need[j]}  # type: ignore[misc]


def _form(forms: Sequence[M | None], j: int, graph: Graph) -> M:
    f = forms[j]
    if f is None:
        raise NoMatrixForm(_("{what} has no matrix notation here").format(what=graph.describe(j)))
    return f


def _rule(graph: Graph, i: int, g: M, shapes: Sequence[tuple[int, ...]],
          forms: Sequence[M | None]) -> tuple[M | None, ...]:
    """Each argument's adjoint contribution from node i's upstream `g`."""
    op = graph.ops[i]
    args = graph.args(i)
    what = graph.describe(i)
    params = dict(graph.params.get(i, ()))

    def arg(k: int) -> M:
        return _form(forms, args[k], graph)

    def back(k: int, c: M) -> M:
        return reduce_to(c, shapes[args[k]], what)

    if op == "add":
        return back(0, g), back(1, g)
    if op == "sub":
        return back(0, g), back(1, neg(g))
    if op == "neg":
        return (neg(g),)
    if op == "mul":
        return back(0, mul(g, arg(1))), back(1, mul(g, arg(0)))
    if op == "div":
        a, b = arg(0), arg(1)
        return back(0, div(g, b)), back(1, neg(div(mul(g, a), M("pow", (b, num(2)), b.shape))))
    if op == "pow":
        a, p = arg(0), arg(1)
        if not _is_num(p) or graph.active[args[1]]:
            raise NoMatrixForm(_("{what} is a power by a variable, which has no rule in matrix notation "
                                 "here").format(what=what))
        k = p.value - 1  # type: ignore[operator]
        slope = mul(p, a if k == 1 else (num(1) if k == 0 else M("pow", (a, num(k)), a.shape)))
        return back(0, mul(g, slope)), None
    if op in _SLOPES:
        return (back(0, mul(g, _SLOPES[op](arg(0), _form(forms, i, graph)))),)
    if op == "sum" and params.get("axis") is None:
        return (fill(g, shapes[args[0]]),)
    if op == "mean" and params.get("axis") is None:
        return (fill(div(g, num(int(np.prod(shapes[args[0]])))), shapes[args[0]]),)
    if op == "transpose":
        return (transpose(g),)
    if op == "cross_entropy":  # (softmax(Y) − t) / N; class indices as one-hot rows, with no gradient
        y, t = arg(0), arg(1)
        rows = shapes[args[0]][0] if len(shapes[args[0]]) == 2 else 1
        per = (lambda m: m) if rows == 1 else (lambda m: div(m, num(rows)))
        indices = shapes[args[0]] != shapes[args[1]]
        target = M("onehot", (t,), y.shape) if indices else t
        return (per(mul(g, M("sub", (M("fn", (y,), y.shape, name="softmax"), target), y.shape))),
                None if indices else per(neg(mul(g, M("fn", (y,), y.shape, name="log_softmax")))))
    if op == "outer":
        return matmul(g, arg(1)), matmul(arg(0), g)
    if op == "matmul":
        a, b = arg(0), arg(1)
        if len(a.shape) == 2 and len(b.shape) == 2:
            return matmul(g, transpose(b)), matmul(transpose(a), g)
        if len(a.shape) == 2 and len(b.shape) == 1:
            return M("outer", (g, b), a.shape), matmul(transpose(a), g)
        if len(a.shape) == 1 and len(b.shape) == 2:
            return matmul(g, transpose(b)), M("outer", (a, g), b.shape)
        if len(a.shape) == 1 and len(b.shape) == 1:
            return mul(g, b), mul(g, a)
    raise NoMatrixForm(_("{what} has no rule in matrix notation here").format(what=what))


# --- evaluation (to verify) --------------------------------------------------------


def evaluate(m: M, env: Mapping[str, Any]) -> Any:
    """The value of a matrix-notation expression, NumPy at the point `env`
    (name -> the engine's value)."""
    op = m.op
    if op == "name":
        return env[m.name]
    if op == "num":
        return float(m.value)  # type: ignore[arg-type]
    a = [evaluate(x, env) for x in m.args]
    if op == "add":
        return a[0] + a[1]
    if op == "sub":
        return a[0] - a[1]
    if op == "neg":
        return -a[0]
    if op == "mul":
        return a[0] * a[1]
    if op == "div":
        return a[0] / a[1]
    if op == "pow":
        return np.power(a[0], a[1])
    if op == "matmul":
        return a[0] @ a[1]
    if op == "outer":
        return np.outer(a[0], a[1])
    if op == "T":
        return np.transpose(a[0])
    if op == "sum":
        return np.sum(a[0], axis=m.axis)
    if op == "fill":
        return np.broadcast_to(a[0], m.shape)
    if op == "positive":
        return (np.asarray(a[0]) > 0).astype(float)
    if op == "onehot":
        return np.eye(m.shape[-1])[np.asarray(a[0], dtype=int)]
    if m.name in TENSOR_OPS:
        return TENSOR_OPS[m.name].forward(np, a[0])
    return OPS[m.name].np_forward(np, a[0])


def verified(m: M, env: Mapping[str, Any], gradient: Any, rtol: float = DEFAULT_RTOL,
             atol: float = DEFAULT_ATOL) -> bool:
    """The formula gives the engine's gradient at the point, shape and all."""
    with np.errstate(all="ignore"):
        try:
            value = np.asarray(evaluate(m, env), dtype=float)
        except (ValueError, ArithmeticError):
            return False
    expected = np.asarray(gradient, dtype=float)
    return (value.shape == expected.shape and bool(np.isfinite(value).all())
            and bool(np.allclose(value, expected, rtol=rtol, atol=atol)))


# --- printing ----------------------------------------------------------------------

_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "outer": 2, "neg": 3, "pow": 4, "T": 5}
_ATOM = 6


def _prec(m: M) -> int:
    return _PREC.get(m.op, _ATOM)


def _kind(m: M) -> str:
    """How a product multiplies: "matrix" (· of matrices), "entrywise" (⊙),
    "scalar" (a number times anything), or "" (not a product)."""
    if m.op in ("matmul", "outer"):
        return "matrix"
    if m.op == "mul":
        return "scalar" if not m.args[0].shape or not m.args[1].shape else "entrywise"
    return ""


def _number_text(value: Fraction) -> str:
    """0.5, 2, -3, 1/3: a decimal when it ends, else a fraction."""
    if value.denominator == 1:
        return str(value.numerator)
    d = value.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        return format(value.numerator / value.denominator, "g") if abs(value) >= 1e-4 else str(value)
    return f"{value.numerator}/{value.denominator}"


class _Printer:
    """Text (T1·x1 − y, x1ᵀ, a ⊙ b) or LaTeX."""

    def __init__(self, latex: bool) -> None:
        self.latex = latex

    def group(self, m: M, parent: int, right: bool = False, kind: str = "") -> str:
        """`m` inside an operation of precedence `parent` (of `kind`: a matrix
        product and an entrywise one never share a level unbracketed)."""
        text = self.show(m)
        p = _prec(m)
        mixed = p == parent and kind and _kind(m) not in (kind, "scalar")
        if p < parent or (right and p == parent) or mixed or (m.op == "num" and m.value < 0 and parent > 1):  # type: ignore[operator]
            return f"\\left({text}\\right)" if self.latex else f"({text})"
        return text

    def show(self, m: M) -> str:
        op, latex = m.op, self.latex
        if op == "name":
            return latex_tensor_name(m.name, bool(m.shape)) if latex else m.name
        if op == "num":
            text = _number_text(m.value)  # type: ignore[arg-type]
            if latex and "/" in text:
                top, bottom = text.lstrip("-").split("/")
                return ("-" if text.startswith("-") else "") + f"\\frac{{{top}}}{{{bottom}}}"
            return text
        if op == "positive":
            return (f"\\mathbb{{1}}\\left[{self.show(m.args[0])} > 0\\right]" if latex
                    else f"𝟙[{self.show(m.args[0])} > 0]")
        if op == "fill":
            one = "\\mathbf{1}" if latex else "𝟏"
            return one if _is_num(m.args[0], 1) else self.show(mul(m.args[0], M("name", shape=m.shape, name=one)))
        p = _prec(m)
        a = m.args
        if op in ("add", "sub"):
            sign = "+" if op == "add" else ("-" if latex else "−")
            return f"{self.group(a[0], p)} {sign} {self.group(a[1], p, right=op == 'sub')}"
        if op == "neg":
            return ("-" if latex else "−") + self.group(a[0], p + 1)
        if op == "mul":
            scalar = not a[0].shape or not a[1].shape
            if latex:
                sep = " " if scalar else " \\odot "
            else:
                sep = "·" if scalar else " ⊙ "
            kind = _kind(m)
            return f"{self.group(a[0], p, kind=kind)}{sep}{self.group(a[1], p, kind=kind)}"
        if op == "div":
            if latex:
                return f"\\frac{{{self.show(a[0])}}}{{{self.show(a[1])}}}"
            return f"{self.group(a[0], p)} / {self.group(a[1], p, right=True)}"
        if op == "pow":
            exponent = self.show(a[1])
            return f"{self.group(a[0], p + 1)}^{{{exponent}}}" if latex else f"{self.group(a[0], p + 1)}^{exponent}"
        if op == "matmul":
            sep = " " if latex else "·"
            return f"{self.group(a[0], p, kind='matrix')}{sep}{self.group(a[1], p, kind='matrix')}"
        if op == "outer":
            sep = " " if latex else "·"
            return f"{self.group(a[0], p, kind='matrix')}{sep}{self.group(a[1], _ATOM)}" + ("^\\top" if latex else "ᵀ")
        if op == "T":
            return self.group(a[0], _ATOM) + ("^\\top" if latex else "ᵀ")
        name = m.name if op == "fn" else op
        axis = "" if m.axis is None else f", axis={m.axis}"
        if latex:
            escaped = name.replace("_", "\\_")
            return f"\\operatorname{{{escaped}}}\\left({self.show(a[0])}{axis}\\right)"
        return f"{name}({self.show(a[0])}{axis})"


def latex_tensor_name(name: str, tensor: bool) -> str:
    """An input in LaTeX, bold when it is a vector or matrix: \\mathbf{T}_{1}."""
    from .symbolic import latex_name

    shown = latex_name(name)
    if not tensor:
        return shown
    if shown.startswith("\\"):  # \mathit{out\_o}, \alpha
        return f"\\boldsymbol{{{shown}}}"
    base, sep, rest = shown.partition("_{")
    return f"\\mathbf{{{base}}}{sep}{rest}"


def text_of(m: M) -> str:
    return _Printer(False).show(m)


def latex_of(m: M) -> str:
    return _Printer(True).show(m)


# --- the derivatives of a tensor program --------------------------------------------


def tensor_derivatives(result: "GradResult", budget: float = DEFAULT_BUDGET) -> Derivatives:
    """d output / d input for each input of `result` with a gradient: in
    matrix notation where it composes and verifies at the point, else entry
    by entry (SymPy, within `budget` seconds and the tensor check's limits)."""
    start = time.monotonic()
    graph = result.graph
    shapes = [result.shape(i) for i in range(len(graph))]
    gradient = {name: g for name, g in result.gradient.items() if g is not None}
    need = [a is not None for a in result.adjoints]
    forms = forward_forms(graph, shapes)
    adjoints = matrix_adjoints(graph, shapes, need, forms)
    env = {graph.names[i]: result.values[i] for i in range(len(graph)) if graph.names[i]}
    found: dict[str, Formula] = {}
    why: dict[str, list[str]] = {}  # reason -> the inputs it applies to
    for name, g in gradient.items():
        m = adjoints[graph.input_id(name)]
        if isinstance(m, M) and verified(m, env, g):
            found[name] = Formula(name, clip(text_of(m)), clip(latex_of(m)), MATRIX)
        else:
            reason = m if isinstance(m, str) else _("the matrix formula does not give the engine's gradient here")
            why.setdefault(reason, []).append(f"∂{result.output_label}/∂{name}")
    notes = [_("{names} entry by entry: {why}").format(names=", ".join(names), why=reason)
             for reason, names in why.items()]
    rest = [name for name in gradient if name not in found]
    simplified = True
    if rest:
        entries = entry_formulas(result, tuple(rest), budget)
        if entries.ok:
            found.update((f.name, f) for f in entries.formulas)
            simplified = entries.simplified
        if entries.note:
            notes.append(entries.note)
    formulas = tuple(found[name] for name in gradient if name in found)
    return Derivatives(len(formulas) == len(gradient), simplified, _("; ").join(notes), formulas,
                       time.monotonic() - start)


def entry_formulas(result: "GradResult", wrt: tuple[str, ...], budget: float) -> Derivatives:
    """The entrywise formulas of the inputs in `wrt` (SymPy, simplified
    within `budget`, else not simplified within another `budget`)."""
    from .verify_tensor import sympy_limits

    plain = {name: at.value for name, at in result.at.items()}
    if why := sympy_limits(result.graph, plain, wrt):
        return Derivatives(False, False, _("no entrywise formula: {why}").format(why=why), (), 0.0)
    data = {name for name, g in result.gradient.items() if g is None}
    return with_fallback(_entry_formulas, (result.graph, plain, data, wrt), budget)


def _entry_formulas(graph: Graph, point: Mapping[str, Any], data: set[str], wrt: tuple[str, ...],
                    simplify: bool) -> tuple[Formula, ...]:
    """In a child: each entry's formula, every input entry a symbol (data, such
    as class indices, as its numbers)."""
    import sympy as sp

    from .symbolic import latex_symbol_names
    from .verify_tensor import entry_symbols, exact_array, sympy_arrays

    inputs: dict[str, Any] = {}
    for name in graph.input_names:
        x = np.asarray(point[name], dtype=float)
        if name in data:
            inputs[name] = exact_array(sp, x)
            continue
        inputs[name] = entry_symbols(sp, name, x.shape)
    exprs = sympy_arrays(sp, graph, inputs)
    out = exprs[graph.output].item()
    formulas = []
    for name in wrt:
        syms = inputs[name]
        texts = np.empty(syms.shape, dtype=object)
        latex = np.empty(syms.shape, dtype=object)
        for index in np.ndindex(syms.shape):
            d = sp.diff(out, syms[index])
            if simplify:
                d = sp.simplify(d)
            texts[index] = clip(sp.sstr(d))
            latex[index] = clip(sp.latex(d, symbol_names=_entry_latex_names(d, latex_symbol_names)))
        if syms.ndim == 0:
            formulas.append(Formula(name, texts.item(), latex.item()))
        else:
            formulas.append(Formula(name, "", "", ENTRIES, texts.tolist(), latex.tolist()))
    return tuple(formulas)


def _entry_latex_names(expr: Any, scalar_names: Callable[[Any], dict[Any, str]]) -> dict[Any, str]:
    """LaTeX of the entry symbols: W[0, 1] -> W_{0,1}; other inputs as for scalars."""
    names = scalar_names(expr)
    for s in expr.free_symbols:
        base, bracket, index = s.name.partition("[")
        if bracket:
            names[s] = latex_entry(base, index.rstrip("]"))
    return names


def latex_entry(name: str, index: str) -> str:
    """An entry of an input in LaTeX: W, '0, 1' -> W_{0,1}; T1 -> {T_{1}}_{0,1}."""
    from .symbolic import latex_name

    shown = latex_name(name)
    shown = f"{{{shown}}}" if "_" in shown else shown
    return f"{shown}_{{{index.replace(' ', '')}}}"


def entry_lines(formula: Formula, latex: bool) -> list[tuple[str, str]]:
    """(the entry's name, its formula) for each entry of an entrywise formula:
    ('W[0, 1]', ...) in text, ('W_{0,1}', ...) in LaTeX."""
    from .tensor import entry_text

    texts = np.array(formula.entries_latex if latex else formula.entries, dtype=object)
    lines = []
    for index in np.ndindex(texts.shape):
        where = entry_text(index)
        lines.append((latex_entry(formula.name, where[1:-1]) if latex else formula.name + where, texts[index]))
    return lines

