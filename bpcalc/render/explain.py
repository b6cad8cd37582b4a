"""`bpcalc explain`: the forward and backward pass written out, node by node.

The way course notes teach it: the forward pass (each node's value, inputs
first), then the backward pass from the output (gradient 1) back to the
inputs. For every node on the way: its local derivative as a formula (the op
table's `rule` over its arguments' names) and as a number, and upstream x
local = downstream; where a node feeds several others, the sum of their
contributions written out (dC/da = dC/dz1 * w3 + dC/dz2 * w4). Node names are
the `grad` table's labels (q, f, %3).

One builder (`explanation`) makes the lines in a `Notation` (plain text, or
LaTeX for Markdown and LaTeX output); three small renderers print them.
`terms_into` is also what `bpcalc check` shows under a wrong gradient.
"""

from __future__ import annotations

import math

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..api import GradResult
from ..errors import BpcalcError
from ..graph import CONST, INPUT, Graph
from ..i18n import _, language
from ..ops import OPS
from ..symbolic import latex_name
from .numbers import fmt
from .table import exact_and_decimal, point_text, program_title

if TYPE_CHECKING:
    from rich.console import Console

#: explain writes out every node; beyond this many it refuses (--max-steps).
DEFAULT_MAX_STEPS = 300
FORMATS = ("text", "markdown", "latex")


# --- the backward pass as terms ----------------------------------------------


@dataclass(frozen=True)
class Term:
    """One contribution to a node's gradient: upstream x local, through one
    argument position of one user."""

    user: int  # the node that uses this one
    position: int  # which of the user's arguments it is (0 or 1)
    upstream: float  # d output / d user
    local: float  # d user / d this node
    contribution: float  # upstream x local (0 when either is 0, as the engine)


def users_of(graph: Graph) -> list[list[tuple[int, int]]]:
    """users[i]: (user, argument position) for each edge along which node i
    gets a gradient (users that depend on an input and reach the output)."""
    live = graph.reaches_output()
    active = graph.active
    users: list[list[tuple[int, int]]] = [[] for _ in range(len(graph))]
    for u in range(graph.output + 1):
        if live[u] and active[u]:
            for position, j in enumerate(graph.args(u)):
                if active[j]:
                    users[j].append((u, position))
    return users


def terms_into(result: GradResult, node: int, users: list[list[tuple[int, int]]] | None = None) -> tuple[Term, ...]:
    """The contributions that add up to d output / d `node`."""
    graph, values, adjoints = result.graph, result.values, result.adjoints
    edges = (users or users_of(graph))[node]
    terms = []
    for u, position in edges:
        args = graph.args(u)
        local = OPS[graph.ops[u]].partials(*[values[j] for j in args], values[u])[position]
        upstream = adjoints[u] or 0.0
        # a zero on either side passes nothing back (the engine's rule: not 0 x inf = nan)
        terms.append(Term(u, position, upstream, local, 0.0 if upstream == 0 or local == 0 else upstream * local))
    return tuple(terms)


def on_path_from(graph: Graph, wrt: str | None) -> list[bool]:
    """Nodes on a path from input `wrt` to the output (all live nodes without it)."""
    live = graph.reaches_output()
    if wrt is None:
        return live
    if wrt not in graph.input_names:
        from ..lang.parser import suggest

        raise BpcalcError("usage", _("--wrt {name}: the program has no input called that").format(name=wrt)
                          + suggest(wrt, list(graph.input_names)))
    start = graph.input_id(wrt)
    hit = [False] * len(graph)
    hit[start] = True
    for i in range(start + 1, len(graph)):
        if any(hit[j] for j in graph.args(i)):
            hit[i] = True
    return [h and l for h, l in zip(hit, live)]


def shown_forward(graph: Graph, path: Sequence[bool], i: int) -> bool:
    """With --wrt: node i is on the path or an argument of a node on it."""
    return path[i] or any(path[u] and i in graph.args(u) for u in range(i + 1, len(graph)))


# --- notation -----------------------------------------------------------------


