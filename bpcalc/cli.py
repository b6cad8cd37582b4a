"""The `bpcalc` command line: parse options, call the core, pick a renderer,
choose the exit code. No computation lives here.

Exit codes: 0 success; 1 a check or an expected answer did not match; 2 bad
usage or bad input (parse error, unknown function, missing value, domain
error); 3 an internal error (a bug: please report it).
"""


import os
import signal
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Iterator, Optional

from . import loading

# typer, click and the commands' declarations load without the cyclic garbage
# collector's scans (3 ms of a 55 ms `bpcalc grad`); the end of the module
# turns it back on, and `main` sets all of start-up's objects aside for good.
_PAUSED = loading.pause()
try:
    import typer

    from .errors import EXIT_INTERNAL, EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, BpcalcError
    from . import i18n
    from .i18n import _
    from .inputs import read_program
    from .limits import DEFAULT_ATOL, DEFAULT_BUDGET, DEFAULT_LIMITS, DEFAULT_RTOL, require_finite
except BaseException:  # a process that goes on without us gets its collector back
    loading.resume(_PAUSED)
    raise

if TYPE_CHECKING:
    from rich.console import Console
    from typer.core import TyperCommand

    from .errors import Source
    from .limits import Limits

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Compute, show and check gradients by backpropagation.",
)


@app.callback(invoke_without_command=True)
def overview(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print bpcalc's version and exit.")] = False,
) -> None:
    """Compute, show and check gradients by backpropagation."""
    if version:
        from . import __version__

        print(f"bpcalc {__version__}")
        raise typer.Exit(EXIT_OK)
    if ctx.invoked_subcommand is None:  # plain `bpcalc`: the help, and success
        print(ctx.get_help())
        raise typer.Exit(EXIT_OK)

# --- options shared by the commands ---------------------------------------

ProgramArg = Annotated[
    Optional[str],
    typer.Argument(help="The program, e.g. \"(x+y)*z\"; '-' reads it from stdin.", show_default=False),
]
FileOpt = Annotated[
    Optional[Path], typer.Option("--file", "-f", help="Read the program from FILE ('-' for stdin).")
]
AtOpt = Annotated[
    Optional[list[str]],
    typer.Option("--at", help="Input values: x=-2,y=5,z=-4 (repeatable; values may be constant expressions such as pi/4)."),
]
AtFileOpt = Annotated[
    Optional[Path],
    typer.Option("--at-file", help="Input values from a JSON object: {\"x\": [1, -2], \"W\": [[0.1, 0.2]], \"b\": 0.5}; --at overrides single names."),
]
WrtOpt = Annotated[
    Optional[str], typer.Option("--wrt", help="Report gradients only for these inputs: x,y (default: all).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one strict JSON document on stdout.")]
LrOpt = Annotated[
    Optional[float],
    typer.Option("--lr", help="One step of gradient descent with this learning rate: each input's updated value θ − lr·∂f/∂θ."),
]
DigitsOpt = Annotated[int, typer.Option("--digits", min=1, max=17, help="Significant digits shown in tables.")]
ExactOpt = Annotated[
    bool, typer.Option("--exact", help="Exact values and gradients (11/5, exp(-1)/(exp(-1) + 1)**2) computed by SymPy within --budget; floats if it runs out."),
]
DerivativeOpt = Annotated[
    bool, typer.Option("--derivative", help="Print d output / d input as a formula (text and LaTeX), simplified by SymPy within --budget."),
]
MaxBytesOpt = Annotated[
    int, typer.Option("--max-bytes", min=1, help="Largest program accepted, in bytes.")
]
BudgetOpt = Annotated[
    float,
    typer.Option("--budget", min=0.0,
                 help="Seconds each SymPy step (the check, --exact, --derivative) may take; "
                      "when it runs out bpcalc says so and falls back."),
]
MaxNodesOpt = Annotated[
    int, typer.Option("--max-nodes", min=1, help="Most graph nodes a program may have.")
]


#: The languages of `--lang`: bpcalc.i18n.LANGUAGES.
Lang = Enum("Lang", {code: code for code in i18n.LANGUAGES}, type=str)  # type: ignore[misc]


