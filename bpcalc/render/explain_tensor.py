"""`bpcalc explain` for vectors and matrices: the forward pass with each
node's shape and value, the backward pass as named steps.

Each step is its op's vector-Jacobian product written in bpcalc's own
language (`TensorOp.program` in the op table; for an entrywise op, upstream *
the scalar rule), filled in with this program's names, with the shapes
multiplied (`dW = X.T @ dY   (3×2)(2×4) → (3×4)`) and, for small tensors,
its numbers. A broadcast undone is a step of its own, said in words; a node
that feeds several others sums their contributions; cross-entropy shows the
chain of rules it comes to, (p − t)/N.

Read together, the steps are a bpcalc program (`TensorSteps.program`): its
inputs are the forward values (`TensorSteps.forward_values`), and running it
through bpcalc gives the engine's gradients. Where the language cannot say a
step (a tie mask of max(X), stacked matrices), the step writes in the
engine's numbers and says so.

Unnamed nodes (the grad table's %4) are called n4 here, so that every step
is a line of the language.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..api import GradResult
from ..errors import BpcalcError, Source
from ..graph import CONST, INPUT, Graph
from ..i18n import N_, _, ngettext
from ..ops import OPS, TENSOR_OPS, ce_indices, shape_text
from ..symbolic import latex_name
from .explain import (DEFAULT_MAX_STEPS, Explanation, Line, Notation, Section, and_list, latex_text, on_path_from,
                      shown_forward, too_many_steps, users_of)
from .numbers import all_kept, exact_written, fmt, tensor_fmt, written_out
from .table import exact_and_decimal, point_text, program_title

#: Tensors with at most this many entries are written out in steps.
SMALL = 16


@dataclass(frozen=True)
class Step:
    """One line of the backward program: `target = formula`."""

    target: str  # a bpcalc name: dW, dn4
    formula: str  # bpcalc text; the engine's numbers when `literal`
    node: int  # the node whose gradient it is (or feeds)
    shapes: str  # "(3×2)(2×4) → (3×4)"
    value: Any
    note: str = ""
    literal: bool = False  # the language cannot say it: the engine's numbers, written in
    final: bool = True  # the node's whole gradient (not a part before a broadcast is undone)


@dataclass(frozen=True)
class TensorSteps:
    names: tuple[str, ...]  # each node's name in the steps (x, W1, n4; a constant: its literal)
    grads: tuple[str, ...]  # each node's gradient's name (dW1, dn4)
    steps: tuple[Step, ...]
    forward_values: dict[str, Any]  # the program's inputs: forward values by name
    on_path: tuple[bool, ...]

    @property
    def program(self) -> str:
        """The backward steps as one bpcalc program."""
        return "\n".join(f"{s.target} = {s.formula}" for s in self.steps)


def _paren(shape: Sequence[int]) -> str:
    return f"({shape_text(shape)})"


def _identifiers(graph: Graph) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each node's name in the steps and its gradient's name, none of them
    a name the program already uses."""
    taken = {n for n in graph.names if n} | set(graph.input_names)
    names = []
    for i, label in enumerate(graph.labels):
        if graph.ops[i] == CONST and graph.names[i] is None:
            names.append(graph.consts[i][1])
            continue
        ident = label.replace("%", "n").replace("@", "_")
        while ident != label and ident in taken:
            ident += "_"
        taken.add(ident)
        names.append(ident)
    grads = []
    for ident in names:
        g = "d" + ident
        while g in taken:
            g = "d_" + g[1:]
        taken.add(g)
        grads.append(g)
    return tuple(names), tuple(grads)


def _group(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.T)?|[0-9.]+|\[[^()]*\]", text) else f"({text})"


def _runs(text: str) -> bool:
    """Does bpcalc's own parser take `text` as a program?"""
    from ..lang.lower import build

    try:
        build(Source(text, "<step>"))
    except BpcalcError:
        return False
    return True


def _literal(value: Any) -> str:
    """A value as bpcalc text with every digit (repr)."""
    import numpy as np

    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return repr(float(a))
    return "[" + ", ".join(_literal(x) for x in a) + "]"


