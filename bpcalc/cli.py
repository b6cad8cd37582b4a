"""The `bpcalc` command line: parse options, call the core, pick a renderer,
choose the exit code. No computation lives here.

Exit codes: 0 success; 1 a check or an expected answer did not match; 2 bad
usage or bad input (parse error, unknown function, missing value, domain
error); 3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer

from .errors import EXIT_INTERNAL, EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, BpcalcError
from .inputs import read_program
from .limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from rich.console import Console

    from .limits import Limits

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Compute, show and check gradients by backpropagation.",
)

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
WrtOpt = Annotated[
    Optional[str], typer.Option("--wrt", help="Report gradients only for these inputs: x,y (default: all).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one strict JSON document on stdout.")]
DigitsOpt = Annotated[int, typer.Option("--digits", min=1, max=17, help="Significant digits shown in tables.")]
MaxBytesOpt = Annotated[
    int, typer.Option("--max-bytes", min=1, help="Largest program accepted, in bytes.")
]
MaxNodesOpt = Annotated[
    int, typer.Option("--max-nodes", min=1, help="Most graph nodes a program may have.")
]
MaxDepthOpt = Annotated[
    int, typer.Option("--max-depth", min=1, help="Deepest nesting of parentheses and unary operators.")
]


def make_limits(max_bytes: int, max_nodes: int, max_depth: int) -> "Limits":
    from .limits import Limits

    return Limits(max_bytes=max_bytes, max_nodes=max_nodes, max_depth=max_depth)


def split_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def make_console(stderr: bool = False) -> "Console":
    """Colours only on a terminal (rich also honours NO_COLOR); when piped,
    plain text at a fixed width so nothing depends on the caller's terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "120") or 120)
    return Console(file=stream, highlight=False, width=width, soft_wrap=False)


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
        _internal(json_mode, schema, "the input is nested too deeply for this operation", EXIT_USAGE)
    except MemoryError:
        _internal(json_mode, schema, "out of memory: the input is too large", EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:  # a bug, not the user's fault
        if os.environ.get("BPCALC_DEBUG"):
            raise
        _internal(
            json_mode, schema,
            f"internal error ({type(exc).__name__}: {exc}); this is a bug in bpcalc — "
            "please report it with the command you ran (BPCALC_DEBUG=1 shows details)",
            EXIT_INTERNAL,
        )


def _internal(json_mode: bool, schema: str, message: str, code: int) -> None:
    if json_mode:
        from .render.json import error_document

        kind = "limit" if code == EXIT_USAGE else "internal"
        print(error_document(schema, {"kind": kind, "message": message, "line": None, "column": None}))
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


# --- commands ----------------------------------------------------------------


@app.command()
def grad(
    program: ProgramArg = None,
    file: FileOpt = None,
    at: AtOpt = None,
    wrt: WrtOpt = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Check against SymPy (and finite differences).")] = True,
    json_out: JsonOpt = False,
    rtol: Annotated[float, typer.Option("--rtol", min=0.0, help="Relative tolerance of the check.")] = 1e-9,
    atol: Annotated[float, typer.Option("--atol", min=0.0, help="Absolute tolerance of the check.")] = 1e-12,
    budget: Annotated[float, typer.Option("--budget", min=0.0, help="Seconds the SymPy check may take before it falls back to finite differences.")] = 10.0,
    digits: DigitsOpt = 6,
    max_rows: Annotated[int, typer.Option("--max-rows", min=0, help="Most node rows in the table (0: all).")] = 200,
    max_bytes: MaxBytesOpt = DEFAULT_LIMITS.max_bytes,
    max_nodes: MaxNodesOpt = DEFAULT_LIMITS.max_nodes,
    max_depth: MaxDepthOpt = DEFAULT_LIMITS.max_depth,
) -> None:
    """Value and gradient of a program at a point: every node's value and
    gradient, the gradient for each input, and the SymPy check."""
    from .api import SCHEMA, grad as compute
    from .point import parse_at

    with reporting(json_out, SCHEMA):
        limits = make_limits(max_bytes, max_nodes, max_depth)
        source = read_program(program, file, limits.max_bytes)
        result = compute(
            source, parse_at(at or []), wrt=split_names(wrt), check=check,
            rtol=rtol, atol=atol, budget=budget, limits=limits,
        )
        if json_out:
            from .render.json import dumps

            print(dumps(result.to_dict()))
        else:
            from .render.table import render_grad

            render_grad(result, make_console(), digits, max_rows)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_MISMATCH)


@app.command()
def ops(json_out: JsonOpt = False) -> None:
    """List the primitive operations, their derivatives and their conventions
    at non-differentiable points."""
    from .render.optable import ops_document, render_ops

    if json_out:
        from .render.json import dumps

        print(dumps(ops_document()))
    else:
        render_ops(make_console())


# --- check, explain (issue 3) ---------------------------------------------

# --- graph (issue 4) ----------------------------------------------------------

# --- batch (issue 6) ----------------------------------------------------------


def main() -> None:
    app()