LangOpt = Annotated[  # applied by `speak`, before click reads the arguments
    Optional[Lang],
    typer.Option("--lang", help="Language of what is printed for people: en or zh (中文). Default: BPCALC_LANG, "
                 "else the locale (LANG=zh_CN.UTF-8 → zh), else en. --json is always English.",
                 show_default=False),
]
MaxDepthOpt = Annotated[
    int, typer.Option("--max-depth", min=1, help="Deepest nesting of parentheses and unary operators.")
]


def make_limits(max_bytes: int, max_nodes: int, max_depth: int,
                max_entries: int = DEFAULT_LIMITS.max_entries) -> "Limits":
    from .limits import Limits

    return Limits(max_bytes=max_bytes, max_nodes=max_nodes, max_depth=max_depth, max_entries=max_entries)


def the_point(at: list[str] | None, at_file: Path | None, max_bytes: int, source: "Source | None" = None) -> dict:
    """The program's `# at:` lines, then --at-file's values, then --at's
    (each overrides single names)."""
    from .point import header_point, parse_at, read_at_file

    point = header_point(source) if source is not None else {}
    point.update(read_at_file(at_file, max_bytes) if at_file is not None else {})
    point.update(parse_at(at or []))
    return point


def split_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise BpcalcError("usage", _("{option} needs input names, e.g. {example}").format(
            option="--wrt", example="--wrt x,y"))
    return names


