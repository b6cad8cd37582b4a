"""The human output of `bpcalc grad`: node table, gradient, check, warnings."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from ..api import GradResult
from ..errors import Source
from ..graph import op_word
from ..i18n import N_, _, ngettext
from ..verify import (
    FD_ATOL, FD_MISMATCH, FD_OK, FD_RTOL, ILL_CONDITIONED, KINK, LOCAL, LOCAL_OK, MISMATCH, OK, ROUNDING, SYMPY,
    UNCHECKED, UNDEFINED, VERIFIED,
    Check,
)
from .numbers import INLINE_ENTRIES, LONG, all_kept, exact_written, fmt, tensor_fmt, written_out
from ..ops import shape_text

if TYPE_CHECKING:
    from rich.console import Console

    from ..derivative import Formula

_MARK = {
    OK: "✓", FD_OK: N_("✓ (finite differences)"), MISMATCH: "✗", FD_MISMATCH: N_("✗ (finite differences)"),
    UNDEFINED: N_("undefined at this point"), KINK: N_("kink: convention used"),
    LOCAL_OK: N_("✓ (local partials; finite differences unavailable)"),
    UNCHECKED: N_("not checked (finite differences undefined here)"),
    ROUNDING: N_("✓ within rounding (see note)"),
    ILL_CONDITIONED: N_("⚠ ill-conditioned (see note)"),
}


def mark(status: str) -> str:
    """A row's verdict in words (the status code itself when it has none)."""
    return _(_MARK[status]) if status in _MARK else status


def shape_cell(shape: tuple[int, ...]) -> str:
    """'2×3', '3', or 'scalar' in the reader's language."""
    return shape_text(shape) if shape else _("scalar")


def point_line(result: GradResult, digits: int) -> str:
    """'at x = -2, y = 5' (the line under a title)."""
    return _("at {point}").format(point=point_text(result, digits))


def note_line(note: str) -> "Text":
    """A note under a table: 'note: …' with the prefix in bold."""
    from rich.text import Text

    return Text.assemble((_("note: "), "bold"), note)


def point_text(result: GradResult, digits: int) -> str:
    return ", ".join(f"{name} = {at.text if at.graph is not None else fmt(at.value, digits)}"
                     if isinstance(at.value, float) else at_tensor_text(name, at.value, digits)
                     for name, at in result.at.items())


def at_tensor_text(name: str, value: object, digits: int) -> str:
    """'x = [1, -2]' for a small tensor, 'W (3×3)' for a larger one."""
    if getattr(value, "size", 0) <= INLINE_ENTRIES:
        return f"{name} = {written_out(value, digits)}"
    return f"{name} ({shape_cell(getattr(value, 'shape', ()))})"


def program_title(source: Source) -> str:
    """The program itself when it is one line, else where it came from."""
    text = source.text.strip()
    return text if "\n" not in text else f"({source.origin})"


#: Longest SymPy formula shown in the check table.
MAX_FORMULA = 60


