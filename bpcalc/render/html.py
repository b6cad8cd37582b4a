"""`bpcalc explain --format html`: one self-contained page with the graph
picture and the explanation side by side, stepped node by node.

The steps are `explain`'s own lines (`forward_line`, `node_lines`), one step
per node: the forward pass inputs first, then the backward pass from the
output back to the inputs, then the gradient. Each step carries the id of
the node it is about (and, backward, of the nodes its gradient comes from),
which `static/step.js` highlights on the Graphviz picture inlined in the page
(`<g class="node"><title>n3</title>…`, as `graph_dot` names the nodes).

Everything from the program (names, comments, constants) reaches the page
through `escape` (or through Graphviz's own XML escaping, in the SVG); the
step data are HTML attributes and text, never script, so the page's only
script is the packaged `step.js`.

The page speaks the reader's language (`i18n`): its fixed words are the
catalogue's, written by Python; the few that `step.js` writes itself (the
step counter) reach it as data, a JSON object in the `data-words` attribute
of the page's <body>, never as code.
"""

from __future__ import annotations

import html as _html
import json
import re
from dataclasses import dataclass
from importlib import resources

from ..api import GradResult
from ..graph import CONST
from ..errors import BpcalcError
from ..i18n import _, language
from .explain import (DEFAULT_MAX_STEPS, Line, Notation, exact_texts, explanation_of, forward_line,
                      node_lines, users_of)
from .graph import drawing

#: Digits of the numbers on the picture (those of `bpcalc graph`).
PICTURE_DIGITS = 4


@dataclass(frozen=True)
class Step:
    """One step of the page: the node it is about, the nodes it draws on
    (a backward step: the users whose gradients flow into it), its lines."""

    phase: str  # "forward", "backward" or "gradient"
    node: int | None  # None: the summary (it marks the inputs)
    users: tuple[int, ...]
    lines: tuple[Line, ...]


def steps(result: GradResult, notation: Notation) -> tuple[Step, ...]:
    """The forward pass node by node, the backward pass node by node, the gradient."""
    if result.tensor:
        return tensor_steps(result, notation)
    graph = result.graph
    exact = exact_texts(result, notation)
    out: list[Step] = [
        Step("forward", i, (), (forward_line(result, i, notation, exact),))
        for i, op in enumerate(graph.ops) if op != CONST or graph.names[i] is not None
    ]
    output = graph.output
    if graph.active[output]:
        users = users_of(graph)
        out.append(Step("backward", output, (), (Line(
            (notation.partial(result.output_label, graph.labels[output]), "1"), _("the output: gradient 1")),)))
        first = True
        for i in range(output - 1, -1, -1):
            if users[i]:
                lines = node_lines(result, i, notation, exact, users, legend=first)
                first = False
                out.append(Step("backward", i, tuple(dict.fromkeys(u for u, _ in users[i])), tuple(lines)))
    return tuple(out)


def tensor_steps(result: GradResult, notation: Notation) -> tuple[Step, ...]:
    """The same for a program with vectors and matrices: each forward node
    with its shape and value, then each backward step (the op's rule with
    this program's names and shapes, and its numbers), marking the node whose
    gradient it is and the users its gradient comes from."""
    from . import explain_tensor

    graph = result.graph
    forward = explain_tensor.explanation(result, notation).sections[0].lines
    out = [Step("forward", i, (), (line,)) for i, line in zip(explain_tensor.forward_nodes(graph), forward)]
    users = users_of(graph)
    for s in explain_tensor.tensor_steps(result).steps:
        came_from = tuple(dict.fromkeys(u for u, _ in users[s.node])) if s.node != graph.output else ()
        out.append(Step("backward", s.node, came_from, tuple(explain_tensor.step_lines(s, notation))))
    return tuple(out)


def escape(text: str) -> str:
    """Text for HTML content and attributes."""
    return _html.escape(text, quote=True)


#: The page's language attribute for each of bpcalc's languages.
HTML_LANG = {"en": "en", "zh": "zh-CN"}


def words_json(words: dict[str, str]) -> str:
    """The words `step.js` writes itself (the step counter), as JSON for an
    HTML attribute (escaped)."""
    return escape(json.dumps(words, ensure_ascii=False, sort_keys=True))


def script() -> str:
    """The page's JavaScript (`static/step.js`, packaged with bpcalc)."""
    return resources.files("bpcalc.render").joinpath("static/step.js").read_text(encoding="utf-8")


def style() -> str:
    return resources.files("bpcalc.render").joinpath("static/step.css").read_text(encoding="utf-8")


def picture_svg(result: GradResult) -> tuple[str | None, str]:
    """The graph drawn by Graphviz as inline SVG (no XML prolog), or None
    and why not."""
    from .graph_dot import render, to_dot

    try:
        svg = render(to_dot(drawing(result, PICTURE_DIGITS)), "svg").decode("utf-8")
    except BpcalcError as err:
        return None, err.message
    start = svg.find("<svg")
    svg = svg[start:]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)  # Graphviz's comments: node ids, nothing for the reader
    return svg, ""