@dataclass(frozen=True)
class Flow:
    """The gradient flowing from a user back to one of its arguments."""

    formula: str | None  # bpcalc text in the user's terms; None: the language cannot say it
    shapes: str
    words: str
    undo: str | None = None  # a broadcast to undo: the sum, "{}" for the formula
    undo_words: str = ""

    def whole(self) -> str | None:
        """The formula with the broadcast undone."""
        if self.formula is None or self.undo is None:
            return self.formula
        return self.undo.replace("{}", self.formula)


def tensor_steps(result: GradResult, wrt: str | None = None) -> TensorSteps:
    """The backward pass of a tensor program as steps of a bpcalc program."""
    import numpy as np

    graph, values, adjoints = result.graph, result.values, result.adjoints
    names, grads = _identifiers(graph)
    path = on_path_from(graph, wrt)
    users = users_of(graph)
    out = graph.output
    steps: list[Step] = []
    if graph.active[out]:
        steps.append(Step(grads[out], "1", out, shape_text(()), 1.0, _("the output: gradient 1")))
    onehots: dict[int, str] = {}
    for j in range(out - 1, -1, -1):
        edges = [(u, p) for u, p in users[j] if path[u] and adjoints[u] is not None]
        if not path[j] or not edges or adjoints[j] is None:
            continue
        flows = [_contribution(result, names, grads, u, position, onehots, steps) for u, position in edges]
        value = adjoints[j]
        whole = _paren(np.shape(value))
        cannot = _("bpcalc's language cannot write this step, so these are the engine's numbers")
        if len(flows) == 1:
            flow, (u, position) = flows[0], edges[0]
            if flow.formula is None:
                steps.append(Step(grads[j], _literal(value), j, whole, value, f"{flow.words} — {cannot}",
                                  literal=True))
            elif flow.undo is None:
                steps.append(Step(grads[j], flow.formula, j, flow.shapes, value, flow.words))
            else:
                inner = flow.formula
                if inner not in (grads[u], f"-{grads[u]}"):  # a product first, then the sum: two steps
                    part = f"{grads[j]}_{names[u]}"
                    steps.append(Step(part, inner, j, flow.shapes, _local(result, u, position),
                                      _("{why}, before the broadcast is undone").format(why=flow.words),
                                      final=False))
                    inner = part
                steps.append(Step(grads[j], flow.undo.replace("{}", inner), j,
                                  f"{_paren(np.shape(values[u]))} → {whole}", value, flow.undo_words))
            continue
        uses = [names[u] for u, _ in edges]
        feeders = [_("{name} (both arguments)").format(name=f) if uses.count(f) > 1 else f
                   for f in dict.fromkeys(uses)]
        if len(feeders) > 1:
            how = _("{name} feeds {users}: its gradient is the sum of their contributions").format(
                name=names[j], users=and_list(feeders))
        else:
            how = _("{name} is both arguments of {user}: its gradient is the sum of both contributions").format(
                name=names[j], user=uses[0])
        note = _("; ").join([how, *(f.undo_words for f in flows if f.undo_words)])
        parts = [f.whole() for f in flows]
        if any(p is None for p in parts):
            steps.append(Step(grads[j], _literal(value), j, whole, value, f"{note} — {cannot}", literal=True))
        else:
            steps.append(Step(grads[j], " + ".join(_group(p) for p in parts if p), j, whole, value, note))
    used = " ".join(s.formula for s in steps)
    forward = {
        names[i]: values[i] for i in range(len(graph))
        if (graph.ops[i] != CONST or graph.names[i] is not None)
        and re.search(rf"(?<![A-Za-z0-9_]){re.escape(names[i])}(?![A-Za-z0-9_])", used)
    }
    return TensorSteps(names, grads, tuple(steps), forward, tuple(path))


def _local(result: GradResult, u: int, position: int) -> Any:
    """The contribution through entrywise user u to its argument at
    `position`, before any broadcast is undone (upstream * local partial,
    entry by entry; a zero on either side passes nothing back)."""
    import numpy as np

    graph = result.graph
    args = graph.args(u)
    p = OPS[graph.ops[u]].np_partials(np, *[result.values[j] for j in args], result.values[u])[position]
    g = result.adjoints[u]
    with np.errstate(all="ignore"):
        r = g * p
        if not np.isfinite(r).all():
            r = np.where((g == 0) | (np.asarray(p) == 0), 0.0, r)
    return np.broadcast_to(r, np.shape(result.values[u]))


