"""The output of `bpcalc check`: the verdict table, where a wrong answer went
wrong, and the JSON document (schema "bpcalc.check/1")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..api import num
from ..i18n import N_, _
from ..homework import GRADIENT, NODE_GRAD, VALUE, Report, Verdict, describe_claim
from .explain import (
    Line, Notation, definition, exact_texts, forward_line, local_formula, node_lines, print_lines, terms_into, users_of,
)
from .numbers import fmt
from .table import exact_and_decimal, point_text, program_title, render_check as render_verification
from .table import render_derivatives, render_warnings, tolerance

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA = "bpcalc.check/1"
MAX_EXACT_IN_TABLE = 40


#: The headline when bpcalc's own gradient is verified, by the check's method.
_OWN_GRADIENT_AGREES = {
    "sympy": N_("bpcalc's own gradient agrees with SymPy ✓"),
    "local": N_("bpcalc's own gradient agrees with local ✓"),
    "finite differences": N_("bpcalc's own gradient agrees with finite differences ✓"),
}


def summary(report: Report) -> str:
    n = len(report.verdicts)
    wrong = sum(not v.ok for v in report.verdicts)
    if not wrong:
        return _("✓ the claim holds") if n == 1 else _("✓ all {n} claims hold").format(n=n)
    if wrong == 1:
        return _("✗ 1 of 1 claim is wrong") if n == 1 else _("✗ 1 of {n} claims is wrong").format(n=n)
    return _("✗ {wrong} of {n} claims are wrong").format(wrong=wrong, n=n)


def render_report(report: Report, console: "Console", digits: int) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    result = report.result
    console.print(Text.assemble(("bpcalc check ", "bold"), program_title(result.graph.source)))
    if result.at:
        console.print(Text(_("at {point}").format(point=point_text(result, digits)), style="dim"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column, justify in ((_("claim"), "left"), (_("claimed"), "right"), (_("correct"), "right"),
                            (_("difference"), "right"), ("", "left"), (_("judged"), "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    long_exact = False
    for v in report.verdicts:
        mark = Text("✓", style="green") if v.ok else Text("✗", style="bold red")
        exact = v.exact if v.exact is None or len(v.exact) <= MAX_EXACT_IN_TABLE else None
        long_exact |= exact != v.exact
        if v.claim.no_gradient:
            correct, difference = (_("none") if v.ok else _("a gradient")), "—"
        else:
            correct, difference = exact_and_decimal(exact, fmt(v.correct, digits)), fmt(v.difference, digits)
        table.add_row(describe_claim(result, v.claim), v.claim.text, correct, difference, mark, v.how)
    console.print(table)
    if long_exact:
        console.print(Text(_("(exact forms longer than {count} characters: see --json)").format(
            count=MAX_EXACT_IN_TABLE), style="dim"))
    judging = report.judging
    console.print(Text(_("tolerance: |claimed - correct| <= {atol} + {rtol}·|correct|").format(
        atol=tolerance(judging.atol), rtol=tolerance(judging.rtol)), style="dim"))
    console.print()
    console.print(Text(summary(report), style="green" if report.ok else "bold red"))
    notation = Notation(latex=False, digits=digits)
    for v in report.verdicts:
        if not v.ok:
            lines = where_wrong(report, v, notation)
            if lines:
                console.print()
                console.print(Text(_("{what}: you wrote {claimed}; the correct step is").format(
                    what=describe_claim(result, v.claim), claimed=v.claim.text), style="bold"))
                print_lines(lines, console)
    if result.derivatives is not None:
        render_derivatives(result, console)
    if result.check is not None:
        console.print()
        if result.check.verified:
            console.print(Text(_(_OWN_GRADIENT_AGREES[result.check.method]), style="dim"))
        else:
            render_verification(result.check, result.output_label, console, digits)
    render_warnings(result, console)


def where_wrong(report: Report, verdict: Verdict, notation: Notation) -> list[Line]:
    """The correct computation at the node a wrong claim is about: for a
    gradient, the upstream gradients and local derivatives that make it; for
    a value, the forward step."""
    result = report.result
    node = verdict.node
    if result.tensor:
        from .explain_tensor import entry_lines

        if verdict.claim.kind in (GRADIENT, NODE_GRAD) and verdict.claim.index is not None:
            return entry_lines(result, node, verdict.claim.index, notation)
        return []
    exact = exact_texts(result, notation)
    if verdict.claim.kind in (GRADIENT, NODE_GRAD):
        users = users_of(result.graph)
        if not users[node]:
            return []
        lines = node_lines(result, node, notation, exact, users)
        out, labels = result.output_label, result.graph.labels
        upstream = [
            Line((notation.partial(out, labels[t.user]), notation.result(t.upstream, exact.adjoint(t.user))),
                 _("upstream, from {node}").format(
                     node=f"{labels[t.user]} = {definition(result.graph, t.user, notation)}"), level=1)
            for t in terms_into(result, node, users)
        ]
        return [lines[0], *dict.fromkeys(upstream), *lines[1:]]
    if result.graph.args(node):
        return [forward_line(result, node, notation, exact)]
    return []


def check_document(report: Report, result_document: dict[str, Any] | None = None) -> dict[str, Any]:
    """The --json document: the verdicts, how they were judged, and the
    `bpcalc grad` result they were judged against (its full document, unless
    the caller gives a shorter one: `bpcalc batch` gives a compact summary)."""
    result = report.result
    judging = report.judging
    notation = Notation(latex=False)
    claims = []
    for v in report.verdicts:
        claim = v.claim
        entry: dict[str, Any] = {
            "name": claim.name if claim.kind != VALUE else result.output_label,
            "kind": claim.kind,
            "what": describe_claim(result, claim),
            "node": v.node,
            "claimed": num(claim.number.value),
            "claimed_text": claim.text,
            "correct": num(v.correct),
            "exact": v.exact,
            "difference": num(v.difference),
            "ok": v.ok,
            "judged": {"rule": v.rule, "digits": v.digits, "rounded": v.rounded, "how": v.how},
        }
        if claim.index is not None:
            entry["index"] = list(claim.index)
        if not v.ok and claim.kind in (GRADIENT, NODE_GRAD) and result.tensor and claim.index is not None:
            from .explain_tensor import entry_terms

            entry["terms"] = [
                {"user": result.graph.labels[t.user], "formula": t.formula, "numbers": t.numbers,
                 "contribution": num(t.contribution)}
                for t in entry_terms(result, v.node, claim.index)
            ]
        elif not v.ok and claim.kind in (GRADIENT, NODE_GRAD):
            entry["terms"] = [
                {
                    "user": result.graph.labels[t.user],
                    "upstream": num(t.upstream),
                    "local": num(t.local),
                    "local_formula": local_formula(result.graph, t.user, t.position, notation),
                    "contribution": num(t.contribution),
                }
                for t in terms_into(result, v.node)
            ]
        claims.append(entry)
    return {
        "schema": SCHEMA,
        "ok": report.ok,
        "summary": summary(report),
        "judging": {
            "rtol": judging.rtol, "atol": judging.atol, "decimals": judging.decimals,
            "sig_figs": judging.sig_figs, "as_written": judging.as_written,
        },
        "claims": claims,
        "result": result.to_dict() if result_document is None else result_document,
    }
