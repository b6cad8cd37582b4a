"""`bpcalc ops`: the table of primitives, as people and scripts read it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..i18n import N_, _
from ..ops import BINARY, FUNCTIONS, OPS, REDUCING_FORMS, TENSOR_OPS, Op, TensorOp

if TYPE_CHECKING:
    from rich.console import Console

_ARGS = ("a", "b")


def spelling(op: Op) -> str:
    """How a user writes the op: 'a + b', 'exp(a)', 'a ^ b, a ** b, pow(a, b)'."""
    forms = []
    if op.infix is not None:
        symbols = [s for s, name in BINARY.items() if name == op.name] if op.arity == 2 else [op.infix]
        for s in symbols:
            forms.append(f"{s}a" if op.arity == 1 else f"a {s} b")
    for fname, f in FUNCTIONS.items():
        if f is op:
            if op.defaults:  # leaky_relu(a) as well as leaky_relu(a, b)
                forms.append(f"{fname}({', '.join(_ARGS[: op.min_args])})")
            more = ", …" if op.variadic is not None else ""
            forms.append(f"{fname}({', '.join(_ARGS[: op.arity])}{more})")
    return ", ".join(forms)


def defaults_text(op: Op) -> str:
    """'b = 0.01 when left out', or ''."""
    left_out = _ARGS[op.min_args : op.arity]
    return ", ".join(_("{name} = {value} when left out").format(name=arg, value=f"{value:g}")
                     for arg, value in zip(left_out, op.defaults))


def derivative_rules(op: Op, say: Callable[[str], str] = str) -> list[str]:
    """'∂/∂a = …' per argument; `say` translates the words (`_` for people;
    the JSON document stays English)."""
    names = dict(zip(("a", "b"), _ARGS))
    rules = [f"∂/∂{arg} = {rule.format(**names)}" for arg, rule in zip(_ARGS, op.rule)]
    if op.variadic is not None:
        rules.append(say(N_("with more arguments: {rule}")).format(
            rule=f"∂/∂x = {op.variadic[0].format(x='x', args='a, b, …')}"))
    return rules


def tensor_spelling(op: TensorOp) -> str:
    """'A @ B', 'A.T, transpose(A)', 'sum(A), sum(A, axis=k)', 'max(A), max(A, axis=k)'."""
    args = ("A", "B")[: op.arity]
    forms = []
    if op.infix == "@":
        forms.append("A @ B")
    elif op.postfix:
        forms.append(f"A{op.infix}")
    names = [n for n, f in REDUCING_FORMS.items() if f == op.name] or [op.name]
    for fname in names:
        forms.append(f"{fname}({', '.join(args)})" if op.infix != "@" else "")
        for key, _default in op.params:
            forms.append(f"{fname}({', '.join(args)}, {key}=k)")
    return ", ".join(f for f in forms if f)


def vjp_rules(op: TensorOp, say: Callable[[str], str] = str) -> list[str]:
    """The vector-Jacobian products in bpcalc's notation: dA = dC @ B.T
    (`say` translates those in words)."""
    return [say(rule).format(a="A", b="B", out="C") for rule in op.rule]


def ops_document() -> dict[str, Any]:
    return {
        "schema": "bpcalc.ops/1",
        "ops": [
            {
                "name": op.name,
                "arity": op.arity,
                "min_args": op.min_args,
                "variadic": op.variadic is not None,
                "defaults": dict(zip(_ARGS[op.min_args : op.arity], op.defaults)),
                "syntax": spelling(op),
                "description": op.doc,
                "derivatives": derivative_rules(op),
                "kinks": op.kink_doc or None,
                "aliases": list(op.aliases),
            }
            for op in OPS.values()
        ],
        "tensor_ops": [
            {
                "name": op.name,
                "arity": op.arity,
                "syntax": tensor_spelling(op),
                "description": op.doc,
                "gradients": vjp_rules(op),
                "keywords": {key: default for key, default in op.params},
                "ties": op.kink_doc or None,
            }
            for op in TENSOR_OPS.values()
        ],
        "constants": ["pi", "e"],
    }


def render_ops(console: "Console") -> None:
    from rich.table import Table

    from rich.markup import escape

    table = Table(header_style="bold", show_lines=False)
    table.add_column(_("op"))
    table.add_column(_("write it as"), overflow="fold")
    table.add_column(_("local derivatives"), overflow="fold")
    table.add_column(_("at non-differentiable points"), overflow="fold")
    for op in OPS.values():
        written = spelling(op) + (_(" ({defaults})").format(defaults=defaults_text(op)) if op.defaults else "")
        table.add_row(op.name, written, "\n".join(derivative_rules(op, _)), _(op.kink_doc) if op.kink_doc else "—")
    console.print(table)
    console.print(escape(_("Constants: pi, e (a program may rebind them). Conventions follow PyTorch; "
                           "bpcalc warns whenever a point hits one.")))
    console.print()
    tensors = Table(header_style="bold", show_lines=False,
                    title=_("Vectors and matrices: every op above applies entry by entry (with NumPy broadcasting); "
                            "these exist only for tensors. C is the result, dC its gradient."))
    tensors.add_column(_("op"))
    tensors.add_column(_("write it as"), overflow="fold")
    tensors.add_column(_("gradients"), overflow="fold")
    tensors.add_column(_("what it is"), overflow="fold")
    for op in TENSOR_OPS.values():
        tensors.add_row(op.name, tensor_spelling(op), "\n".join(vjp_rules(op, _)), _(op.doc))
    console.print(tensors)