def edge_flow(result: GradResult, u: int, position: int) -> Any:
    """The gradient flowing from user u back to its argument at `position`,
    in the argument's shape (None for class-index data): what the engine adds
    into that argument's gradient along this edge."""
    import numpy as np

    from ..tensor import data_inputs, unbroadcast

    graph, values = result.graph, result.values
    args = graph.args(u)
    j = args[position]
    if result.adjoints[u] is None or j in data_inputs(graph, values):
        return None
    op = graph.ops[u]
    if op in TENSOR_OPS:
        with np.errstate(all="ignore"):
            flow = TENSOR_OPS[op].vjp(np, result.adjoints[u], *[values[k] for k in args], values[u],
                                      **dict(graph.params.get(u, ())))[position]
        if flow is None:
            return None
    else:
        flow = _local(result, u, position)
    return unbroadcast(np.asarray(flow, dtype=float), np.shape(values[j]))


def _contribution(result: GradResult, names: Sequence[str], grads: Sequence[str], u: int, position: int,
                  onehots: dict[int, str], steps: list[Step]) -> Flow:
    """The gradient flowing from user u back to its argument at `position`."""
    import numpy as np

    graph, values = result.graph, result.values
    op = graph.ops[u]
    args = graph.args(u)
    argnames = [names[j] for j in args]
    shapes = [tuple(np.shape(values[j])) for j in args]
    g = grads[u]
    gshape = tuple(np.shape(values[u]))
    if op == "cross_entropy":
        return _cross_entropy(result, names, grads, u, position, onehots, steps)
    if op in TENSOR_OPS:
        top = TENSOR_OPS[op]
        params = dict(graph.params.get(u, ()))
        formula = None
        if top.program is not None:
            formula = top.program(argnames, g, names[u], shapes, **params)[position]
        rule = _(top.rule[min(position, len(top.rule) - 1)])  # some are words
        filled = rule.replace("{a}", argnames[0]).replace("{out}", names[u]).replace("d" + names[u], g)
        if len(argnames) > 1:
            filled = filled.replace("{b}", argnames[1])
        words = _("{op}'s rule {rule}").format(op=op, rule=filled)
        if formula is not None and formula.startswith("outer("):
            words += _(": a column times a row, the outer product")
        if formula is not None and " + 0 * " in formula:
            words += _(" (adding 0 * {name} gives it {name}'s shape)").format(name=argnames[0])
        return Flow(formula, _tensor_shapes(op, position, shapes, gshape), words)
    spec = OPS[op]
    words = _("through {node} = {formula}, entry by entry: upstream × {local}").format(
        node=names[u], formula=spec.text(*argnames), local=spec.formula(position, argnames))
    if len(args) > spec.arity:  # max(a, b, c): the rule in words, the engine's numbers
        return Flow(None, _paren(gshape), words)
    templates = spec.rule_program or spec.rule
    local = templates[position].format(**dict(zip("ab", [_group(a) for a in argnames])))
    if local == "1":
        inner = g
    elif local == "-1":
        inner = f"-{g}"
    elif not _runs(local):
        return Flow(None, _paren(gshape), words)
    else:
        inner = f"{g} * {_group(local)}"
    mine = shapes[position]
    if mine == gshape:
        return Flow(inner, f"{_paren(gshape)} → {_paren(mine)}", words)
    undo, text = _unbroadcast(names[args[position]], grads[args[position]], g, names[u], mine, gshape, op)
    return Flow(inner if undo is not None else None, _paren(gshape), words, undo, text)


_VERBS = {"add": N_("added to"), "sub": N_("subtracted from"), "mul": N_("multiplied into"),
          "div": N_("divided into")}
_USED_IN = N_("used in")