def make_console(stderr: bool = False) -> "Console":
    """Colours only on a terminal (rich also honours NO_COLOR); when piped,
    plain text at a fixed width so nothing depends on the caller's terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "120") or 120)
    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError  # `reporting` exits 141, as for any program (rich: exit 1)

    # markup=False: program text like "# [red]x[/red]" must print as typed.
    return QuietConsole(file=stream, highlight=False, markup=False, width=width, soft_wrap=False)


def checking_once(render: bool) -> None:
    """This process runs one SymPy check: let SymPy load in the check's child
    while this process computes finite differences and (for people) loads what
    prints the tables, on the other core (see verify.IMPORT_SYMPY_FIRST)."""
    from . import verify

    verify.IMPORT_SYMPY_FIRST = False
    if render:
        verify.WHILE_CHECKING.append(_load_tables)


def _load_tables() -> None:
    from io import StringIO

    import rich.table  # noqa: F401
    from rich.console import Console

    from .render import table  # noqa: F401

    # rich reads its emoji names and its table of character widths (for ✓)
    # when it first prints: here, while the check runs, not after it
    Console(file=StringIO(), width=20).print("✓ :")


@contextmanager
def reporting(json_mode: bool, schema: str) -> Iterator[None]:
    """Turn errors into a message on stderr (and a JSON error document on
    stdout in --json mode) and the right exit code; never a traceback."""
    try:
        yield
    except BpcalcError as err:
        if json_mode:
            from .render.json import error_document

            print(error_document(schema, err.to_dict()))
        print(err.render(), file=sys.stderr)
        raise typer.Exit(err.exit_code) from None
    except RecursionError:
        _internal(json_mode, schema, _("the input is nested too deeply for this operation"), EXIT_USAGE)
    except MemoryError:
        _internal(json_mode, schema, _("out of memory: the input is too large"), EXIT_USAGE)
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        raise typer.Exit(130) from None
    except BrokenPipeError:
        raise typer.Exit(reader_gone()) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:  # a bug, not the user's fault
        if os.environ.get("BPCALC_DEBUG"):
            raise
        _internal(
            json_mode, schema,
            _("internal error ({exception}); this is a bug in bpcalc — "
              "please report it with the command you ran (BPCALC_DEBUG=1 shows details)").format(
                exception=f"{type(exc).__name__}: {exc}"),
            EXIT_INTERNAL,
        )


def _internal(json_mode: bool, schema: str, message: str, code: int) -> None:
    if json_mode:
        from .render.json import error_document

        kind = "limit" if code == EXIT_USAGE else "internal"
        print(error_document(schema, {"kind": kind, "message": message, "line": None, "column": None}))
    print(_("error: {message}").format(message=message), file=sys.stderr)
    raise typer.Exit(code)


# --- commands ----------------------------------------------------------------


@app.command()
def grad(
    program: ProgramArg = None,
    file: FileOpt = None,
    at: AtOpt = None,
    at_file: AtFileOpt = None,
    wrt: WrtOpt = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Check against SymPy (and finite differences).")] = True,
    json_out: JsonOpt = False,
    rtol: Annotated[float, typer.Option("--rtol", min=0.0, help="Relative tolerance of the check.")] = DEFAULT_RTOL,
    atol: Annotated[float, typer.Option("--atol", min=0.0, help="Absolute tolerance of the check.")] = DEFAULT_ATOL,
    budget: BudgetOpt = DEFAULT_BUDGET,
    digits: DigitsOpt = 6,
    max_rows: Annotated[int, typer.Option("--max-rows", min=0, help="Most node rows in the table (0: all).")] = 200,
    show: Annotated[Optional[list[str]], typer.Option("--show", help="Print this node's whole value and gradient (a name as in the table: W1, h, %4; repeatable).")] = None,
    max_bytes: MaxBytesOpt = DEFAULT_LIMITS.max_bytes,
    max_nodes: MaxNodesOpt = DEFAULT_LIMITS.max_nodes,
    max_depth: MaxDepthOpt = DEFAULT_LIMITS.max_depth,
    max_entries: Annotated[int, typer.Option("--max-entries", min=1, help="Most entries of all vectors and matrices together.")] = DEFAULT_LIMITS.max_entries,
    exact: ExactOpt = False,
    derivative: DerivativeOpt = False,
    lr: LrOpt = None,
    lang: LangOpt = None,
) -> None:
    """Value and gradient of a program at a point: every node's value and
    gradient, the gradient for each input, and the SymPy check."""
    from dataclasses import replace

    from .api import SCHEMA, grad as compute, with_sympy

    with reporting(json_out, SCHEMA):
        require_finite({"--rtol": rtol, "--atol": atol, "--budget": budget, **({} if lr is None else {"--lr": lr})})
        limits = make_limits(max_bytes, max_nodes, max_depth, max_entries)
        source = read_program(program, file, limits.max_bytes)
        result = compute(source, the_point(at, at_file, limits.max_bytes, source), wrt=split_names(wrt), check=False,
                         limits=limits)
        for label in show or []:
            if label not in result.graph.labels:
                from .lang.parser import suggest

                raise BpcalcError("usage", _("{option}: no node is called that "
                                             "(the table's node column names them){suggestion}").format(
                    option=f"--show {label}", suggestion=suggest(label, result.graph.labels)))
        if check and not (exact or derivative) and not result.tensor:
            checking_once(render=not json_out)
        result = with_sympy(replace(result, lr=lr), check=check, exact=exact, derivative=derivative, rtol=rtol,
                            atol=atol, budget=budget)
        if json_out:
            from .render.json import write

            doc = result.to_dict(nodes=False)  # the nodes streamed, unless exact mode has them
            write(doc, sys.stdout, *(("nodes", result.node_dicts()) if doc["nodes"] is None else ()))
        else:
            from .render.table import render_grad

            render_grad(result, make_console(), digits, max_rows, tuple(show or ()))
    raise typer.Exit(EXIT_OK if result.ok else EXIT_MISMATCH)


OPS_SCHEMA = "bpcalc.ops/1"


@app.command()
def ops(json_out: JsonOpt = False, lang: LangOpt = None) -> None:
    """List the primitive operations, their derivatives and their conventions
    at non-differentiable points."""
    from .render.optable import ops_document, render_ops

    with reporting(json_out, OPS_SCHEMA):
        if json_out:
            from .render.json import dumps

            print(dumps(ops_document()))
        else:
            render_ops(make_console())


# --- check, explain (issue 3) ---------------------------------------------


@app.command()
def check(
    program: ProgramArg = None,
    file: FileOpt = None,
    at: AtOpt = None,
    at_file: AtFileOpt = None,
    expect: Annotated[Optional[list[str]], typer.Option("--expect", help="Claimed gradients d output / d input: x=-4,y=-4; for a matrix W=[[0.5,-1.35],[2,0]] or one entry W[0,1]=-1.35 (0-based; repeatable).")] = None,
    expect_value: Annotated[Optional[str], typer.Option("--expect-value", help="Claimed value of the output.")] = None,
    expect_node: Annotated[Optional[list[str]], typer.Option("--expect-node", help="Claimed values of named nodes: q=3 (names as in the grad table: q, q@2, %3; repeatable).")] = None,
    expect_node_grad: Annotated[Optional[list[str]], typer.Option("--expect-node-grad", help="Claimed gradients d output / d node: q=-4 (repeatable).")] = None,
    expect_updated: Annotated[Optional[list[str]], typer.Option("--expect-updated", help="Claimed inputs after one step of gradient descent with --lr: w=0.358 (θ − lr·∂f/∂θ; repeatable).")] = None,
    lr: LrOpt = None,
    expect_file: Annotated[Optional[list[Path]], typer.Option("--expect-file", help="Claims from a file: name=value lines (keys expect:, expect-value:, expect-node:, expect-node-grad:, expect-updated:) or JSON (repeatable).")] = None,
    decimals: Annotated[Optional[int], typer.Option("--decimals", min=0, max=100, help="Judge every claim to N decimal places (0.39 is right for 0.3932 at 2).")] = None,
    sig_figs: Annotated[Optional[int], typer.Option("--sig-figs", min=1, max=17, help="Judge every claim to N significant figures.")] = None,
    as_written: Annotated[bool, typer.Option("--rounding/--no-rounding", help="Judge a claim written with a decimal point (0.39) to its last digit (default); --no-rounding: the tolerance only.")] = True,
    rtol: Annotated[float, typer.Option("--rtol", min=0.0, help="Relative tolerance for every claim.")] = DEFAULT_RTOL,
    atol: Annotated[float, typer.Option("--atol", min=0.0, help="Absolute tolerance for every claim.")] = DEFAULT_ATOL,
    exact: ExactOpt = False,
    derivative: DerivativeOpt = False,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Also check bpcalc's own gradient against SymPy.")] = True,
    verify: Annotated[Optional[bool], typer.Option("--verify/--no-verify", hidden=True)] = None,  # the old name of --check
    budget: BudgetOpt = DEFAULT_BUDGET,
    json_out: JsonOpt = False,
    digits: DigitsOpt = 6,
    max_bytes: MaxBytesOpt = DEFAULT_LIMITS.max_bytes,
    max_nodes: MaxNodesOpt = DEFAULT_LIMITS.max_nodes,
    max_depth: MaxDepthOpt = DEFAULT_LIMITS.max_depth,
    lang: LangOpt = None,
) -> None:
    """Check claimed answers (gradients, the output's value, named nodes)
    against the computed ones: exit 0 if all hold, 1 if any does not."""
    from .api import grad as compute, with_sympy
    from .homework import Judging, collect_claims, judge_claims, require_lr, resolve_claims
    from .render.check import SCHEMA, check_document, render_report

    from dataclasses import replace

    check = check if verify is None else verify
    with reporting(json_out, SCHEMA):
        require_finite({"--rtol": rtol, "--atol": atol, "--budget": budget, **({} if lr is None else {"--lr": lr})})
        if decimals is not None and sig_figs is not None:
            raise BpcalcError("usage", _("give {one} or {other}, not both").format(one="--decimals", other="--sig-figs"))
        limits = make_limits(max_bytes, max_nodes, max_depth)
        source = read_program(program, file, limits.max_bytes)
        claims = collect_claims(expect or [], expect_value, expect_node or [], expect_node_grad or [],
                                expect_file or [], limits.max_bytes, expect_updated or [])
        result = compute(source, the_point(at, at_file, limits.max_bytes, source), check=False, limits=limits)
        result = replace(result, lr=lr)
        resolve_claims(result.graph, claims)  # bad names fail fast, before SymPy runs
        require_lr(claims, lr)
        if check and not (exact or derivative):
            checking_once(render=False)
        result = with_sympy(result, check=check, exact=exact, derivative=derivative, budget=budget)
        report = judge_claims(result, claims, Judging(rtol, atol, decimals, sig_figs, as_written))
        if json_out:
            from .render.json import dumps

            print(dumps(check_document(report)))
        else:
            render_report(report, make_console(), digits)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_MISMATCH)


@app.command()
def explain(
    program: ProgramArg = None,
    file: FileOpt = None,
    at: AtOpt = None,
    at_file: AtFileOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="text (the terminal), markdown (math in $…$), latex (an align* environment) or html (a page to step through, with the picture).")] = "text",
    output_text: Annotated[Optional[str], typer.Option("--output", "-o", help="Write to FILE instead of stdout.")] = None,
    exact: ExactOpt = False,
    budget: BudgetOpt = DEFAULT_BUDGET,
    digits: DigitsOpt = 6,
    max_steps: Annotated[int, typer.Option("--max-steps", min=0, help="Most nodes written out (0: no limit).")] = 300,
    wrt: Annotated[Optional[str], typer.Option("--wrt", help="Only the steps on the paths from this input: --wrt w5.")] = None,
    max_bytes: MaxBytesOpt = DEFAULT_LIMITS.max_bytes,
    max_nodes: MaxNodesOpt = DEFAULT_LIMITS.max_nodes,
    max_depth: MaxDepthOpt = DEFAULT_LIMITS.max_depth,
    lang: LangOpt = None,
) -> None:
    """The backward pass written out: the forward pass node by node, then each
    node's local derivative and upstream x local = downstream, back to the inputs."""
    from .api import SCHEMA, grad as compute, with_sympy
    from .render import explain as write

    with reporting(False, SCHEMA):
        require_finite({"--budget": budget})
        if fmt not in (*write.FORMATS, "html"):
            raise BpcalcError("usage", _("{option}: the formats are {formats}").format(
                option=f"--format {fmt}", formats=", ".join((*write.FORMATS, "html"))))
        from .render.graph import output_path, write_picture

        output = None if output_text is None else output_path(output_text)
        limits = make_limits(max_bytes, max_nodes, max_depth)
        source = read_program(program, file, limits.max_bytes)
        result = compute(source, the_point(at, at_file, limits.max_bytes, source), check=False, limits=limits)
        result = with_sympy(result, check=False, exact=exact, budget=budget)
        if fmt == "html":
            from .render.html import page

            text = page(result, digits, max_steps)
        else:
            steps = write.explanation_of(result, write.Notation(latex=fmt != "text", digits=digits), max_steps, wrt)
            if fmt == "text" and output is None:
                write.render_text(steps, make_console())
                return
            if fmt == "text":
                from .notebook import console_text

                text = console_text(lambda console: write.render_text(steps, console))
            else:
                text = write.RENDERERS[fmt](steps)
        if output is None:
            sys.stdout.write(text)
        else:
            write_picture(output, text.encode("utf-8"))

# --- graph (issue 4) ----------------------------------------------------------


@app.command()
def graph(
    program: ProgramArg = None,
    file: FileOpt = None,
    at: AtOpt = None,
    at_file: AtFileOpt = None,
    output_text: Annotated[Optional[str], typer.Option("--output", "-o", help="Write the picture to FILE; its suffix picks the format (.svg .png .pdf .dot .gv .mmd .mermaid .txt).")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="text, dot, svg, png, pdf or mermaid (default: from the -o suffix, else text). svg, png and pdf need Graphviz.")] = None,
    grads: Annotated[bool, typer.Option("--grad/--no-grad", help="Draw the gradients (--no-grad: the forward pass only).")] = True,
    digits: DigitsOpt = 4,
    exact: ExactOpt = False,
    budget: BudgetOpt = DEFAULT_BUDGET,
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, help="Most graph nodes drawn (a larger picture is slow to lay out and hard to read).")] = 500,
    max_bytes: MaxBytesOpt = DEFAULT_LIMITS.max_bytes,
    max_depth: MaxDepthOpt = DEFAULT_LIMITS.max_depth,
    lang: LangOpt = None,
) -> None:
    """Draw the computational graph: each operation a node, each edge with
    the forward value above it and the gradient flowing back below it."""
    from .api import SCHEMA, grad as compute, with_sympy
    from .render import graph as draw

    with reporting(False, SCHEMA):
        require_finite({"--budget": budget})
        output = None if output_text is None else draw.output_path(output_text)
        chosen = draw.choose_format(fmt, output)
        if chosen in ("png", "pdf") and output is None and sys.stdout.isatty():
            raise BpcalcError("usage", _("{format} is binary: write it to a file with {option}").format(
                format=chosen, option=f"-o FILE.{chosen}"))
        limits = make_limits(max_bytes, max_nodes, max_depth)
        source = read_program(program, file, limits.max_bytes)
        result = compute(source, the_point(at, at_file, limits.max_bytes, source), check=False, limits=limits)
        result = with_sympy(result, check=False, exact=exact, budget=budget)
        drawn = draw.drawing(result, digits, grads)
        for w in result.warnings:
            if w.kind != "exact":  # exact mode's note is among the drawing's notes
                _warn(w.message)
        for note in drawn.notes:
            print(_("note: {note}").format(note=note), file=sys.stderr)
        if output is not None:
            draw.write_picture(output, draw.picture(drawn, chosen))
        elif chosen == "text":
            from .render.graph_text import text_view

            make_console().print(text_view(drawn))
        else:
            sys.stdout.buffer.write(draw.picture(drawn, chosen))
            sys.stdout.buffer.flush()


