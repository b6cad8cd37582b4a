"""The derivative itself: d output / d input as a formula, text and LaTeX.

The output's SymPy expression is built from the Graph (`symbolic.to_sympy`,
never from text) and differentiated with respect to each input; then SymPy's
`simplify` tidies each formula. All of it runs in a budgeted child process
(`budget.run_with_budget`); when simplification runs out of budget, a second
child, with the same budget, gives the unsimplified formulas and the note says
so; when that runs out too, there is no formula and the result says why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .budget import Outcome, run_with_budget
from .graph import Graph
from .i18n import _
from .limits import DEFAULT_BUDGET
from .symbolic import import_sympy
from .verify import MAX_DERIVATIVE_TEXT


@dataclass(frozen=True)
class Formula:
    """d output / d `name`, as SymPy prints it and in LaTeX.

    For a vector or matrix input of a tensor program (`derivative_tensor`)
    `how` says which form it has: "matrix" (`text` and `latex` in matrix
    notation: (T1·x1 − y)·x1ᵀ) or "entries" (`entries` / `entries_latex`:
    nested lists of each entry's formula, and `text` / `latex` empty)."""

    name: str
    text: str
    latex: str
    how: str = ""
    entries: Any = None
    entries_latex: Any = None


@dataclass(frozen=True)
class Derivatives:
    ok: bool  # False: no formulas (SymPy ran out of budget or failed)
    simplified: bool
    note: str  # why not ok / not simplified; "" when all went well
    formulas: tuple[Formula, ...]
    seconds: float


def derivatives(graph: Graph, wrt: Sequence[str], budget: float = DEFAULT_BUDGET) -> Derivatives:
    """d output / d input for each input in `wrt`, simplified within `budget`
    seconds; if that runs out, unsimplified (within another `budget`)."""
    return with_fallback(_formulas, (graph, tuple(wrt)), budget)


def with_fallback(formulas: Callable[..., tuple[Formula, ...]], args: tuple, budget: float) -> Derivatives:
    """`formulas(*args, simplify)` in a budgeted child, simplified; if that
    runs out, unsimplified within another `budget`; else none, saying why."""
    import_sympy()  # here, once, so the forked children have it (without the collector's scans)

    start = time.monotonic()
    simple = run_with_budget(formulas, (*args, True), budget)
    if simple.status == "ok":
        return Derivatives(True, True, "", simple.value, time.monotonic() - start)
    raw = run_with_budget(formulas, (*args, False), budget)
    if raw.status == "ok":
        note = _("not simplified: {why}").format(why=_why(simple, budget))
        return Derivatives(True, False, note, raw.value, time.monotonic() - start)
    return Derivatives(False, False, _("no formula: {why}").format(why=_why(raw, budget)), (),
                       time.monotonic() - start)


def _why(outcome: Outcome, budget: float) -> str:
    if outcome.status == "timeout":
        return _("SymPy ran out of its {budget} s budget").format(budget=f"{budget:g}")
    return _("SymPy failed ({error})").format(error=outcome.error)


def _formulas(graph: Graph, wrt: tuple[str, ...], simplify: bool) -> tuple[Formula, ...]:
    """In a child: SymPy's d output / d input for each input in `wrt`, printed."""
    import sympy as sp

    from .symbolic import latex_symbol_names, to_sympy

    exprs = to_sympy(sp, graph, needed=graph.reaches_output())
    output = exprs[graph.output]
    formulas = []
    for name in wrt:
        symbol = exprs[graph.input_id(name)]
        d = sp.Integer(0) if symbol is None else sp.diff(output, symbol)
        if simplify:
            d = sp.simplify(d)
        latex = sp.latex(d, symbol_names=latex_symbol_names(d))
        formulas.append(Formula(name, clip(sp.sstr(d)), clip(latex)))
    return tuple(formulas)


def clip(text: str) -> str:
    return text if len(text) <= MAX_DERIVATIVE_TEXT else text[: MAX_DERIVATIVE_TEXT - 1] + "…"