def tolerance(v: float) -> str:
    """1e-09 -> '1e-9' (how people write tolerances)."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{v:g}").replace("e+", "e")


def render_grad(result: GradResult, console: "Console", digits: int, max_rows: int,
                show: tuple[str, ...] = ()) -> None:
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    g = result.graph
    out = result.output_label
    console.print(Text.assemble(("bpcalc grad ", "bold"), program_title(g.source)))
    if result.at:
        console.print(Text(point_line(result, digits), style="dim"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column(_("node"))
    table.add_column(_("op"))
    if result.tensor:
        table.add_column(_("shape"))
    table.add_column(_("expression"), overflow="fold", max_width=60)
    justify = "left" if result.tensor else "right"  # matrices are written a row a line
    table.add_column(_("value"), justify=justify, overflow="fold", max_width=40)
    table.add_column(_("gradient"), justify=justify, overflow="fold", max_width=40)
    exact = result.exact if result.exact is not None and result.exact.ok else None
    if exact is not None:
        table.add_column(_("exact value"), overflow="fold", max_width=40)
        table.add_column(_("exact gradient"), overflow="fold", max_width=40)
    updated = result.updated
    inputs = {g.inputs[k]: name for k, name in enumerate(g.input_names)}
    if result.lr is not None:
        table.add_column(_("after step (lr={lr})").format(lr=f"{result.lr:g}"), justify=justify, overflow="fold",
                         max_width=48)
    n = len(g)
    shown = n if max_rows <= 0 or n <= max_rows else max_rows
    values, adjoints = result.values, result.adjoints
    for i in range(shown):
        style = "bold" if i == g.output else None
        if result.tensor:
            cells = [g.labels[i], op_word(g.ops[i]), shape_cell(result.shape(i)), g.snippet(i, 120),
                     tensor_fmt(values[i], digits, row_sep=",\n ", with_shape=False), gradient_cell(result, i, digits)]
        else:
            cells = [g.labels[i], op_word(g.ops[i]), g.snippet(i, 120), fmt(values[i], digits), fmt(adjoints[i], digits)]
        if exact is not None and result.tensor:
            cells += [exact_cell(exact.values[i], result.shape(i), g.labels[i]),
                      "—" if adjoints[i] is None else exact_cell(exact.adjoints[i], result.shape(i), g.labels[i])]
        elif exact is not None:
            long = _(LONG)
            cells += [exact.values[i] or long, exact.adjoints[i] or (long if adjoints[i] is not None else "—")]
        if result.lr is not None:
            step = updated.get(inputs.get(i, ""))
            cells.append("" if step is None else tensor_fmt(step, digits, row_sep=",\n ") if result.tensor
                         else fmt(step, digits))
        table.add_row(*cells, style=style)
    console.print(table)
    if shown < n:
        console.print(Text(_("… {count} more nodes not shown (--max-rows 0 shows all; --json has every node)")
                           .format(count=n - shown), style="yellow"))
    console.print()
    exact_value = exact.values[g.output] if exact is not None else None
    console.print(Text.assemble((f"{out} = ", "bold"), exact_and_decimal(exact_value, fmt(result.value, digits))))
    exact_gradient = result.exact_gradient if exact is not None else {}
    for name, v in result.gradient.items():
        if result.tensor:
            head = f"∂{out}/∂{name} = "
            shown_v = (_(DATA_NOTE) if v is None else exact_and_written(exact_gradient.get(name), v, digits, cell_len(head))
                       if getattr(v, "size", 1) <= SHOWN_GRADIENT
                       else _("{summary}  (--show {name})").format(summary=tensor_fmt(v, digits), name=name))
        else:
            shown_v = exact_and_decimal(exact_gradient.get(name), fmt(v, digits))
        console.print(Text.assemble((f"∂{out}/∂{name} = ", "bold"), shown_v))
    if result.lr is not None:
        render_updated(result, console, digits)
    for label in show:
        render_node(result, label, console, digits)
    if result.derivatives is not None:
        render_derivatives(result, console)
    if result.check is not None:
        console.print()
        render_check(result.check, out, console, digits)
    render_warnings(result, console)


def render_updated(result: GradResult, console: "Console", digits: int) -> None:
    """The section of one step of gradient descent: θ − lr·∂f/∂θ per input."""
    from rich.text import Text

    out, lr = result.output_label, result.lr
    console.print()
    console.print(Text(_("after one step of gradient descent, lr = {lr} (θ − lr·∂{out}/∂θ, "
                         "all from this gradient):").format(lr=f"{lr:g}", out=out), style="bold"))
    for name, v in result.updated.items():
        shown_v = tensor_fmt(v, digits) if result.tensor else fmt(v, digits)
        console.print(Text.assemble((f"{name} → ", "bold"), shown_v))


#: Gradients of inputs with at most this many entries are written out in full.
SHOWN_GRADIENT = 24
DATA_NOTE = N_("none: class indices are data, not a variable")


def gradient_cell(result: GradResult, i: int, digits: int) -> str:
    a = result.adjoints[i]
    if a is None and result.graph.ops[i] == "input":
        return _("— (data)")
    return tensor_fmt(a, digits, row_sep=",\n ", with_shape=False)


def render_node(result: GradResult, label: str, console: "Console", digits: int) -> None:
    """`--show NODE`: one node's whole value and gradient, a row a line."""
    from rich.cells import cell_len
    from rich.text import Text

    g = result.graph
    i = g.labels.index(label)
    out = result.output_label
    console.print()
    head = f"{label} ({shape_cell(result.shape(i))}) = "
    console.print(Text.assemble((label, "bold"), head[len(label):],
                                written_out(result.values[i], digits, row_sep=",\n" + " " * (cell_len(head) + 1))))
    grad = result.adjoints[i]
    head = f"∂{out}/∂{label} = "
    shown = _(DATA_NOTE) if grad is None and g.ops[i] == "input" else (
        _("— (does not depend on an input)") if grad is None else
        written_out(grad, digits, row_sep=",\n" + " " * (cell_len(head) + 1)))
    console.print(Text.assemble((f"∂{out}/∂{label}", "bold"), " = ", shown))
    exact = result.exact
    if exact is not None and exact.ok:
        both = [(label, exact.values[i]), (f"∂{out}/∂{label}", exact.adjoints[i])]
        for what, texts in both[: 2 if exact.adjoints[i] is not None else 1]:
            name = _("exact {name}").format(name=what)
            console.print(Text.assemble((name, "bold"), " = ",
                                        exact_written(texts, ",\n" + " " * (cell_len(name) + 4))))