# --- batch (issue 6) ----------------------------------------------------------


@app.command()
def batch(
    program: ProgramArg = None,
    file: FileOpt = None,
    points: Annotated[Optional[str], typer.Option("--points", "-p", help="Points: a CSV file (header row: the input names) or JSONL ({\"x\": 1, ...} per line); '-' for stdin.")] = None,
    programs: Annotated[Optional[str], typer.Option("--programs", help="Many programs (grading a class): JSONL lines of {\"program\", \"at\", \"expect\"?, \"id\"?, \"meta\"?, …}; '-' for stdin.")] = None,
    wrt: WrtOpt = None,
    input_format: Annotated[Optional[str], typer.Option("--from", help="Input format: csv or jsonl (default: from the file name, else sniffed).")] = None,
    output_format: Annotated[Optional[str], typer.Option("--to", help="Output format: csv or jsonl (default: the input's; jsonl for --programs, whose csv has a row per claim).")] = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="--programs: check each program against SymPy.")] = True,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="--programs: worker processes.")] = 1,
    reduce: Annotated[Optional[str], typer.Option("--reduce", help="--points: one record, the sum (or mean) of the values and gradients over every point: sum or mean.")] = None,
    rtol: Annotated[float, typer.Option("--rtol", min=0.0, help="--programs: relative tolerance for every claim (a line's \"rtol\" overrides it).")] = DEFAULT_RTOL,
    atol: Annotated[float, typer.Option("--atol", min=0.0, help="--programs: absolute tolerance for every claim (a line's \"atol\" overrides it).")] = DEFAULT_ATOL,
    decimals: Annotated[Optional[int], typer.Option("--decimals", min=0, max=100, help="--programs: judge every claim to N decimal places.")] = None,
    sig_figs: Annotated[Optional[int], typer.Option("--sig-figs", min=1, max=17, help="--programs: judge every claim to N significant figures.")] = None,
    as_written: Annotated[bool, typer.Option("--rounding/--no-rounding", help="--programs: judge a claim written with a decimal point to its last digit (default); --no-rounding: the tolerance only.")] = True,
    budget: BudgetOpt = DEFAULT_BUDGET,
    max_bytes: MaxBytesOpt = DEFAULT_LIMITS.max_bytes,
    max_nodes: MaxNodesOpt = DEFAULT_LIMITS.max_nodes,
    max_depth: MaxDepthOpt = DEFAULT_LIMITS.max_depth,
    lang: LangOpt = None,
) -> None:
    """Many points, one program (vectorized): one result row per point with
    its value and gradient. Or many programs (--programs): one verdict per
    line, as `bpcalc check` gives it."""
    from . import batch as run

    with reporting(False, "bpcalc.batch/1"):
        require_finite({"--budget": budget, "--rtol": rtol, "--atol": atol})
        if decimals is not None and sig_figs is not None:
            raise BpcalcError("usage", _("give {one} or {other}, not both").format(one="--decimals", other="--sig-figs"))
        for name, fmt in (("--from", input_format), ("--to", output_format)):
            if fmt is not None and fmt not in run.FORMATS:
                raise BpcalcError("usage", _("{option}: the formats are csv and jsonl").format(option=f"{name} {fmt}"))
        if (points is None) == (programs is None):
            raise BpcalcError("usage", _("give either --points FILE (with a program) or --programs FILE"))
        if reduce is not None and reduce not in run.REDUCTIONS:
            raise BpcalcError("usage", _("{option}: the reductions are sum and mean").format(option=f"--reduce {reduce}"))
        if reduce is not None and programs is not None:
            raise BpcalcError("usage", _("--reduce sums over --points; --programs judges each line on its own"))
        path = points if points is not None else programs
        assert path is not None
        with run.open_text(path) as (stream, origin, size), \
                run.progress(sys.stderr.isatty(), size, origin) as on_read:
            if programs is not None:
                if program is not None or file is not None:
                    raise BpcalcError("usage", _("--programs reads the programs from its file: give no program"))
                from .homework import Judging

                judging = Judging(rtol, atol, decimals, sig_figs, as_written)
                tally = run.run_programs(stream, origin, output_format, sys.stdout, check, jobs, on_read, budget,
                                         judging)
            else:
                limits = make_limits(max_bytes, max_nodes, max_depth)
                source = read_program(program, file, limits.max_bytes)
                tally = run.run_points(source, split_names(wrt), stream, origin, input_format,
                                       output_format, sys.stdout, on_read, warn=_warn, limits=limits, reduce=reduce)
        if programs is not None:
            print(tally.programs_summary(), file=sys.stderr)
        elif tally.summary:
            print(f"bpcalc batch: {tally.summary}", file=sys.stderr)
    raise typer.Exit(tally.exit_code)