@dataclass(frozen=True)
class Notation:
    """How names, derivatives, products and numbers are written."""

    latex: bool
    digits: int = 6

    def name(self, label: str) -> str:
        return latex_name(label) if self.latex else label

    def inline(self, label: str) -> str:
        """A name inside prose."""
        return f"${latex_name(label)}$" if self.latex else label

    def partial(self, top: str, bottom: str) -> str:
        if self.latex:
            return f"\\frac{{\\partial {self.name(top)}}}{{\\partial {self.name(bottom)}}}"
        return f"∂{top}/∂{bottom}"

    @property
    def times(self) -> str:
        return " \\cdot " if self.latex else " · "

    def number(self, value: float | None, exact: str | None = None) -> str:
        """A value: exact form when there is one, else the decimal."""
        if exact is not None:
            return exact
        text = fmt(value, self.digits)
        if not self.latex:
            return text
        if text in ("inf", "-inf"):
            return text.replace("inf", "\\infty")
        if text == "nan":
            return "\\mathrm{nan}"
        mantissa, e, exponent = text.partition("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}" if e else text

    def result(self, value: float | None, exact: str | None) -> str:
        """A computed value: 'exact ≈ decimal' in exact mode."""
        return exact_and_decimal(exact, self.number(value), " \\approx " if self.latex else " ≈ ")

    def literal(self, text: str) -> str:
        """A constant as written in the program."""
        if not self.latex:
            return text
        sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
        if body in ("pi", "e"):
            return sign + ("\\pi" if body == "pi" else "e")
        mantissa, e, exponent = body.lower().partition("e")
        return sign + (f"{mantissa} \\times 10^{{{int(exponent)}}}" if e else body)

    def factor(self, text: str) -> str:
        """`text` as a factor of a product: in parentheses unless atomic."""
        if _atomic(text):
            return text
        return f"\\left({text}\\right)" if self.latex else f"({text})"


@dataclass(frozen=True)
class ExactTexts:
    """Exact forms (text or LaTeX) of values, adjoints and local partials, by
    node id; None everywhere when there are none (no exact mode, or it ran out)."""

    values: tuple[str | None, ...] = ()
    adjoints: tuple[str | None, ...] = ()
    partials: tuple[tuple[str | None, ...], ...] = ()

    def value(self, i: int) -> str | None:
        return self.values[i] if self.values else None

    def adjoint(self, i: int) -> str | None:
        return self.adjoints[i] if self.adjoints else None

    def partial(self, user: int, position: int) -> str | None:
        return self.partials[user][position] if self.partials else None


def exact_texts(result: GradResult, notation: Notation) -> ExactTexts:
    exact = result.exact
    if exact is None or not exact.ok:
        return ExactTexts()
    if notation.latex:
        return ExactTexts(_narrow(exact.latex_values), _narrow(exact.latex_adjoints),
                          tuple(map(_narrow, exact.latex_partials)))
    return ExactTexts(exact.values, exact.adjoints, exact.partials)


#: An exact form wider than this (in printed characters, about) cannot fit on
#: a page's line: LaTeX math does not break, so such a value is shown as a
#: decimal only.
EXACT_WIDTH = 40


def _narrow(texts: tuple[str | None, ...]) -> tuple[str | None, ...]:
    return tuple(t if t is None or _width(t) <= EXACT_WIDTH else None for t in texts)


_OPEN, _CLOSE = "({[", ")}]"


def _atomic(text: str) -> bool:
    """No sign in front and no operator or space outside brackets."""
    if not text or text[0] in "-+":
        return False
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and ch in " +-*/^·":
            return False
    return True


def operand(graph: Graph, j: int, notation: Notation) -> str:
    """How argument node j is named in formulas: its label, or the number
    itself for an unnamed constant."""
    if graph.ops[j] == CONST and graph.names[j] is None:
        return notation.factor(notation.literal(graph.consts[j][1]))  # 2*(-3)^(2 - 1)
    return notation.name(graph.labels[j])


def fill(op_name: str, args: list[str], notation: Notation) -> str:
    """The op applied to argument texts (names or numbers), in the notation;
    arguments are parenthesized where the op does not delimit them."""
    op = OPS[op_name]
    if not notation.latex:
        shown = args if op.is_function else [notation.factor(a) for a in args]
        return op.text(*shown)
    called = op.latex_call(args)  # max(a, b, c): its arguments are delimited
    if called is not None:
        return called
    template = op.latex
    shown = [a if _delimited(template, f"{{{p}}}") else notation.factor(a) for p, a in zip("ab", args)]
    return template.format(**dict(zip("ab", shown)))


def definition(graph: Graph, i: int, notation: Notation) -> str:
    """Op node i over its arguments' names: 'x + y', 'exp(%11)'."""
    return fill(graph.ops[i], [operand(graph, j, notation) for j in graph.args(i)], notation)


def _delimited(template: str, placeholder: str) -> bool:
    """Does the LaTeX template put this argument inside delimiters? (A power's
    base in braces is not: {-1}^{2} reads as -1^2.)"""
    k = template.find(placeholder)
    if k < 0:
        return True
    before = template[:k]
    return before.endswith(("(", "|", ", ")) or (before.endswith("{{") and before[:-2] != "")


def local_formula(graph: Graph, user: int, position: int, notation: Notation) -> str:
    """d user / d (its argument at `position`), from the op table's rule."""
    names = [operand(graph, j, notation) for j in graph.args(user)]
    return OPS[graph.ops[user]].formula(position, names, notation.latex)


# --- the explanation ------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """`chain[0] = chain[1] = …` (math in the notation), with prose after it;
    level 1 lines are details under the line above; a line with no chain is
    prose only."""

    chain: tuple[str, ...]
    note: str = ""
    level: int = 0


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Explanation:
    program: str  # the program text, stripped
    origin: str
    title: str  # the program, or (its file) when it has several lines
    at: str  # "x = -2, y = 5, z = -4"
    sections: tuple[Section, ...]
    notes: tuple[str, ...]  # warnings, exact-mode notes


def explanation(result: GradResult, notation: Notation, max_steps: int = DEFAULT_MAX_STEPS,
                wrt: str | None = None) -> Explanation:
    """The forward and backward pass of `result`, written out in `notation`;
    with `wrt`, only the nodes on the paths from that input to the output."""
    graph = result.graph
    path = on_path_from(graph, wrt)
    shown = sum(1 for i in range(len(graph)) if graph.ops[i] != CONST or graph.names[i] is not None)
    if max_steps and shown > max_steps:
        raise BpcalcError("limit", too_many_steps(shown, max_steps))
    exact = exact_texts(result, notation)
    out = result.output_label
    only = _(" (only the nodes on the paths from {name})").format(name=wrt) if wrt is not None else ""
    sections = (
        Section(_("Forward pass: each node's value, inputs first") + only,
                tuple(_forward_lines(result, notation, exact, path if wrt is not None else None))),
        Section(_("Backward pass: ∂{output}/∂{node}, from the output (gradient 1) back to the inputs").format(
                    output=out, node=_("node")) + only,
                tuple(_backward_lines(result, notation, exact, path))),
        Section(_("Gradient"), tuple(
            Line((notation.partial(out, name), notation.result(v, exact.adjoint(graph.input_id(name)))))
            for name, v in result.gradient.items() if wrt is None or name == wrt
        ) or (Line((), _("the program has no inputs")),)),
    )
    source = graph.source
    notes = tuple(w.message for w in result.warnings)
    full = result.exact
    if notation.latex and full is not None and full.ok and exact != ExactTexts(
            full.latex_values, full.latex_adjoints, full.latex_partials):
        notes += (_("exact forms wider than about {width} characters are shown as decimals only "
                    "(a formula cannot break across lines)").format(width=EXACT_WIDTH),)
    return Explanation(source.text.strip(), source.origin, program_title(source), point_text(result, notation.digits),
                       sections, notes)


def _forward_lines(result: GradResult, notation: Notation, exact: ExactTexts,
                   path: Sequence[bool] | None = None) -> list[Line]:
    graph = result.graph
    return [
        forward_line(result, i, notation, exact)
        for i, op in enumerate(graph.ops)
        if (op != CONST or graph.names[i] is not None)  # unnamed constants: numbers where used
        and (path is None or shown_forward(graph, path, i))
    ]


def forward_line(result: GradResult, i: int, notation: Notation, exact: ExactTexts = ExactTexts()) -> Line:
    """node = formula over its arguments' names = the same over their values = value."""
    graph, values = result.graph, result.values
    op = graph.ops[i]
    chain = [notation.name(graph.labels[i])]
    if op not in (INPUT, CONST):
        args = graph.args(i)
        chain.append(definition(graph, i, notation))
        chain.append(fill(op, [notation.number(values[j], exact.value(j)) for j in args], notation))
    chain.append(notation.result(values[i], exact.value(i)))
    note = ""
    if i == graph.output:
        note = _("the output") if graph.names[i] else _("the output, {name}").format(
            name=notation.inline(result.output_label))
    return Line(_distinct(chain), note)


def _distinct(chain: list[str]) -> tuple[str, ...]:
    """The chain without a step that repeats the one before (2 * 3 = 2 * 3)."""
    return tuple(x for k, x in enumerate(chain) if k == 0 or x != chain[k - 1])


def _backward_lines(result: GradResult, notation: Notation, exact: ExactTexts,
                    path: Sequence[bool]) -> list[Line]:
    graph = result.graph
    out, output = result.output_label, graph.output
    if not graph.active[output]:
        return [Line((), _("the output does not depend on any input: there is no backward pass"))]
    users = users_of(graph)
    lines = [Line((notation.partial(out, graph.labels[output]), "1"), _("the output: gradient 1"))]
    users = [[(u, p) for u, p in edges if path[u]] for edges in users]
    for i in range(output - 1, -1, -1):
        if users[i] and path[i]:
            # the first node's lines say which is the local derivative, which the product
            lines += node_lines(result, i, notation, exact, users, legend=len(lines) == 1)
    live = graph.reaches_output()
    dead = [graph.labels[i] for i in range(len(graph)) if graph.active[i] and not live[i]]
    if dead:
        names = _(", ").join(notation.inline(d) for d in dead)
        lines.append(Line((), _("not on any path to the output, so their gradient is 0: {names}").format(names=names)))
    return lines


def node_lines(result: GradResult, node: int, notation: Notation, exact: ExactTexts = ExactTexts(),
               users: list[list[tuple[int, int]]] | None = None, legend: bool = True) -> list[Line]:
    """One node of the backward pass: what it is, the local derivative of
    each user, and upstream x local (summed over users) = its gradient."""
    graph = result.graph
    out = result.output_label
    label = graph.labels[node]
    terms = terms_into(result, node, users)
    op = graph.ops[node]
    if op == INPUT:
        head = Line((notation.name(label),), _("an input"))
    else:
        head = Line((notation.name(label), definition(graph, node, notation)))
    feeders = list(dict.fromkeys(graph.labels[t.user] for t in terms))
    twice = len(feeders) < len(terms)  # x*x: one user, two arguments
    if len(terms) > 1:
        if len(feeders) == 1:
            how = _("it is both arguments of {user}: its gradient is the sum of both contributions").format(
                user=notation.inline(feeders[0]))
        else:
            how = _("it feeds {users}: its gradient is the sum of their contributions").format(
                users=and_list([notation.inline(f) for f in feeders]))
        head = Line(head.chain, _("; ").join(n for n in (head.note, how) if n))
    lines = [head]
    symbols, numbers = [], []
    for t in terms:
        user = graph.labels[t.user]
        formula = local_formula(graph, t.user, t.position, notation)
        local = notation.number(t.local, exact.partial(t.user, t.position))
        chain = [notation.partial(user, label), formula, local]
        notes = [_("local derivative") if legend else "",
                 _("as argument {n}").format(n=t.position + 1) if twice else ""]
        lines.append(Line(_distinct(chain), _("; ").join(n for n in notes if n), level=1))
        upstream = notation.number(t.upstream, exact.adjoint(t.user))
        symbols.append(notation.partial(out, user) + notation.times + notation.factor(formula))
        numbers.append(notation.factor(upstream) + notation.times + notation.factor(local))
    adjoint = result.adjoints[node]
    total = notation.result(adjoint, exact.adjoint(node))
    chain = [notation.partial(out, label), " + ".join(symbols), " + ".join(numbers), total]
    product = _("upstream × local = downstream") if legend and len(terms) == 1 else ""
    if any(t.local == 0 and not math.isfinite(t.upstream) for t in terms):
        product = _("a zero local derivative passes nothing back, not inf · 0 = nan")
    lines.append(Line(_distinct(chain), product, level=1))
    return lines


def too_many_steps(shown: int, max_steps: int) -> str:
    return _("explain writes out every node, and this program has {shown} (more than {limit}); raise the "
             "limit with --max-steps, or use `bpcalc grad` for the table").format(shown=shown, limit=max_steps)


def and_list(items: Sequence[str]) -> str:
    """a, b and c (in the current language)."""
    if len(items) == 1:
        return items[0]
    return _("{items} and {last}").format(items=_(", ").join(items[:-1]), last=items[-1])


# --- renderers ----------------------------------------------------------------


def render_text(expl: Explanation, console: "Console") -> None:
    from rich.text import Text

    console.print(Text.assemble(("bpcalc explain ", "bold"), expl.title))
    if expl.at:
        console.print(Text(_("at {point}").format(point=expl.at), style="dim"))
    for section in expl.sections:
        console.print()
        console.print(Text(section.title, style="bold"))
        print_lines(section.lines, console)
    _print_notes(expl, console)


def print_lines(lines: Sequence[Line], console: "Console") -> None:
    """Lines as plain text, indented by level, notes dimmed."""
    from rich.text import Text

    for line in lines:
        math = " = ".join(line.chain)
        note = _("  ({note})").format(note=line.note) if line.note and math else line.note
        # soft_wrap: a long formula stays one line (the terminal wraps it), so it can be copied
        console.print(Text.assemble("  " + "    " * line.level, math, (note, "dim")), soft_wrap=True)


def _print_notes(expl: Explanation, console: "Console") -> None:
    from rich.text import Text

    if expl.notes:
        console.print()
    for note in expl.notes:
        console.print(Text.assemble((_("warning: "), "bold yellow"), note))


def markdown(expl: Explanation) -> str:
    """Markdown with math in $…$ (GitHub, Jupyter, pandoc)."""
    out = []
    if "\n" in expl.program:
        origin = f" ({expl.origin})" if not expl.origin.startswith("<") else ""
        out += [_("### Backpropagation, step by step") + origin, "", "```", expl.program, "```", ""]
    else:
        out += [_("### Backpropagation, step by step: `{program}`").format(program=expl.program), ""]
    if expl.at:
        out += [_("at `{point}`").format(point=expl.at), ""]
    for section in expl.sections:
        out += [f"**{_md_title(section.title)}**", ""]
        for line in section.lines:
            indent = "  " * line.level
            math = f"${' = '.join(line.chain)}$" if line.chain else ""
            note = _(" ({note})").format(note=line.note) if line.note and math else line.note
            out.append(f"{indent}- {math}{note}")
        out.append("")
    out += ["> " + _("warning: ") + _md_escape(n) for n in expl.notes]
    return "\n".join(out).rstrip() + "\n"


#: A line wider than this, in characters as printed (about: `_width`), has its
#: `= …` steps on rows of their own, and a step still too wide is cut before
#: a + or -; a note longer than NOTE_WIDTH is a paragraph (\intertext) under
#: its row, a shorter one a tag at the right margin (amsmath moves a tag that
#: does not fit to the next line). So no row runs past the margin of an
#: article page.
ROW_WIDTH = 50
#: Prose in another script than Latin needs its fonts: for Chinese, ctex
#: (with xelatex; TeX Live's texlive-lang-chinese).
LATEX_CJK = " and \\usepackage{ctex} (compile with xelatex)"
NOTE_WIDTH = 40
LHS_WIDTH = 8  # the left column is as wide as its widest entry


def latex(expl: Explanation) -> str:
    """`align*` environments (needs amsmath), one per section, that may
    break across pages (\allowdisplaybreaks inside a group), with the program
    in comments."""
    out = [f"% bpcalc explain: {line}" for line in expl.program.splitlines() or [""]]
    if expl.at:
        out.append(f"% at {expl.at}")
    out.append("% needs \\usepackage{amsmath}" + (LATEX_CJK if language() != "en" else ""))
    out.append("{\\allowdisplaybreaks")
    for section in expl.sections:
        rows = [f"\\intertext{{{latex_text(_md_title(section.title))}}}"]
        for line in section.lines:
            rows += _latex_rows(line)
        out += ["\\begin{align*}", *_line_breaks(rows), "\\end{align*}"]
    out.append("}")
    out += [f"% warning: {' '.join(n.split())}" for n in expl.notes]
    return "\n".join(out) + "\n"


def _latex_rows(line: Line) -> list[str]:
    """The rows of one line: `lhs &= step` (one row, or one per step when
    long, and a step too wide for the line wrapped before a + - or ·), its
    note as a tag or, when long, a paragraph under it."""
    if not line.chain:
        return [f"\\intertext{{{latex_text(line.note)}}}"]
    lhs, steps = "\\quad " * line.level + line.chain[0], line.chain[1:]
    if _width(" = ".join(line.chain)) <= ROW_WIDTH or not steps:
        rows = [f"{lhs} &" + (f"= {' = '.join(steps)}" if steps else "")]
    else:
        room = ROW_WIDTH - max(LHS_WIDTH, _width(lhs))
        starts = [f"{lhs} &", *("&" for _ in steps[1:])]
        rows = [row for start, step in zip(starts, steps) for row in _wrapped(start, step, room)]
    if not line.note:
        return rows
    from rich.cells import cell_len

    if cell_len(line.note) > NOTE_WIDTH:
        return [*rows, f"\\intertext{{{latex_text(line.note)}}}"]
    rows[-1] += f" \\tag*{{{latex_text(line.note)}}}"
    return rows


def _wrapped(start: str, step: str, room: float) -> list[str]:
    """`start= step` as rows: the step cut before a + or - outside any group
    or parentheses where it is wider than `room` (before a · inside a term
    that is wider on its own)."""
    rows, row = [], ""
    terms = _top_level_terms(step, _SUMS)
    pieces = [part for term in terms
              for part in (_top_level_terms(term, _PRODUCTS) if _width(term) > room else [term])]
    for piece in pieces:
        if row and _width(row + piece) > room:
            rows.append(row)
            row = "{}" + piece.lstrip()  # {} keeps the operator binary
        else:
            row += piece
    rows.append(row)
    return [f"{start}= {rows[0]}", *(f"&\\qquad {r}" for r in rows[1:])]


_SUMS, _PRODUCTS = (" + ", " - "), (" \\cdot ",)


def _top_level_terms(math: str, breaks: tuple[str, ...]) -> list[str]:
    """`math` cut before each of `breaks` outside braces and \\left…\\right."""
    pieces, depth, start = [], 0, 0
    for match in _LATEX_TOKEN.finditer(math):
        tok, k = match.group(), match.start()
        if tok in ("{", "\\left"):
            depth += 1
        elif tok in ("}", "\\right"):
            depth -= 1
        elif depth == 0 and k > start and math.startswith(breaks, k):
            pieces.append(math[start:k])
            start = k
    return [*pieces, math[start:]]


_LATEX_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|.")
#: Commands that print nothing themselves.
_INVISIBLE = frozenset({"\\left", "\\right", "\\mathit", "\\mathrm", "\\text", "\\,", " "})
#: Relations and binary operators, with the space around them.
_SPACED = frozenset({"=", "+", "-", "\\cdot", "\\approx", "\\times"})


def _width(math: str) -> float:
    """About how many characters wide LaTeX math prints: a fraction is as wide
    as the wider of its numerator and denominator, a sub- or superscript
    counts 0.7, a command one character. (A loop with its own stack of
    groups: [width, "frac" | "script" | "group", the widths of a fraction's
    groups so far].)"""
    stack: list[list] = [[0.0, "group", None]]
    script = False  # the next character or group is a sub- or superscript
    for tok in _LATEX_TOKEN.findall(math):
        top = stack[-1]
        if tok == "{":
            kind = "frac" if top[2] is not None else ("script" if script else "group")
            stack.append([0.0, kind, None])
            script = False
        elif tok == "}" and len(stack) > 1:
            width, kind, _parts = stack.pop()
            parent = stack[-1]
            if kind == "frac":
                parent[2].append(width)
                if len(parent[2]) == 2:
                    parent[0] += max(parent[2])
                    parent[2] = None
            else:
                parent[0] += 0.7 * width if kind == "script" else width
        elif tok == "\\frac":
            top[2] = []
        elif tok in ("_", "^"):
            script = True
        elif tok not in _INVISIBLE:
            wide = 2.0 if tok in _SPACED else 1.0
            top[0] += 0.7 * wide if script else wide
            script = False
    return sum(frame[0] for frame in stack)


def _line_breaks(rows: list[str]) -> list[str]:
    """`\\\\` after each row, but not before \\intertext or the end (that would
    add an empty row)."""
    out = []
    for k, row in enumerate(rows):
        last = k + 1 == len(rows) or rows[k + 1].startswith("\\intertext")
        out.append(row if last or row.startswith("\\intertext") else row + " \\\\")
    return out


def _md_title(title: str) -> str:
    """Section titles mention ∂f/∂node; in LaTeX-bearing output, as math."""
    node = _("node")
    return re.sub(rf"∂(\S+?)/∂{re.escape(node)}",
                  lambda m: f"$\\partial {latex_name(m.group(1))}/\\partial\\,\\text{{{node}}}$", title)


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_$<>#|\[\]])", r"\\\1", text)


def latex_text(text: str) -> str:
    """Prose for \\text{} / \\intertext{}: escape LaTeX's specials outside $…$."""
    parts = text.split("$")
    for k in range(0, len(parts), 2):
        parts[k] = "".join(_TEXT_MATH.get(ch, ch) for ch in re.sub(r"([%&#_{}])", r"\\\1", parts[k]))
        parts[k] = parts[k].replace("\\_", "\\_\\allowbreak{}")  # log_softmax's may break after _
    return "$".join(parts)


#: Characters that LaTeX's text mode lacks (or prints as something else), as math.
_TEXT_MATH = {"×": "$\\times$", "~": "\\~{}", "^": "\\^{}", "→": "$\\to$", "−": "$-$", "Σ": "$\\Sigma$",
              "·": "$\\cdot$", "ℓ": "$\\ell$", "✓": "$\\surd$", "✗": "$\\times$", "<": "$<$", ">": "$>$"}


def latex_partial(top: str, bottom: str) -> str:
    """\\frac{\\partial f}{\\partial x} with names as LaTeX prints them."""
    return Notation(latex=True).partial(top, bottom)


RENDERERS: dict[str, Callable[[Explanation], str]] = {"markdown": markdown, "latex": latex}


def explanation_of(result: GradResult, notation: Notation, max_steps: int = DEFAULT_MAX_STEPS,
                   wrt: str | None = None) -> Any:
    """The explanation of any program: scalar steps, or the matrix-form
    steps of a program with vectors and matrices (`explain_tensor`)."""
    if result.tensor:
        from .explain_tensor import explanation as tensor_explanation

        return tensor_explanation(result, notation, max_steps, wrt)
    return explanation(result, notation, max_steps, wrt)
