"""The Python API beyond `grad`: `check`, `explain`, `graph`, and how the
results show themselves in a notebook (`_repr_html_`) and a console (`str`).

Each function is the command of the same name without the command line:
the same computation, the same renderers. Messages about the point speak of
the `at=` argument (the command line's say `--at`).

The API speaks English until `use_language("zh")` (then the tables, the
pictures, the step-through page and the error messages are in Chinese, as
the command line's `--lang zh`); the results' data (names, numbers, JSON)
are the same in every language.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from .api import GradResult, grad as _grad
from .errors import BpcalcError
from .i18n import _
from .limits import DEFAULT_ATOL, DEFAULT_BUDGET, DEFAULT_RTOL

WIDTH = 100  # characters of a console rendering


def use_language(lang: str) -> None:
    """Speak `lang` from now on: "zh" (中文) or "en" (a locale name such as
    "zh_CN.UTF-8" will do too). What is shown for people (tables, pictures,
    pages, messages) changes; the data do not.

    >>> use_language("zh"); use_language("en")
    """
    from . import i18n

    chosen = i18n.closest(lang)
    if chosen is None:
        raise BpcalcError("usage", _("unknown language {lang}; choose one of {languages}").format(
            lang=repr(lang), languages=", ".join(i18n.LANGUAGES)))
    i18n.use(chosen)


def console_text(render: Any) -> str:
    """What `render(console)` prints, as plain text."""
    from rich.console import Console

    buffer = io.StringIO()
    render(Console(file=buffer, width=WIDTH, color_system=None, soft_wrap=True, force_jupyter=False))
    return buffer.getvalue()


def _pre(text: str) -> str:
    from .render.html import escape

    return f'<pre class="bpcalc">{escape(text)}</pre>'


def grad(program: str, at: Mapping[str, object] | None = None, **options: Any) -> GradResult:
    """Value and gradient of `program` at `at`, checked against SymPy: the
    options and the result of `bpcalc.api.grad`, whose messages name the at=
    and wrt= arguments here (not --at and --wrt).

    >>> grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4}).gradient
    {'x': -4.0, 'y': -4.0, 'z': 3.0}
    """
    return _grad(program, at, **{"python": True, **options})


# --- check ----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    """Claims judged against the computed answers; `.ok` is the command's
    exit code 0 (every claim holds)."""

    report: Any  # homework.Report
    digits: int = 6

    @property
    def ok(self) -> bool:
        return bool(self.report.ok)

    @property
    def verdicts(self) -> tuple[Any, ...]:
        return self.report.verdicts

    def __str__(self) -> str:
        from .render.check import render_report

        return console_text(lambda console: render_report(self.report, console, self.digits))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        return _pre(str(self))


def _claim_text(name: str, value: object) -> str:
    if isinstance(value, Fraction):
        return f"{name}={value}"  # 1/3: exact
    if isinstance(value, str):
        return f"{name}={value}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) and getattr(value, "ndim", None) != 0:
        raise BpcalcError("value", _("the claim for {name} must be a number, got {value}").format(
            name=name, value=repr(value)))
    number = value.item() if hasattr(value, "item") else value
    return f"{name}={number!r}"


def check(
    program: str,
    at: Mapping[str, object] | None = None,
    *,
    expect: Mapping[str, object] | None = None,
    expect_value: object = None,
    expect_node: Mapping[str, object] | None = None,
    expect_node_grad: Mapping[str, object] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    decimals: int | None = None,
    sig_figs: int | None = None,
    rounding: bool = True,
    exact: bool = False,
    budget: float = DEFAULT_BUDGET,
    digits: int = 6,
) -> CheckReport:
    """`bpcalc check`: judge claimed answers (gradients by input name, the
    output's value, named nodes' values and gradients).

    >>> check("(x+y)*z", at={"x": -2, "y": 5, "z": -4}, expect={"x": -4, "z": 3}).ok
    True
    """
    from .api import with_sympy
    from .homework import Judging, collect_claims, judge_claims, resolve_claims

    if decimals is not None and sig_figs is not None:
        raise BpcalcError("usage", _("give {one} or {other}, not both").format(one="decimals=", other="sig_figs="))
    texts = {key: [_claim_text(n, v) for n, v in (claims or {}).items()]
             for key, claims in (("expect", expect), ("node", expect_node), ("node_grad", expect_node_grad))}
    value = None if expect_value is None else _claim_text("f", expect_value).split("=", 1)[1]
    if not any(texts.values()) and value is None:
        raise BpcalcError("usage", _("nothing to check: give {options}").format(
            options="expect={...}, expect_value=..., expect_node={...} or expect_node_grad={...}"))
    claims = collect_claims(texts["expect"], value, texts["node"], texts["node_grad"])
    result = grad(program, at, check=False)
    resolve_claims(result.graph, claims)
    result = with_sympy(result, check=False, exact=exact, budget=budget)
    return CheckReport(judge_claims(result, claims, Judging(rtol, atol, decimals, sig_figs, rounding)), digits)


# --- explain ----------------------------------------------------------------------


@dataclass(frozen=True)
class Explained:
    """`bpcalc explain`'s steps; a notebook shows the step-through page."""

    result: GradResult
    digits: int = 6
    max_steps: int = 300

    def _steps(self, latex: bool) -> Any:
        from .render.explain import Notation, explanation_of

        return explanation_of(self.result, Notation(latex=latex, digits=self.digits), self.max_steps)

    def text(self) -> str:
        from .render.explain import render_text

        return console_text(lambda console: render_text(self._steps(False), console))

    def markdown(self) -> str:
        from .render.explain import markdown

        return markdown(self._steps(True))

    def latex(self) -> str:
        from .render.explain import latex

        return latex(self._steps(True))

    def html(self) -> str:
        """The whole self-contained page (`--format html`)."""
        from .render.html import page

        return page(self.result, self.digits, self.max_steps)

    def save(self, path: str | Path) -> None:
        """Write the page (.html), Markdown (.md), LaTeX (.tex) or text."""
        suffix = Path(path).suffix.lower()
        text = {".html": self.html, ".htm": self.html, ".md": self.markdown, ".tex": self.latex}.get(
            suffix, self.text)()
        Path(path).write_text(text, encoding="utf-8")

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())

    def _repr_html_(self) -> str:
        from .render.html import inline

        return inline(self.html())