def _warn(message: str) -> None:
    print(_("warning: {message}").format(message=message), file=sys.stderr)


def main() -> None:
    """Run the command named on the command line, then leave at once.

    typer inspects the signature of every registered command at each start
    (~5 ms for all of them), so an app holding only the command asked for runs
    it; anything else (no command, --help, --version, a typo) goes to the whole
    app. On the way out, once stdout and stderr are flushed, the process ends
    without tearing down every module (several ms a run, which a grading
    script calling bpcalc per student pays every time).

    Before click reads the arguments, a program that starts with '-' is put
    where click cannot take it for an option (`program_last`); a usage error
    click finds (an unknown option, a bad option value) is, with --json, also
    a JSON error document on stdout, as every other error is."""
    loading.own_process()  # start-up's objects (and SymPy's): no later collection scans them
    click = sys.modules[typer.BadParameter.__module__]  # click's exceptions (newer typer vendors click)
    args = sys.argv[1:]
    wanted = args[0] if args else ""
    chosen = [c for c in app.registered_commands if _command_name(c) == wanted]
    runner = app
    if chosen:
        runner = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
        runner.registered_callback = app.registered_callback
        runner.registered_commands = chosen
    group = typer.main.get_command(runner)
    command = getattr(group, "commands", {}).get(wanted) if chosen else None
    if command is not None:
        args = [wanted, *program_last(args[1:], command)]
        speak(args[1:], command)
    else:  # `bpcalc --help`, `bpcalc grdd`: no command's --lang to read
        speak(args, None)
    if i18n.language() != "en":  # English is click's own help: nothing to load
        from .click_text import translate_help

        translate_help(command or group, click)
    try:
        done = group.main(args=args, prog_name="bpcalc", standalone_mode=False)
        code = done if isinstance(done, int) else 0
    except click.UsageError as err:  # also a bad option value (BadParameter)
        if command is not None and json_requested(args[1:], command):
            _usage_document(wanted, err.format_message())
        show_usage_error(err, click)
        code = err.exit_code
    except click.ClickException as err:
        show_usage_error(err, click)
        code = err.exit_code
    except typer.Abort:
        print(_("Aborted!"), file=sys.stderr)
        code = 1
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = reader_gone()
    os._exit(code)