def page(result: GradResult, digits: int = 6, max_steps: int = DEFAULT_MAX_STEPS, picture: bool = True) -> str:
    """The whole page, self-contained: style, picture, steps and script inline."""
    notation = Notation(latex=False, digits=digits)
    expl = explanation_of(result, notation, max_steps)  # the limit, the title, the point, the notes
    all_steps = steps(result, notation)
    gradient = expl.sections[2]  # forward, backward, gradient (a tensor program adds its steps as a program)
    summary = Step("gradient", None, tuple(result.graph.input_id(n) for n in result.wrt), gradient.lines)
    all_steps += (summary,)
    titles = {"forward": expl.sections[0].title, "backward": expl.sections[1].title, "gradient": gradient.title}
    svg, why = picture_svg(result) if picture else (None, "")
    no_picture = escape(_("No picture: {reason}").format(reason=why))
    figure = svg if svg is not None else f'<p class="no-picture">{no_picture}</p>' if why else ""
    items = []
    phases = [s.phase for s in all_steps]
    for k, step in enumerate(all_steps, start=1):
        start = " phase-start" if k == 1 or phases[k - 2] != step.phase else ""
        node = "" if step.node is None else str(step.node)
        users = " ".join(map(str, step.users))
        label = result.graph.labels[step.node] if step.node is not None else ""
        body = "".join(_line_html(line) for line in step.lines)
        items.append(
            f'<li class="step{start}" id="step-{k}" data-step="{k}" data-phase="{step.phase}" data-node="{node}" '
            f'data-label="{escape(label)}" data-users="{users}">'
            f'<p class="phase">{escape(titles[step.phase])}</p>{body}</li>'
        )
    program = escape(expl.program)
    counter = _("step {current} of {total}")
    # The page's fixed words, escaped (gettext's extractor does not look inside f-strings).
    t = {key: escape(text) for key, text in {
        "at": _("at {point}").format(point=expl.at), "warning": _("warning: "),
        "legend": _("On the picture: {values}, {gradients}; the node of the step is {marked}, and in the backward "
                    "pass the nodes its gradient comes from {too}."),
        "values": _("values above the edges"), "gradients": _("gradients below"), "marked": _("marked"),
        "too": _("too"), "heading": _("Backpropagation, step by step"), "steps": _("steps"),
        "stepping": _("stepping"), "first": _("« first"), "first_title": _("first step (Home)"),
        "prev": _("◀ back"), "prev_title": _("previous step (←)"), "next": _("next ▶"),
        "next_title": _("next step (→)"), "last": _("last »"), "last_title": _("last step (End)"),
        "counter": counter.format(current=1, total=len(all_steps)),
        "hint": _("Arrow keys ← → step; the address (#step=N) links to the step shown."),
    }.items()}
    point = f'<p class="at">{t["at"]}</p>' if expl.at else ""
    notes = "".join(f'<p class="note-warning">{t["warning"]}{escape(n)}</p>' for n in expl.notes)
    legend = ('<p class="legend">' + t["legend"].format(
        values=f'<span class="value">{t["values"]}</span>', gradients=f'<span class="grad">{t["gradients"]}</span>',
        marked=f'<span class="mark-current">{t["marked"]}</span>', too=f'<span class="mark-user">{t["too"]}</span>')
        + "</p>") if svg else ""
    words = words_json({"counter": counter})
    return f"""<!DOCTYPE html>
<html lang="{HTML_LANG.get(language(), "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bpcalc explain">
<title>bpcalc explain: {escape(expl.title)}</title>
<style>
{style()}</style>
</head>
<body data-words="{words}">
<header>
<h1>{t["heading"]}</h1>
<pre class="program"><code>{program}</code></pre>
{point}
</header>
<main class="layout">
<figure class="picture" id="picture">
{figure}
{legend}
</figure>
<section class="explanation" aria-label="{t["steps"]}">
<nav class="controls" aria-label="{t["stepping"]}">
<button type="button" id="first" title="{t["first_title"]}">{t["first"]}</button>
<button type="button" id="prev" title="{t["prev_title"]}">{t["prev"]}</button>
<span id="counter" aria-live="polite">{t["counter"]}</span>
<button type="button" id="next" title="{t["next_title"]}">{t["next"]}</button>
<button type="button" id="last" title="{t["last_title"]}">{t["last"]}</button>
</nav>
<p class="hint">{t["hint"]}</p>
<ol class="steps">
{chr(10).join(items)}
</ol>
{notes}
</section>
</main>
<script>
{script()}</script>
</body>
</html>
"""


def _line_html(line: Line) -> str:
    math = " = ".join(line.chain)
    note = f' <span class="note">({escape(line.note)})</span>' if line.note and math else (
        f'<span class="note">{escape(line.note)}</span>' if line.note else "")
    return f'<p class="line level-{line.level}"><span class="math">{escape(math)}</span>{note}</p>'


def inline(page_html: str, height: int = 620) -> str:
    """The page in an iframe (for a notebook cell): its script and style stay
    its own."""
    title = escape(_("bpcalc explain, step by step"))
    return (f'<iframe class="bpcalc-explain" srcdoc="{escape(page_html)}" '
            f'style="width: 100%; height: {height}px; border: 1px solid #ddd;" '
            f'title="{title}"></iframe>')