def _unbroadcast(name: str, grad: str, g: str, user: str, mine: tuple, full: tuple, op: str) -> tuple[str | None, str]:
    """How a broadcast argument's gradient is summed back: (formula with
    \\1 for the contribution, the words)."""
    words = dict(name=name, verb=_(_VERBS.get(op, _USED_IN)), user=user, grad=grad, g=g)
    if not mine:
        return "sum({})", _("{name} is one number {verb} every entry of {user} ({shape}), so {grad} sums the "
                            "contributions over all {n} entries").format(shape=shape_text(full), n=math.prod(full),
                                                                         **words)
    if len(full) == 2 and mine == full[1:]:
        return "sum({}, axis=0)", _("{name} was {verb} each of the {n} rows of {user}, so {grad} sums {g} over "
                                    "the rows").format(n=full[0], **words)
    if len(full) == 2 and mine == (1, full[1]):
        return "outer([1], sum({}, axis=0))", _("{name} ({shape}) was {verb} each of the {n} rows of {user}, so "
                                                "{grad} sums {g} over the rows").format(
            shape=shape_text(mine), n=full[0], **words)
    if len(full) == 2 and mine == (full[0], 1):
        return "outer(sum({}, axis=1), [1])", _("{name} ({shape}) was {verb} each of the {n} columns of {user}, "
                                                "so {grad} sums {g} over the columns").format(
            shape=shape_text(mine), n=full[1], **words)
    return None, _("{name} {shape} was broadcast to {full}: {grad} sums over the broadcast axes").format(
        shape=_paren(mine), full=_paren(full), **words)


def _tensor_shapes(op: str, position: int, shapes: Sequence[tuple], gshape: tuple) -> str:
    """The shapes a step multiplies: (3×2)(2×4) → (3×4)."""
    mine = shapes[position]
    if op == "matmul" and len(shapes[0]) <= 2 and len(shapes[1]) <= 2:
        a, b = shapes
        if len(a) == 2 and len(b) == 2:
            pair = (gshape, b[::-1]) if position == 0 else (a[::-1], gshape)
        elif len(a) == 1 and len(b) == 2:  # g @ b.T, outer(a, g)
            pair = (gshape, b[::-1]) if position == 0 else (a, gshape)
        elif len(a) == 2:  # outer(g, b), a.T @ g
            pair = (gshape, b) if position == 0 else (a[::-1], gshape)
        else:  # g * b, g * a
            pair = (gshape, b) if position == 0 else (gshape, a)
        return f"{_paren(pair[0])}{_paren(pair[1])} → {_paren(mine)}"
    return f"{_paren(gshape)} → {_paren(mine)}"


def _cross_entropy(result: GradResult, names: Sequence[str], grads: Sequence[str], u: int, position: int,
                   onehots: dict[int, str], steps: list[Step]) -> Flow:
    import numpy as np

    graph, values = result.graph, result.values
    a, t = graph.args(u)
    x, target = values[a], values[t]
    n = x.shape[0] if x.ndim == 2 else 1
    per = f"/{n}" if n != 1 else ""
    shapes = [tuple(x.shape), tuple(target.shape)]
    g = grads[u]
    tname = names[t]
    idx = ce_indices(np, x, target)
    if idx is not None:
        if t not in onehots:
            onehot = np.zeros_like(x)
            if x.ndim == 1:
                onehot[int(idx)] = 1.0
            else:
                onehot[np.arange(x.shape[0]), idx] = 1.0
            label = f"onehot_{names[t]}"
            onehots[t] = label
            steps.append(Step(label, written_out(onehot, 17), t, _paren(x.shape), onehot,
                              _("the class indices {name} as one-hot rows (data, no gradient)").format(name=names[t]),
                              final=False))
        tname = onehots[t]
    elif not np.allclose(np.sum(target, axis=-1), 1.0):
        return Flow(None, _paren(x.shape), _("cross_entropy with targets whose rows do not sum to 1"))
    formula = TENSOR_OPS["cross_entropy"].program([names[a], tname], g, names[u], shapes)[position]
    if position == 0:
        words = ngettext("cross_entropy = mean over the {n} row of −Σ {t} · log_softmax({x}); log_softmax's rule "
                         "d = dℓ − softmax({x}) · Σdℓ with dℓ = −{g} · {t}{per} comes to {g} · (p − {t}){per}, "
                         "p = softmax({x}), as each row of {t} sums to 1",
                         "cross_entropy = mean over the {n} rows of −Σ {t} · log_softmax({x}); log_softmax's rule "
                         "d = dℓ − softmax({x}) · Σdℓ with dℓ = −{g} · {t}{per} comes to {g} · (p − {t}){per}, "
                         "p = softmax({x}), as each row of {t} sums to 1", n).format(
            n=n, t=tname, x=names[a], g=g, per=per)
    else:
        words = _("the probability target's gradient: −{g} · log_softmax({x}){per}").format(g=g, x=names[a], per=per)
    return Flow(formula, f"{_paren(())} → {_paren(shapes[position])}", words)