def show_usage_error(err: Any, click: Any) -> None:
    """click's usage error on stderr, in the chosen language (`click_text`)."""
    from .click_text import show_usage_error as show

    show(err, click)


def speak(args: list[str], command: "TyperCommand | None") -> None:
    """Choose the language of what is printed for people before click reads
    the arguments (so that its usage errors are in it too): --lang, else
    BPCALC_LANG, else the locale; English with --json (for scripts). A
    --lang that is not a language of ours is click's usage error."""
    options = args[: args.index("--")] if "--" in args else args
    takes_value = _value_options(command) if command is not None else {"--lang": True}
    wanted = None
    k = 0
    while k < len(options):
        arg = options[k]
        if arg == "--lang" and k + 1 < len(options):
            wanted = options[k + 1]
        elif arg.startswith("--lang="):
            wanted = arg.partition("=")[2]
        k += 2 if takes_value.get(arg) else 1  # `--at --lang`: --lang is --at's value
    lang = i18n.from_environment() if wanted not in i18n.LANGUAGES else wanted
    i18n.use("en" if command is not None and json_requested(args, command) else lang)


def _value_options(command: "TyperCommand") -> dict[str, bool]:
    """Every option name of `command` -> whether it takes a value."""
    from typer.core import TyperOption

    names: dict[str, bool] = {"--help": False}
    for param in command.params:
        if isinstance(param, TyperOption):
            for name in (*param.opts, *param.secondary_opts):
                names[name] = not (param.is_flag or param.count)
    return names


