"""A catalogue of nasty inputs, each through the installed `bpcalc` command.

Every case asserts the exit code, a fragment of the message a user sees, no
traceback, and (all run with --json) a strict JSON document on stdout: the
error object for failures, the result for successes.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import pytest

from conftest import run_cli

CANARY = f"/tmp/bpcalc-canary-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Case:
    id: str
    program: str | None  # None: the program comes from `argv` or stdin
    fragment: str  # in stderr (errors) or in the JSON warnings (successes)
    code: int = 2
    at: str = "x=1"
    argv: tuple[str, ...] = ()
    stdin: bytes | None = None
    error_kind: str | None = None
    extra: dict = field(default_factory=dict)


CASES = [
    # -- empty and malformed programs --
    Case("empty", "", "empty program"),
    Case("whitespace only", "  \n\t  ", "empty program"),
    Case("comment only", "# nothing here", "empty program"),
    Case("unbalanced open", "(x + 1", "'(' is never closed", error_kind="parse"),
    Case("unbalanced close", "x + 1)", "unmatched ')'"),
    Case("trailing operator", "x +", "the expression ends after '+'"),
    Case("trailing power", "x **", "the expression ends after '**'"),
    Case("doubled operator", "x +* y", "expected an expression after '+', got '*'"),
    Case("juxtaposed names", "x y", "missing operator between 'x' and 'y'"),
    Case("implicit multiplication", "2x", "write 2*x to multiply"),
    Case("two dots", "1..2", "missing operator between '1.' and '.2'"),
    Case("nothing after =", "x = ", "nothing after '='"),
    Case("assign to a number", "3 = x", "cannot assign to the number 3"),
    Case("assign to an expression", "x + 1 = 2", "only a name at the start of a statement can be assigned"),
    Case("comparison", "x == 2", "'==' comparisons are not supported"),
    # -- functions --
    Case("unknown function", "foo(x)", "unknown function 'foo'", error_kind="name"),
    Case("misspelled function", "sigmod(x)", "did you mean sigmoid?"),
    Case("function used as a value", "exp + 1", "'exp' is a function: call it as exp(…)"),
    Case("too few arguments", "pow(x)", "pow() takes 2 arguments, got 1", error_kind="arity"),
    Case("too many arguments", "exp(x, y)", "exp() takes 1 argument, got 2"),
    Case("no arguments", "sigmoid()", "sigmoid() needs 1 argument"),
    # -- Python, SQL, shell: refused, never run --
    Case("python import", f"__import__('os').system('touch {CANARY}')", "unknown function '__import__'"),
    Case("dunder attribute", "().__class__", "empty parentheses '()'"),
    Case("lambda", "lambda: 1", "this is Python's lambda, not part of the bpcalc language"),
    Case("conditional expression", "x if y else z", "'if' is Python, not part of the bpcalc language"),
    Case("list of names", "[x]", "'x' inside [...]: a literal holds numbers only"),
    Case("f-string", "f'{x}'", "strings are not part of the bpcalc language"),
    Case("attribute access", "x.real", "'.real' is not part of the bpcalc language: the only attribute is .T"),
    Case("sql", "x; DROP TABLE users; --", "missing operator between 'DROP' and 'TABLE'"),
    Case("shell and", f"x && touch {CANARY}", "unexpected character '&'"),
    Case("shell substitution", f"$(touch {CANARY})", "unexpected character '$'"),
    Case("backticks", f"`touch {CANARY}`", "unexpected character '`'"),
    # -- bytes and Unicode --
    Case("NUL byte", None, "NUL byte in the program", argv=("-",), stdin=b"x + \x00 1"),
    Case("invalid UTF-8", None, "invalid UTF-8 (byte 0xff at byte offset 4)", argv=("-",), stdin=b"x + \xff"),
    Case("U+2212 minus is accepted", "x \u2212 1", "", code=0),
    Case("full-width letter", "\uff58 + 1", "did you mean 'x'?"),
    Case("zero-width space", "x\u200b+ 1", "invisible or control character U+200B ZERO WIDTH SPACE"),
    Case("superscript", "x\u00b2", "superscript '²' is not supported; write ^2"),
    # -- names and bindings --
    Case("name used before assignment", "y = x * 2\nx = 3\ny + x", "'x' is an input (its value comes from --at)",
         code=0),
    Case("name too long", "a" * 300, "a name longer than 256 characters", error_kind="limit"),
    Case("rebinding pi", "pi = x + 1\npi * 2", "", code=0),
    # -- --at values --
    Case("at without value", "x + 1", "'x' has no value; write x=<number>", at="x"),
    Case("at empty value", "x + 1", "no value after 'x='", at="x="),
    Case("at without name", "x + 1", "missing name before '='", at="=3"),
    Case("at not a number", "x + 1", "'abc' is not a number or a known constant", at="x=abc", error_kind="value"),
    Case("at duplicate", "x + 1", "'x' is given twice (x=1 and x=2)", at="x=1,x=2"),
    Case("at nan", "x + 1", "input values must be finite numbers", at="x=nan"),
    Case("at inf", "x + 1", "input values must be finite numbers", at="x=inf"),
    Case("at overflow", "x + 1", "input values must be finite numbers", at="x=1e400"),
    Case("missing value", "x * y", "missing value for input y; give it with --at y=…", at="x=1"),
    Case("unused at name", "x + 1", "--at w: the program has no input 'w'", at="x=1,w=2"),
    Case("at for an intermediate", "q = x + 1\nq * 2", "'q' is computed by the program, not an input", at="x=1,q=2"),
    # -- numbers a user can trust --
    Case("log of a negative", "log(x)", "log of a negative number (-1) in %1 `log(x)`", at="x=-1", error_kind="domain"),
    Case("log of zero", "log(x)", "log of 0", at="x=0"),
    Case("division by zero", "1/x", "division by zero in %2 `1/x`", at="x=0"),
    Case("sqrt of a negative", "sqrt(x)", "sqrt of a negative number (-4)", at="x=-4"),
    Case("negative base, real power", "x^0.5", "negative base (-8) raised to a non-integer power", at="x=-8"),
    Case("zero to a negative power", "0^x", "0 raised to a negative power", at="x=-1"),
    Case("power tower", "9^9^9^9 + x", "overflows to inf", code=0),
    Case("huge literal", "1e400 * x", "the number 1e400 is too large for a double: it is inf", code=0),
    Case("exp overflow", "exp(x)", "exp(1000) overflows to inf", code=0, at="x=1000"),
    Case("sigmoid underflow", "sigmoid(x)", "sigmoid(-1000) underflows to 0", code=0, at="x=-1000"),
    Case("relu kink", "relu(x)", "relu'(0) = 0 (PyTorch convention)", code=0, at="x=0"),
    Case("sqrt infinite slope", "sqrt(x)", "sqrt'(0) = +inf", code=0, at="x=0"),
    Case("max tie", "max(x, y)", "gradient split 0.5/0.5", code=0, at="x=2,y=2"),
    # -- limits --
    Case("deep nesting works", None, "", code=0, argv=("-",),
         stdin=("(" * 100_000 + "x" + ")" * 100_000).encode()),
    Case("nesting over the limit", "(" * 1001 + "x" + ")" * 1001, "nesting deeper than 1,000 levels",
         argv=("--max-depth", "1000"), error_kind="limit"),
    Case("too many nodes", "x" + "+x" * 100, "more than 50 nodes", argv=("--max-nodes", "50")),
    Case("program too large", None, "larger than 100 bytes", argv=("-", "--max-bytes", "100"), stdin=b"x+" * 100 + b"x"),
    Case("dev zero", None, "/dev/zero is larger than 1,000 bytes", argv=("-f", "/dev/zero", "--max-bytes", "1000")),
    Case("missing file", None, "cannot read /nonexistent.bp", argv=("-f", "/nonexistent.bp")),
    Case("bad wrt", "x + y", "--wrt w: the program has no input 'w'", argv=("--wrt", "w"), at="x=1,y=2"),
]


def _argv(case: Case) -> list[str]:
    argv = ["grad"]
    if case.program is not None:
        argv.append(case.program)
    argv += list(case.argv)
    argv += ["--at", case.at, "--json", "--no-check"] if case.at else ["--json", "--no-check"]
    return argv


def test_the_catalogue_is_large():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nasty_input(case: Case):
    if os.path.exists(CANARY):
        os.remove(CANARY)
    run = run_cli(*_argv(case), stdin=case.stdin, timeout=60)
    assert run.code == case.code, (run.code, run.err)
    assert "Traceback" not in run.err and "Traceback" not in run.out
    doc = run.json()  # strict JSON in every case
    if case.code == 2:
        assert case.fragment in run.err, run.err
        assert set(doc) == {"schema", "error"} and case.fragment in doc["error"]["message"]
        if case.error_kind:
            assert doc["error"]["kind"] == case.error_kind
    else:
        assert doc["schema"] == "bpcalc.grad/1"
        assert case.fragment in "\n".join(doc["warnings"]), doc["warnings"]
    assert not os.path.exists(CANARY), "user text was run as code"


@pytest.mark.parametrize("case", [c for c in CASES if c.id in (
    "unbalanced open", "sigmod", "misspelled function", "python import", "zero-width space", "trailing operator",
)], ids=lambda c: c.id)
def test_same_answer_from_argument_file_and_stdin(case: Case, tmp_path):
    path = tmp_path / "prog.bp"
    path.write_text(case.program or "", encoding="utf-8")
    runs = [
        run_cli("grad", case.program or "", "--at", case.at, "--no-check"),
        run_cli("grad", "-f", str(path), "--at", case.at, "--no-check"),
        run_cli("grad", "-", "--at", case.at, "--no-check", stdin=case.program),
    ]
    for run in runs:
        assert run.code == 2 and case.fragment in run.err and "Traceback" not in run.err
    # the same line, column and caret whatever the origin
    assert runs[0].err.splitlines()[1:] == runs[1].err.splitlines()[1:] == runs[2].err.splitlines()[1:]
    assert f"{path}: line 1" in runs[1].err and "<stdin>: line 1" in runs[2].err


# --- every command gets the same protection --------------------------------------

NASTY_FOR_EVERY_COMMAND = [
    ("sigmod(x)", "unknown function 'sigmod'; did you mean sigmoid?"),
    ("(x + 1", "'(' is never closed"),
    (f"__import__('os').system('touch {CANARY}')", "unknown function '__import__'"),
    ("x\u200b+ 1", "U+200B ZERO WIDTH SPACE"),
    ("x if x else 1", "'if' is Python, not part of the bpcalc language"),
    ("", "empty program"),
]


def _command_argv(command: str, tmp_path) -> list[str]:
    if command == "batch":
        points = tmp_path / "points.csv"
        points.write_text("x\n1\n", encoding="utf-8")
        return ["--points", str(points)]
    extra = {"check": ["--expect-value", "0"], "graph": ["--format", "dot"]}.get(command, [])
    return ["--at", "x=1", *extra]


@pytest.mark.parametrize("command", ["grad", "check", "explain", "graph", "batch"])
@pytest.mark.parametrize("program, fragment", NASTY_FOR_EVERY_COMMAND,
                         ids=[f[1][:30] for f in NASTY_FOR_EVERY_COMMAND])
def test_every_command_refuses_nasty_programs(command, program, fragment, tmp_path):
    if os.path.exists(CANARY):
        os.remove(CANARY)
    run = run_cli(command, "-", *_command_argv(command, tmp_path), stdin=program.encode())
    assert run.code == 2, (command, run.code, run.err)
    assert fragment in run.err and "Traceback" not in run.err + run.out
    assert not os.path.exists(CANARY)


@pytest.mark.parametrize("command", ["grad", "check", "explain", "graph"])
def test_every_command_refuses_bad_values_and_undefined_points(command, tmp_path):
    argv = _command_argv(command, tmp_path)
    bad_at = run_cli(command, "log(x)", *[a if a != "x=1" else "x=abc" for a in argv])
    assert bad_at.code == 2 and "'abc' is not a number" in bad_at.err
    domain = run_cli(command, "log(x)", *[a if a != "x=1" else "x=-1" for a in argv])
    assert domain.code == 2 and "log of a negative number (-1) in %1 `log(x)`" in domain.err
    invalid = run_cli(command, "-", *argv, stdin=b"x + \xff")
    assert invalid.code == 2 and "invalid UTF-8" in invalid.err
    for run in (bad_at, domain, invalid):
        assert "Traceback" not in run.err + run.out


def test_batch_reports_undefined_points_in_their_rows(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x\n-1\n2\n", encoding="utf-8")
    run = run_cli("batch", "log(x)", "--points", str(points))
    assert run.code == 0 and "Traceback" not in run.err
    rows = run.out.splitlines()
    assert rows[1].startswith("2,-1,,,log of a negative number (-1)")  # each row repeats its point
    assert rows[2].startswith("3,2,0.693147")
    assert "1 with errors" in run.err


def test_a_64_mib_file_meets_the_default_limit(tmp_path):
    """The default --max-bytes (32 MiB) stops a 64 MiB file after reading at
    most the limit, with the message naming the file and the option."""
    big = tmp_path / "big.bp"
    with big.open("wb") as f:
        f.truncate(64 * 2**20)
    run = run_cli("grad", "-f", str(big), "--no-check")
    assert run.code == 2 and "Traceback" not in run.err
    assert f"{big} is larger than 33,554,432 bytes; raise the limit with --max-bytes" in run.err