# --- the explanation -------------------------------------------------------------


def _value(v: Any, notation: Notation) -> str:
    import numpy as np

    a = np.asarray(v, dtype=float)
    if a.size > SMALL:
        summary = tensor_fmt(a, notation.digits)
        return f"\\text{{{latex_text(summary)}}}" if notation.latex else summary
    if notation.latex:
        return _bmatrix(a, notation)
    return written_out(a, notation.digits)


#: A matrix wider than this (in characters, about) is an amsmath smallmatrix,
#: so that it fits an article page's line (LaTeX does not break a matrix).
MATRIX_WIDTH = 36


#: A small vector or matrix is written exactly when that takes at most this
#: many characters (text or LaTeX), else as decimals.
EXACT_MATRIX_WIDTH = 120


def _exact_value(result: GradResult, i: int, gradient: bool, notation: Notation) -> str:
    """Node i's value (or gradient) as `_value` writes it; in exact mode, a
    small one's exact entries first: [1/10, 3] ≈ [0.1, 3]."""
    import numpy as np

    v = (result.adjoints if gradient else result.values)[i]
    decimal = _value(v, notation)
    exact = result.exact
    if exact is None or not exact.ok or np.size(v) > SMALL:
        return decimal
    texts = (exact.adjoints if gradient else exact.values)[i]
    if not all_kept(texts):
        return decimal
    text = (exact.latex_adjoints if gradient else exact.latex_values)[i] if notation.latex else exact_written(texts)
    if text is None or len(text) > EXACT_MATRIX_WIDTH:
        return decimal
    return exact_and_decimal(text, decimal, " \\approx " if notation.latex else " ≈ ")


def _bmatrix(a: Any, notation: Notation) -> str:
    if a.ndim == 0:
        return notation.number(float(a))
    if a.ndim == 1:
        return "\\begin{bmatrix}" + " & ".join(notation.number(float(x)) for x in a) + "\\end{bmatrix}"
    if a.ndim == 2:
        cells = [[notation.number(float(x)) for x in row] for row in a]
        rows = [" & ".join(row) for row in cells]
        if sum(max(len(row[k]) for row in cells) + 1.5 for k in range(a.shape[1])) > MATRIX_WIDTH:
            return "\\left[\\begin{smallmatrix}" + " \\\\ ".join(rows) + "\\end{smallmatrix}\\right]"
        return "\\begin{bmatrix}" + " \\\\ ".join(rows) + "\\end{bmatrix}"
    return tensor_fmt(a, notation.digits)


_TOKEN = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<call>\()?|(?P<t>\.T)|(?P<num>[0-9.]+(?:e-?[0-9]+)?)|(?P<op>.)")


def math_text(formula: str, notation: Notation) -> str:
    """A step's bpcalc text in the notation: as typed, or LaTeX (X^\\top,
    \\odot for the entrywise product, \\operatorname for functions)."""
    if not notation.latex:
        return formula
    out = []
    for m in _TOKEN.finditer(formula):
        if m.group("name"):
            word = m.group("name")
            if m.group("call"):
                out.append("\\operatorname{" + word.replace("_", "\\_") + "}(")
            elif word == "axis":
                out.append("\\mathrm{axis}")
            else:
                out.append(latex_name(word))
        elif m.group("t"):
            out.append("^{\\top}")
        elif m.group("num"):
            out.append(m.group("num"))
        else:
            ch = m.group("op")
            out.append({"@": " ", "*": " \\odot ", "[": "[", "]": "]", " ": " "}.get(ch, ch))
    return _braced_powers(re.sub(r"\s+", " ", "".join(out)).strip())