def explain(program: str, at: Mapping[str, object] | None = None, *, exact: bool = False,
            budget: float = DEFAULT_BUDGET, digits: int = 6, max_steps: int = 300) -> Explained:
    """`bpcalc explain`: the forward and backward pass written out, node by node."""
    from .api import with_sympy

    result = grad(program, at, check=False)
    result = with_sympy(result, check=False, exact=exact, budget=budget)
    explained = Explained(result, digits, max_steps)
    explained._steps(False)  # the step limit is checked now, not when shown
    return explained


# --- graph ----------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """`bpcalc graph`'s drawing; `.save("g.svg")` (or .png .pdf .dot .mmd .txt)."""

    drawing: Any  # render.graph.Drawing

    @property
    def dot(self) -> str:
        from .render.graph_dot import to_dot

        return to_dot(self.drawing)

    def svg(self) -> str:
        """Drawn by Graphviz (raises BpcalcError when it is not installed)."""
        from .render.graph import picture

        return picture(self.drawing, "svg").decode("utf-8")

    def save(self, path: str | Path, format: str | None = None) -> None:
        from .render.graph import choose_format, output_path, picture, write_picture

        target = output_path(str(path))
        write_picture(target, picture(self.drawing, choose_format(format, target)))

    def __str__(self) -> str:
        from .render.graph_text import text_view

        return console_text(lambda console: console.print(text_view(self.drawing)))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        try:
            svg = self.svg()
        except BpcalcError:
            return _pre(str(self))
        return svg[svg.find("<svg"):]


def graph(program: str, at: Mapping[str, object] | None = None, *, grads: bool = True, digits: int = 4,
          exact: bool = False, budget: float = DEFAULT_BUDGET) -> Picture:
    """`bpcalc graph`: the computational graph with values and gradients on its edges."""
    from .api import with_sympy
    from .render.graph import drawing

    result = grad(program, at, check=False)
    result = with_sympy(result, check=False, exact=exact, budget=budget)
    return Picture(drawing(result, digits, grads))


# --- how a GradResult shows itself ----------------------------------------------


def grad_text(result: GradResult, digits: int = 6) -> str:
    """The node table and the check, as `bpcalc grad` prints them."""
    from .render.table import render_grad

    return console_text(lambda console: render_grad(result, console, digits, 0))


def grad_html(result: GradResult, digits: int = 6) -> str:
    """The table and the check, with the picture when Graphviz is there."""
    parts = [_pre(grad_text(result, digits))]
    if not result.tensor:
        try:
            from .render.graph import drawing, picture

            svg = picture(drawing(result), "svg").decode("utf-8")
            parts.append(f'<div class="bpcalc-picture">{svg[svg.find("<svg"):]}</div>')
        except BpcalcError:
            pass
    return "".join(parts)