def render_tensor_check(check: object, out: str, console: "Console", digits: int) -> None:
    """The finite-difference check of a tensor program: one row per input."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    by_sympy = check.method == SYMPY  # type: ignore[attr-defined]
    tolerances = tolerances_text(check.rtol, check.atol)  # type: ignore[attr-defined]
    title = (_("check against SymPy, entry by entry ({tolerances})") if by_sympy
             else _("check with central finite differences ({tolerances})")).format(tolerances=tolerances)
    rows = check.inputs  # type: ignore[attr-defined]
    console.print(title_line(title, headline(check)))  # type: ignore[arg-type]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    largest = _("largest |engine − SymPy|") if by_sympy else _("largest |engine − finite diff.|")
    for name, justify in ((_("input"), "left"), (_("shape"), "left"), (_("checked"), "left"),
                          (largest, "right"), (_("verdict"), "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in rows:
        how = (_("{count} random directions").format(count=c.directions) if c.directions and not by_sympy
               else _("every entry"))
        if c.unjudged:
            how = _("{checked} ({count} not judged)").format(checked=how, count=c.unjudged)
        error = f"{c.error:.2g}"
        if c.worst:
            error = _("{error} at {index}").format(error=error, index=list(c.worst))
        style = "red" if not c.ok else ("green" if c.status in (OK, FD_OK) else "yellow")
        table.add_row(c.name, shape_cell(c.shape), how, error, Text(mark(c.status), style=style))
    console.print(table)
    for note in check.notes:  # type: ignore[attr-defined]
        console.print(note_line(note))


def tolerances_text(rtol: float, atol: float) -> str:
    """'rtol 1e-9, atol 1e-12' (the same in every language)."""
    return f"rtol {tolerance(rtol)}, atol {tolerance(atol)}"


def title_line(title: str, verdict: "Text") -> "Text":
    """'check against SymPy (…): ✓ all agree', the title in bold."""
    from rich.text import Text

    return Text.assemble((_("{title}: ").format(title=title), "bold"), verdict)


def exact_cell(texts: object, shape: tuple[int, ...], label: str) -> str:
    """A table cell of exact mode in a tensor program: the entries written
    out when there are few, else where to see them."""
    if math.prod(shape) <= INLINE_ENTRIES:
        return exact_written(texts, row_sep=",\n ")
    return f"(--show {label})"


def exact_and_written(exact: object, v: object, digits: int, indent: int) -> str:
    """A vector or matrix written out a row a line after a head `indent`
    characters wide: exact entries then '≈' the decimals, in exact mode (just
    the decimals when there are no exact entries, or they read the same)."""
    if not getattr(v, "ndim", 0):
        return exact_and_decimal(exact, fmt(float(v), digits))  # type: ignore[arg-type]
    decimal = written_out(v, digits, row_sep=",\n" + " " * (indent + 1))
    if exact is None or not all_kept(exact):
        return decimal
    shown = exact_written(exact, row_sep=",\n" + " " * (indent + 1))
    if shown == decimal:
        return shown
    return shown + "\n" + " " * (indent - 2) + "≈ " + decimal


def exact_and_decimal(exact: str | None, decimal: str, approx: str = " ≈ ") -> str:
    """'11/5 ≈ 2.2' (or just the decimal when there is no exact form, or
    when the two read the same)."""
    if exact is None or exact == decimal:
        return decimal
    return f"{exact}{approx}{decimal}"


def render_derivatives(result: GradResult, console: "Console") -> None:
    """d output / d input as formulas, text and LaTeX (`--derivative`)."""
    from rich.text import Text

    found = result.derivatives
    if found is None:
        return
    out = result.output_label
    console.print()
    how = _("simplified by SymPy") if found.simplified else _("as SymPy differentiates it, not simplified")
    if result.tensor:
        how = derivative_forms(found.formulas, how) + ("" if found.ok else _("; not every input has one"))
    console.print(Text(_("derivatives ({how}):").format(how=how) if found.formulas else _("derivatives: none"),
                       style="bold"))
    if found.note:
        console.print(Text(f"  {found.note}", style="yellow"))
    from ..symbolic import latex_name

    for latex in (False, True):
        if latex and found.formulas:
            console.print(Text("LaTeX:", style="bold"))
        for f in found.formulas:  # one line each (soft_wrap), so they can be copied
            for bottom, formula in formula_lines(f, latex, bool(getattr(result.at[f.name].value, "ndim", 0))):
                shown = f"\\frac{{\\partial {latex_name(out)}}}{{\\partial {bottom}}}" if latex else f"∂{out}/∂{bottom}"
                console.print(Text(f"  {shown} = {formula}"), soft_wrap=True)


def derivative_forms(formulas: tuple, simplified: str) -> str:
    """How the formulas of a tensor program are written, for the heading."""
    from ..derivative_tensor import MATRIX

    forms = {f.how for f in formulas}
    if forms <= {MATRIX}:
        return _("matrix notation, checked against the gradient at this point")
    if MATRIX in forms:
        return _("matrix notation where the rules compose, checked at this point; else entry by entry, "
                 "{simplified}").format(simplified=simplified)
    return _("entry by entry, {simplified}").format(simplified=simplified)


def formula_lines(f: "Formula", latex: bool, tensor: bool) -> list[tuple[str, str]]:
    """(what is differentiated by, formula): one for a formula, one per entry
    for an entrywise one; a vector or matrix (`tensor`) in bold in LaTeX."""
    from ..derivative_tensor import ENTRIES, entry_lines, latex_tensor_name

    if f.how == ENTRIES:
        return entry_lines(f, latex)
    if not latex:
        return [(f.name, f.text)]
    return [(latex_tensor_name(f.name, tensor), f.latex)]


def render_check(check: Check, out: str, console: "Console", digits: int) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if getattr(check, "tensor", False):  # vectors and matrices: one row per input
        render_tensor_check(check, out, console, digits)
        return

    tolerances = tolerances_text(check.rtol, check.atol)
    fd = tolerances_text(FD_RTOL, FD_ATOL)
    if check.method == SYMPY:
        title = _("check against SymPy ({tolerances})").format(tolerances=tolerances)
    elif check.method == LOCAL:
        title = _("local check: each operation against SymPy ({tolerances}), "
                  "the sum by central finite differences ({fd_tolerances})").format(
                      tolerances=tolerances, fd_tolerances=fd)
    else:
        title = _("check with central finite differences ({tolerances})").format(tolerances=fd)
    console.print(title_line(title, headline(check)))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column(_("input"))
    if check.method == SYMPY:
        table.add_column(_("∂{out}/∂input (SymPy)").format(out=out), overflow="fold", max_width=60)
        table.add_column(_("SymPy value"), justify="right")
    table.add_column(_("engine"), justify="right")
    table.add_column(_("finite diff."), justify="right")
    table.add_column(_("verdict"))
    shortened = False
    for c in check.inputs:
        cautious = c.status in (UNDEFINED, KINK, ROUNDING, ILL_CONDITIONED)
        style = "red" if not c.ok else ("yellow" if cautious else "green")
        cells = [c.name]
        if check.method == SYMPY:
            formula = c.derivative or ""
            if len(formula) > MAX_FORMULA:
                formula = formula[: MAX_FORMULA - 1] + "…"
                shortened = True
            cells += [formula, fmt(c.symbolic, digits) if c.symbolic is not None else _("undefined")]
        cells += [fmt(c.engine, digits), fmt(c.fd, digits), Text(mark(c.status), style=style)]
        table.add_row(*cells)
    console.print(table)
    if shortened:
        console.print(Text(_("(formulas cut at {count} characters: --derivative prints them simplified, "
                             "--json in full)").format(count=MAX_FORMULA), style="dim"))
    for note in check.notes:
        console.print(note_line(note))


_UNVERIFIED = {KINK: N_("{count} at a kink (convention used)"), UNDEFINED: N_("{count} undefined at this point"),
               UNCHECKED: N_("{count} not checked")}


def headline(check: Check) -> "Text":
    """The check's verdict in one line, saying what its rows say: ✓ only for
    the gradients it confirmed."""
    from rich.text import Text

    if not check.ok:
        return Text(_("✗ MISMATCH"), style="bold red")
    if check.ill_conditioned:
        return Text(_("⚠ the engine's rules agree, but rounding makes a gradient inaccurate here"), style="yellow")
    if check.verified:
        return Text(_("✓ all agree"), style="green")
    statuses = [c.status for c in check.inputs]
    agree = sum(s in VERIFIED for s in statuses)
    parts = [ngettext("✓ {count} agrees", "✓ {count} agree", agree).format(count=agree)] if agree else [
        _("no gradient verified")]
    parts += [_(what).format(count=statuses.count(s)) for s, what in _UNVERIFIED.items() if s in statuses]
    # TRANSLATORS: between the parts of the check's verdict ("✓ 1 agrees; 1 at a kink")
    return Text(_("; ").join(parts), style="yellow")


def render_warnings(result: GradResult, console: "Console") -> None:
    from rich.text import Text

    if result.warnings:
        console.print()
        for w in result.warnings:
            console.print(Text.assemble((_("warning: "), "bold yellow"), w.message))