def _braced_powers(text: str) -> str:
    """x^(2 - 1) -> x^{(2 - 1)}: a LaTeX exponent is one group."""
    out, k = [], 0
    while k < len(text):
        if text.startswith("^(", k):
            depth, end = 0, k + 1
            for end in range(k + 1, len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            out.append("^{" + text[k + 1:end + 1] + "}")
            k = end + 1
        else:
            out.append(text[k])
            k += 1
    return "".join(out)


def explanation(result: GradResult, notation: Notation, max_steps: int = DEFAULT_MAX_STEPS,
                wrt: str | None = None) -> Explanation:
    """The forward and backward pass of a tensor program, written out."""
    import numpy as np

    graph, values = result.graph, result.values
    shown = forward_nodes(graph)
    if max_steps and len(shown) > max_steps:
        raise BpcalcError("limit", too_many_steps(len(shown), max_steps))
    steps = tensor_steps(result, wrt)
    names = steps.names
    forward = []
    for i in shown:
        if wrt is not None and not shown_forward(graph, steps.on_path, i):
            continue
        chain = [notation.name(names[i])]
        if graph.ops[i] not in (INPUT, CONST):
            chain.append(math_text(graph.snippet(i, 200), notation) if notation.latex else graph.snippet(i, 200))
        chain.append(_exact_value(result, i, False, notation))
        notes = [shape_text(np.shape(values[i]))]
        if graph.ops[i] == INPUT:
            notes.append(_("an input"))
        if graph.labels[i] != names[i] and graph.ops[i] != CONST:
            notes.append(_("{label} in the grad table").format(label=graph.labels[i]))
        if i == graph.output:
            notes.append(_("the output"))
        forward.append(Line(tuple(chain), _(", ").join(notes)))
    backward = [line for s in steps.steps for line in step_lines(s, notation)]
    dead = [graph.labels[i] for i in range(len(graph)) if graph.active[i] and not graph.reaches_output()[i]]
    if dead:
        backward.append(Line((), _("not on any path to the output, so their gradient is 0: {names}").format(
            names=_(", ").join(dead))))
    out = result.output_label
    grad_lines = []
    for name, v in result.gradient.items():
        if wrt is not None and name != wrt:
            continue
        shown_v = (_("none: class indices are data, not a variable") if v is None
                   else _exact_value(result, graph.input_id(name), True, notation))
        grad_lines.append(Line((notation.partial(out, name), shown_v),
                               shape_text(np.shape(v)) if v is not None else ""))
    program = [Line((), f"{s.target} = {s.formula}" if not s.literal
                    else _("{name} = (the engine's numbers)").format(name=s.target))
               for s in steps.steps]
    if steps.steps:
        program.append(Line((), _agreement(result, steps)))
    title = _("Backward pass: each step the op's rule with this program's names, shapes and numbers")
    if wrt is not None:
        title += _(" (only the steps on the paths from {name})").format(name=wrt)
    sections = (
        Section(_("Forward pass: each node's shape and value, inputs first"), tuple(forward)),
        Section(title, tuple(backward) or (Line((), _("the output does not depend on any input")),)),
        Section(_("Gradient"), tuple(grad_lines) or (Line((), _("the program has no inputs")),)),
    ) + ((Section(_("The backward steps as a bpcalc program (inputs: the forward values)"), tuple(program)),)
          if program else ())
    notes = tuple(w.message for w in result.warnings)
    return Explanation(graph.source.text.strip(), graph.source.origin, program_title(graph.source),
                       point_text(result, notation.digits), sections, notes)


def forward_nodes(graph: Graph) -> list[int]:
    """The nodes the forward pass writes out, in order (constants only when named)."""
    return [i for i in range(len(graph)) if graph.ops[i] != CONST or graph.names[i] is not None]


def step_lines(s: Step, notation: Notation) -> list[Line]:
    """One backward step written out: the step and the shapes it multiplies;
    then why, in words; then its numbers."""
    target = math_text(s.target, notation)
    if s.literal or s.formula == "1" or s.formula.startswith("["):
        return [Line((target, _value(s.value, notation)), s.note)]
    lines = [Line((target, math_text(s.formula, notation)), s.shapes)]
    if s.note:
        lines.append(Line((), s.note, level=1))
    lines.append(Line((target, _value(s.value, notation)), level=1))
    return lines


def _agreement(result: GradResult, steps: TensorSteps) -> str:
    """What running the steps through bpcalc showed, in one line."""
    try:
        wrong = steps_agree(result, steps)
    except BpcalcError as err:  # a step bpcalc refuses at this point (a division by zero)
        return _("not run through bpcalc: {reason}").format(reason=err.message)
    if wrong:
        return _("✗ run through bpcalc, these steps differ from the engine's gradients: {names}").format(
            names=", ".join(wrong))
    literal = [s.target for s in steps.steps if s.literal]
    ran = len(steps.steps) - len(literal)
    note = _(" ({names}: the engine's numbers, not a formula)").format(names=", ".join(literal)) if literal else ""
    return ngettext("✓ run through bpcalc, the {n} formula step gives the engine's gradients",
                    "✓ run through bpcalc, the {n} formula steps give the engine's gradients", ran).format(n=ran) + note


def run_steps(steps: TensorSteps) -> dict[str, Any]:
    """Run the backward steps through bpcalc (its parser and tensor engine,
    inputs the forward values): every step's value by its name."""
    from ..lang.lower import build
    from ..limits import DEFAULT_LIMITS
    from ..tensor import forward, shapes

    graph, _warnings = build(Source(steps.program, "<backward steps>"))
    point = {name: steps.forward_values[name] for name in graph.input_names}
    shapes(graph, point, DEFAULT_LIMITS.max_entries, need_scalar=False)
    values, _warnings = forward(graph, point)
    ran = {name: values[i] for i, name in enumerate(graph.names) if name is not None}
    for s in steps.steps:  # `dn3 = dn4` names the same node: no node of its own
        if s.target not in ran and s.formula in ran:
            ran[s.target] = ran[s.formula]
    return ran


def steps_agree(result: GradResult, steps: TensorSteps) -> list[str]:
    """The steps whose value, run through bpcalc, differs from the engine's
    (rtol 1e-9, atol 1e-12); [] when all agree."""
    import numpy as np

    ran = run_steps(steps)
    wrong = []
    for s in steps.steps:
        got = ran.get(s.target)
        if got is None or np.shape(got) != np.shape(s.value) or not np.allclose(
                got, s.value, rtol=1e-9, atol=1e-12, equal_nan=True):
            wrong.append(s.target)
    return wrong


# --- one entry of a gradient (what `bpcalc check` shows under a wrong entry) ----


@dataclass(frozen=True)
class EntryTerm:
    """One contribution to one entry of a node's gradient: through user
    `user`, upstream × local for that entry (a sum of such products for a
    matrix product or an undone broadcast)."""

    user: int
    formula: str  # how it is made, over names: "dY[0, 1] · X[0, 1]", "Σ_k dY[0, k] · W[1, k]"
    numbers: str  # the same with numbers
    contribution: float


def entry_terms(result: GradResult, node: int, index: tuple[int, ...], digits: int = 6) -> list[EntryTerm]:
    """The contributions that add up to entry `index` of d output / d `node`."""
    import numpy as np

    graph, values, adjoints = result.graph, result.values, result.adjoints
    names, grads = _identifiers(graph)
    users = users_of(graph)[node]
    terms = []
    for u, position in users:
        flow = edge_flow(result, u, position)
        if flow is None:
            continue
        c = float(np.asarray(flow)[index])
        op = graph.ops[u]
        args = graph.args(u)
        g = np.broadcast_to(adjoints[u], np.shape(values[u]))
        at = _entry_text(index)
        if op == "matmul" and all(np.ndim(values[j]) <= 2 for j in args):
            formula, numbers = _matmul_entry(values[args[0]], values[args[1]], adjoints[u], position, index,
                                             (names[args[0]], names[args[1]], grads[u]), digits)
        elif op in TENSOR_OPS:
            rule = _(TENSOR_OPS[op].rule[min(position, len(TENSOR_OPS[op].rule) - 1)])
            formula = _("{op}'s rule {rule}, entry {at}").format(
                op=op, rule=rule.format(a=names[args[0]], b=names[args[-1]], out=names[u]), at=at)
            numbers = _n(c, digits)
        elif np.shape(values[args[position]]) == np.shape(values[u]):
            p = np.broadcast_to(OPS[op].np_partials(np, *[values[k] for k in args], values[u])[position],
                                np.shape(values[u]))
            local = OPS[op].rule[position].format(**dict(zip("ab", (names[k] for k in args))))
            formula = f"{grads[u]}{at} · {_group(local)}{at}"
            numbers = f"{_n(g[index], digits)} · {_n(p[index], digits)}"
        else:
            formula = _("{g} · ∂{user}/∂{name} summed over the entries {name}{at} was broadcast to").format(
                g=grads[u], user=names[u], name=names[node], at=at)
            numbers = _n(c, digits)
        terms.append(EntryTerm(u, formula, numbers, c))
    return terms


def _matmul_entry(a: Any, b: Any, g: Any, position: int, index: tuple[int, ...], names: Sequence[str],
                  digits: int) -> tuple[str, str]:
    """One entry of dA = dC @ B.T or dB = A.T @ dC as its sum of products,
    over names and with numbers. A vector is a row on the left and a column
    on the right (NumPy's matmul), so it is read as a 1-row or 1-column matrix."""
    import numpy as np

    a_vec, b_vec = np.ndim(a) == 1, np.ndim(b) == 1
    a2 = np.reshape(a, (1, -1)) if a_vec else a
    b2 = np.reshape(b, (-1, 1)) if b_vec else b
    g2 = np.reshape(g, (a2.shape[0], b2.shape[1]))
    drop = {"a": 0 if a_vec else None, "b": 1 if b_vec else None,
            "g": tuple(k for k, gone in ((0, a_vec), (1, b_vec)) if gone)}
    if position == 0:
        i, j = (0, index[0]) if a_vec else index
        pairs = [(g2[i, k], b2[j, k]) for k in range(g2.shape[1])]
        left, right = _at(names[2], (i, "k"), drop["g"]), _at(names[1], (j, "k"), (drop["b"],))
    else:
        i, j = (index[0], 0) if b_vec else index
        pairs = [(a2[k, i], g2[k, j]) for k in range(g2.shape[0])]
        left, right = _at(names[0], ("k", i), (drop["a"],)), _at(names[2], ("k", j), drop["g"])
    total = "Σ_k " if len(pairs) > 1 else ""
    if len(pairs) == 1:
        left, right = left.replace("k", "0"), right.replace("k", "0")
    numbers = " + ".join(f"{_n(x, digits)} · {_n(y, digits)}" for x, y in pairs[:6])
    return f"{total}{left} · {right}", numbers + (" + …" if len(pairs) > 6 else "")


def _at(name: str, index: tuple, dropped: tuple) -> str:
    """name[i, k] without the axes a vector does not have."""
    kept = [str(x) for k, x in enumerate(index) if k not in dropped]
    return f"{name}[{', '.join(kept)}]" if kept else name


def _n(v: float, digits: int) -> str:
    text = fmt(float(v), digits)
    return f"({text})" if text.startswith("-") else text


def _entry_text(index: tuple[int, ...]) -> str:
    from ..tensor import entry_text

    return entry_text(index)


def entry_lines(result: GradResult, node: int, index: tuple[int, ...], notation: Notation) -> list[Line]:
    """Entry `index` of d output / d `node`, as upstream × local for that
    entry through each user, and their sum."""
    import numpy as np

    graph = result.graph
    names, grads = _identifiers(graph)
    at = _entry_text(index)
    terms = entry_terms(result, node, index, notation.digits)
    lines = [Line((f"{grads[node]}{at}",), _("{name} is {label} in the grad table").format(
        name=names[node], label=graph.labels[node]) if names[node] != graph.labels[node] else "")]
    for t in terms:
        lines.append(Line((_("from {name}").format(name=names[t.user]), t.formula, t.numbers,
                           fmt(t.contribution, notation.digits)), _("upstream × local for this entry"), level=1))
    total = np.asarray(result.adjoints[node])[index]
    if len(terms) > 1:
        lines.append(Line((f"{grads[node]}{at}", " + ".join(_n(t.contribution, notation.digits) for t in terms),
                           fmt(float(total), notation.digits)), _("the sum of the contributions"), level=1))
    return lines