def program_last(args: list[str], command: "TyperCommand") -> list[str]:
    """The arguments with a program that starts with '-' moved behind '--'.

    `-log(p)` (every cross-entropy loss) is a program, not the option `-l`,
    and `-pow(x,2)` is not `-p ow(x,2)`: the first argument in the program's
    place that starts with '-' but is not one of the command's options
    (spelled out: `-p FILE`, `--points FILE`, `--points=FILE`; or a count
    such as `-j2`) is the program. So is the argument after `--`, after which
    options are read again. Click then gets the program behind a final `--`."""
    from typer.core import TyperArgument

    if not any(isinstance(p, TyperArgument) for p in command.params):
        return args
    options = _value_options(command)
    out: list[str] = []
    program: str | None = None
    positional = False  # the program's place is taken by a plain argument
    i = 0
    while i < len(args):
        arg = args[i]
        free = program is None and not positional
        if arg == "--" and free and i + 1 < len(args):
            program = args[i + 1]
            i += 2
            continue
        if arg == "--":
            out += args[i:]
            break
        if arg.startswith("-") and arg != "-":
            takes = options.get(arg.split("=", 1)[0] if arg.startswith("--") else arg)
            if takes is not None or arg.startswith("--") or not free or _short_count(arg, options):
                step = 2 if takes and "=" not in arg else 1
                out += args[i : i + step]
                i += step
                continue
            program = arg
            i += 1
            continue
        positional = True
        out.append(arg)
        i += 1
    return out + ["--", program] if program is not None else out


def _short_count(arg: str, options: dict[str, bool]) -> bool:
    """`-j2`: a short option with a number written against it."""
    return options.get(arg[:2], False) and arg[2:].isdigit()


def json_requested(args: list[str], command: "TyperCommand") -> bool:
    """--json among the options (before a `--`) of a command that has it."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options and "--json" in _value_options(command)


def _usage_document(command: str, message: str) -> None:
    """A usage error (unknown option, bad option value) as --json promises it."""
    from .api import SCHEMA as GRAD_SCHEMA
    from .render.check import SCHEMA as CHECK_SCHEMA
    from .render.json import error_document

    schemas = {"grad": GRAD_SCHEMA, "check": CHECK_SCHEMA, "ops": OPS_SCHEMA}
    print(error_document(schemas[command], {"kind": "usage", "message": message, "line": None, "column": None}))


def reader_gone() -> int:
    """`bpcalc … | head`: the reader went away. Stop quietly with the status of
    a process killed by SIGPIPE (141), as `yes | head` does; stdout goes to
    /dev/null so that no later flush says anything."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def _command_name(info: "typer.models.CommandInfo") -> str:
    return info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")


loading.resume(_PAUSED)  # see the top of the module
