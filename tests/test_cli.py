"""Golden tests of `bpcalc grad` and `bpcalc ops` through the installed command."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import pytest

from conftest import SAMPLES, bpcalc_command, run_cli

GRAD_GOLDEN = """\
bpcalc grad (x+y)*z
at x = -2, y = 5, z = -4
node   op      expression   value   gradient
────────────────────────────────────────────
x      input   x               -2         -4
y      input   y                5         -4
z      input   z               -4          3
%3     add     x+y              3         -4
%4     mul     (x+y)*z        -12          1

f = -12
∂f/∂x = -4
∂f/∂y = -4
∂f/∂z = 3

check against SymPy (rtol 1e-9, atol 1e-12): ✓ all agree
input   ∂f/∂input (SymPy)   SymPy value   engine   finite diff.   verdict
─────────────────────────────────────────────────────────────────────────
x       z                            -4       -4             -4   ✓
y       z                            -4       -4             -4   ✓
z       x + y                         3        3              3   ✓
"""


def lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_grad_prints_table_gradient_and_check():
    run = run_cli("grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4")
    assert run.code == 0 and run.err == ""
    assert lines(run.out) == GRAD_GOLDEN


def test_python_dash_m_is_the_same_command():
    proc = subprocess.run(
        [sys.executable, "-m", "bpcalc", "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--json", "--no-check"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0 and '"gradient"' in proc.stdout


def test_program_from_stdin_and_file(tmp_path):
    run = run_cli("grad", "-", "--at", "x=3", "--json", "--no-check", stdin="q = x*x\nq + x # comment\n")
    assert run.json()["gradient"] == {"x": 7.0}
    path = tmp_path / "p.bp"
    path.write_text("x^3", encoding="utf-8")
    run = run_cli("grad", "-f", str(path), "--at", "x=2", "--json", "--no-check")
    assert run.json()["gradient"] == {"x": 12.0}


def test_json_document():
    run = run_cli("grad", "1/(1+exp(-(w0*x0+w1*x1+w2)))", "--at", "w0=2,x0=-1", "--at", "w1=-3,x1=-2,w2=-3", "--json")
    assert run.code == 0
    doc = run.json()
    assert set(doc) >= {"schema", "program", "at", "value", "gradient", "nodes", "check", "warnings"}
    assert doc["schema"] == "bpcalc.grad/1"
    assert round(doc["value"], 6) == 0.731059
    assert {k: round(v, 3) for k, v in doc["gradient"].items()} == {
        "w0": -0.197, "x0": 0.393, "w1": -0.393, "x1": -0.59, "w2": 0.197,
    }
    assert doc["check"]["ok"] is True and doc["check"]["method"] == "sympy"
    assert doc["check"]["inputs"]["w2"]["derivative"] == (
        "exp(-w0*x0 - w1*x1 - w2)/(exp(-w0*x0 - w1*x1 - w2) + 1)**2"
    )
    node = doc["nodes"][-1]
    assert {k: node[k] for k in ("op", "inputs", "text", "grad")} == {
        "op": "div", "inputs": [5, 13], "text": "1/(1+exp(-(w0*x0+w1*x1+w2)))", "grad": 1.0,
    }


def test_wrt_limits_the_report():
    run = run_cli("grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--wrt", "z,x", "--json")
    doc = run.json()
    assert doc["gradient"] == {"z": 3.0, "x": -4.0}
    assert list(doc["check"]["inputs"]) == ["z", "x"]


def test_no_check():
    run = run_cli("grad", "x*y", "--at", "x=2,y=3", "--no-check")
    assert run.code == 0 and "check" not in run.out and "∂f/∂x = 3" in run.out
    assert run_cli("grad", "x*y", "--at", "x=2,y=3", "--no-check", "--json").json()["check"] is None


def test_a_check_mismatch_exits_1():
    # A wrong rule in the op table (here, exp' = 2*exp) is what the check is
    # for: the command shows ✗ and exits 1.
    bug = ("import dataclasses, sys; from bpcalc import ops; "
           "ops.OPS['exp'] = dataclasses.replace(ops.OPS['exp'], partials=lambda a, out: (2 * out,)); "
           "from bpcalc.cli import main; sys.argv = ['bpcalc'] + sys.argv[1:]; main()")
    proc = subprocess.run(
        [sys.executable, "-c", bug, "grad", "1/(1+exp(-(w0*x0+w1*x1+w2)))", "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    assert proc.returncode == 1, proc.stderr
    assert "✗ MISMATCH" in proc.stdout and proc.stdout.count("✗") == 6  # the title and 5 inputs


def test_last_bit_rounding_is_not_a_mismatch_even_at_zero_tolerance():
    run = run_cli("grad", "1/(1+exp(-(w0*x0+w1*x1+w2)))", "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
                  "--rtol", "0", "--atol", "0")
    assert run.code == 0 and "✓ within rounding" in run.out and "floating-point rounding" in run.out


def test_errors_have_a_caret_and_exit_2():
    run = run_cli("grad", "sigmod(x) + 1", "--at", "x=1")
    assert run.code == 2 and run.out == ""
    assert run.err.splitlines() == [
        "error: line 1, column 1: unknown function 'sigmod'; did you mean sigmoid?",
        "  sigmod(x) + 1",
        "  ^^^^^^",
    ]
    assert "Traceback" not in run.err


def test_errors_in_json_mode_are_a_document_too():
    run = run_cli("grad", "log(x)", "--at", "x=-1", "--json")
    assert run.code == 2
    assert run.json() == {
        "schema": "bpcalc.grad/1",
        "error": {"kind": "domain", "message": "log of a negative number (-1) in %1 `log(x)`",
                  "line": 1, "column": 1},
    }
    assert run.err.startswith("error: line 1, column 1: log of a negative number")


def test_missing_and_unused_values():
    run = run_cli("grad", "(x+y)*z", "--at", "x=1")
    assert run.code == 2 and "missing values for inputs y, z" in run.err
    run = run_cli("grad", "x+1", "--at", "x=1,w=2")
    assert run.code == 2 and "the program has no input 'w'" in run.err


def test_warnings_are_printed():
    run = run_cli("grad", "relu(x) * 3", "--at", "x=0")
    assert run.code == 0
    assert "warning: %1 `relu(x)`: relu'(0) = 0 (PyTorch convention)" in run.out
    assert "kink: convention used" in run.out or "✓" in run.out


def test_usage_errors_exit_2():
    assert run_cli("grad").code == 2
    assert run_cli("grad", "x", "--bogus").code == 2
    run = run_cli("grad", "x", "-f", str(SAMPLES / "apples.bp"))
    assert run.code == 2 and "not both" in run.err


def test_max_rows_truncates_and_says_so():
    run = run_cli("grad", "x" + "+x" * 30, "--at", "x=1", "--no-check", "--max-rows", "5")
    assert "… 26 more nodes not shown (--max-rows 0 shows all; --json has every node)" in run.out


def test_ops_lists_every_primitive_with_rules_and_conventions():
    run = run_cli("ops")
    assert run.code == 0
    for name in ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "softplus",
                 "abs", "max", "min", "pow"]:
        assert f"\n{name} " in "\n" + run.out or f"│ {name} " in run.out
    assert "relu'(0) = 0" in run.out and "0.5/0.5" in run.out
    doc = run_cli("ops", "--json").json()
    sigmoid = next(op for op in doc["ops"] if op["name"] == "sigmoid")
    assert sigmoid["derivatives"] == ["∂/∂a = sigmoid(a)*(1 - sigmoid(a))"]
    log = next(op for op in doc["ops"] if op["name"] == "log")
    assert log["syntax"] == "log(a), ln(a)"


def test_ops_lists_every_course_function_with_its_spellings_and_conventions():
    from bpcalc.ops import FUNCTIONS

    run = run_cli("ops", env={"COLUMNS": "200"})
    assert run.code == 0
    for name in FUNCTIONS:
        assert f"{name}(" in run.out, name
    assert "leaky_relu(a), leaky_relu(a, b) (b = 0.01 when left out)" in run.out
    assert "max(a, b, …)" in run.out
    assert "sign'(0) = 0 (a jump)" in run.out and "at (0, 0): both partials 0" in run.out
    doc = {op["name"]: op for op in run_cli("ops", "--json").json()["ops"]}
    assert doc["elu"]["defaults"] == {"b": 1.0} and doc["elu"]["min_args"] == 1
    assert doc["max"]["variadic"] and not doc["atan2"]["variadic"]
    assert doc["max"]["kinks"] == "a tie splits the gradient evenly: 0.5/0.5, 1/k each for a k-way tie"
    assert doc["asin"]["syntax"] == "asin(a), arcsin(a)" and doc["silu"]["aliases"] == ["swish"]
    assert doc["atan2"]["derivatives"] == ["∂/∂a = b/(a^2 + b^2)", "∂/∂b = -a/(a^2 + b^2)"]


def test_program_text_is_never_read_as_rich_markup():
    run = run_cli("grad", "(x + # [red]hi[/red]\n y)*2", "--at", "x=1,y=2", "--no-check")
    assert run.code == 0 and "x + # [red]hi[/red] y" in run.out


def test_a_reader_that_goes_away_gives_141_quietly():
    script = (f'"{bpcalc_command()[0]}" grad "x" --at x=1 --max-rows 0 --no-check | head -c 10 > /dev/null; '
              'echo "${PIPESTATUS[0]}"')
    big = subprocess.run(["bash", "-c", script.replace('"x"', '"' + "x+" * 20000 + 'x"')],
                         capture_output=True, text=True)
    assert big.stdout.strip() == "141" and big.stderr == ""


# --- vectors and matrices through the installed command -----------------------

MATRIX = SAMPLES / "matrix"


def test_grad_with_vectors_prints_shapes_and_gradients():
    run = run_cli("grad", "sigmoid(w @ x + b)", "--at", "w=[2,-3],x=[-1,-2],b=-3")
    assert run.code == 0, run.err
    out = lines(run.out)
    assert "node   op        shape    expression           value      gradient\n" in out
    assert "w      input     2        w                    [2, -3]    [-0.196612, -0.393224]\n" in out
    assert "%3     matmul    scalar   w @ x                4          0.196612\n" in out
    assert "∂f/∂w = [-0.196612, -0.393224]\n∂f/∂x = [0.393224, -0.589836]\n∂f/∂b = 0.196612\n" in out
    assert "check against SymPy, entry by entry (rtol 1e-9, atol 1e-12): ✓ all agree" in out


def test_at_file_show_and_class_indices():
    run = run_cli("grad", "-f", str(MATRIX / "cs231n_dwx.bp"), "--at-file", str(MATRIX / "cs231n_dwx.point.json"),
                  "--show", "D", "--no-check")
    assert run.code == 0, run.err
    assert "∂f/∂W = [[4, -2, -7],\n         [-2, 3, 12.5]]" in run.out
    assert "D (2×2) = [[2, 1],\n           [1, 13.5]]\n∂f/∂D = [[1, -2],\n         [0.5, 3]]" in run.out
    run = run_cli("grad", "cross_entropy(s, y)", "--at", "s=[[1,2,0.5]],y=[2]", "--json")
    doc = run.json()
    assert doc["gradient"]["y"] is None and doc["nodes"][1]["grad"] is None
    run = run_cli("grad", "cross_entropy(s, y)", "--at", "s=[[1,2,0.5]],y=[2]")
    assert "∂f/∂y = none: class indices are data, not a variable" in run.out


def test_at_overrides_at_file(tmp_path):
    point = tmp_path / "p.json"
    point.write_text('{"x": [1, 2], "k": 3}')
    doc = run_cli("grad", "k * sum(x)", "--at-file", str(point), "--at", "k=10", "--json", "--no-check").json()
    assert doc["value"] == 30.0 and doc["at"] == {"x": [1.0, 2.0], "k": 10.0}


def test_tensor_json_has_shapes_and_nested_lists():
    doc = run_cli("grad", "sum(W @ x)", "--at", "W=[[1,2],[3,4]],x=[1,-1]", "--json").json()
    assert [n["shape"] for n in doc["nodes"]] == [[2, 2], [2], [2], []]
    assert doc["gradient"] == {"W": [[1.0, -1.0], [1.0, -1.0]], "x": [4.0, 6.0]}
    assert doc["check"]["ok"] is True and doc["check"]["inputs"]["W"]["sympy"] == [[1.0, -1.0], [1.0, -1.0]]


def test_shape_error_is_one_line_with_a_caret_and_json():
    run = run_cli("grad", "sum(W @ x)", "--at", "W=[[1,2,3],[4,5,6]],x=[1,2]")
    assert run.code == 2
    assert run.err == ("error: line 1, column 5: W @ x: W is 2×3 and x has 2 entries: the inner sizes 3 and 2 differ; "
                       "did you mean W.T @ x?\n  sum(W @ x)\n      ^^^^^\n")
    run = run_cli("grad", "sum(W @ x)", "--at", "W=[[1,2,3],[4,5,6]],x=[1,2]", "--json")
    assert run.code == 2 and run.json()["error"]["kind"] == "shape" and run.json()["error"]["column"] == 5


# --- issue 11, item 4: --exact and --derivative for vectors and matrices -----------

# J = ½‖T1·x1 − y‖² at T1 = [[1, 2], [3, 4]], x1 = [1, 2], y = [1, 1], by hand:
# T1·x1 = [5, 11], r = T1·x1 − y = [4, 10], J = ½(16 + 100) = 58;
# ∂J/∂T1 = r·x1ᵀ = [[4, 8], [10, 20]], ∂J/∂x1 = T1ᵀ·r = [34, 48], ∂J/∂y = −r.
LSQ = ("J = 0.5 * sum((T1 @ x1 - y)^2)", "--at", "T1=[[1,2],[3,4]],x1=[1,2],y=[1,1]")


def test_derivative_of_a_matrix_input_in_matrix_notation():
    run = run_cli("grad", *LSQ, "--derivative", "--no-check")
    assert run.code == 0, run.err
    assert run.out.endswith(
        "derivatives (matrix notation, checked against the gradient at this point):\n"
        "  ∂J/∂T1 = (T1·x1 − y)·x1ᵀ\n"
        "  ∂J/∂x1 = T1ᵀ·(T1·x1 − y)\n"
        "  ∂J/∂y = −(T1·x1 − y)\n"
        "LaTeX:\n"
        "  \\frac{\\partial J}{\\partial \\mathbf{T}_{1}} = "
        "\\left(\\mathbf{T}_{1} \\mathbf{x}_{1} - \\mathbf{y}\\right) \\mathbf{x}_{1}^\\top\n"
        "  \\frac{\\partial J}{\\partial \\mathbf{x}_{1}} = "
        "\\mathbf{T}_{1}^\\top \\left(\\mathbf{T}_{1} \\mathbf{x}_{1} - \\mathbf{y}\\right)\n"
        "  \\frac{\\partial J}{\\partial \\mathbf{y}} = "
        "-\\left(\\mathbf{T}_{1} \\mathbf{x}_{1} - \\mathbf{y}\\right)\n")
    assert "∂J/∂T1 = [[4, 8],\n          [10, 20]]\n" in run.out
    doc = run_cli("grad", *LSQ, "--derivative", "--no-check", "--json").json()
    assert doc["derivatives"]["formulas"]["T1"] == {
        "form": "matrix", "text": "(T1·x1 − y)·x1ᵀ",
        "latex": "\\left(\\mathbf{T}_{1} \\mathbf{x}_{1} - \\mathbf{y}\\right) \\mathbf{x}_{1}^\\top"}


def test_exact_entries_of_a_tensor_program():
    # total = (100·2 + 150·3)·1.1 = 715; ∂total/∂price = n·tax = [11/5, 33/10] (doubles 2.2, 3.3000000000000003)
    run = run_cli("grad", "total = sum(price * n) * tax", "--at", "price=[100,150],n=[2,3],tax=1.1", "--exact")
    assert run.code == 0, run.err
    assert ("total = 715\n"
            "∂total/∂price = [11/5, 33/10]\n"
            "              ≈ [2.2, 3.3]\n"
            "∂total/∂n = [110, 165]\n"
            "∂total/∂tax = 650\n") in run.out
    assert "exact value   exact gradient" in run.out
    assert "[11/10, 11/10]" in run.out  # the gradient of price * n, exact, in the table
    doc = run_cli("grad", "total = sum(price * n) * tax", "--at", "price=[100,150],n=[2,3],tax=1.1", "--exact",
                  "--json").json()
    assert doc["exact"]["gradient"] == {"price": ["11/5", "33/10"], "n": ["110", "165"], "tax": "650"}
    assert doc["nodes"][0]["exact"] == {"value": ["100", "150"], "grad": ["11/5", "33/10"]}


def test_exact_falls_back_to_floats_with_a_note():
    run = run_cli("grad", "sum(x * x)", "--at", "x=[1,2]", "--exact", "--budget", "0", "--no-check")
    assert run.code == 0 and "exact value" not in run.out
    assert run.out.endswith("\nwarning: exact mode: SymPy ran out of its 0 s budget; values are floats\n")
    assert "∂f/∂x = [2, 4]\n" in run.out


def test_entry_by_entry_when_the_rules_do_not_compose():
    # f = max(w0 x0, w1 x1): ∂f/∂w0 = x0·H(w0 x0 − w1 x1), ∂f/∂x1 = w1·H(w1 x1 − w0 x0)
    run = run_cli("grad", "f = max(w * x)", "--at", "w=[1,-1],x=[2,3]", "--derivative", "--no-check")
    assert run.code == 0, run.err
    assert ("derivatives (entry by entry, simplified by SymPy):\n"
            "  ∂f/∂w, ∂f/∂x entry by entry: f `max(w * x)` has no rule in matrix notation here\n"
            "  ∂f/∂w[0] = x[0]*Heaviside(w[0]*x[0] - w[1]*x[1])\n"
            "  ∂f/∂w[1] = x[1]*Heaviside(-w[0]*x[0] + w[1]*x[1])\n") in run.out
    assert ("  \\frac{\\partial f}{\\partial w_{1}} = x_{1} \\theta\\left(- w_{0} x_{0} + w_{1} x_{1}\\right)\n"
            in run.out)
    doc = run_cli("grad", "f = max(w * x)", "--at", "w=[1,-1],x=[2,3]", "--derivative", "--no-check",
                  "--json").json()
    assert doc["derivatives"]["formulas"]["x"]["form"] == "entries"
    assert doc["derivatives"]["formulas"]["x"]["entries"] == ["w[0]*Heaviside(w[0]*x[0] - w[1]*x[1])",
                                                              "w[1]*Heaviside(-w[0]*x[0] + w[1]*x[1])"]
    run = run_cli("grad", "f = max(w * x) + sum(v)", "--at", "w=[1,-1],x=[2,3],v=[1,2]", "--derivative",
                  "--no-check", "--budget", "0")
    assert ("derivatives (matrix notation, checked against the gradient at this point; not every input has one):\n"
            "  ∂f/∂w, ∂f/∂x entry by entry: %4 `max(w * x)` has no rule in matrix notation here; "
            "no formula: SymPy ran out of its 0 s budget\n"
            "  ∂f/∂v = 𝟏\n") in run.out


def test_check_explain_and_graph_show_exact_entries():
    at = ("--at", "W=[[1,2],[3,4]],x=[0.1,3]")
    # W·x = [1·0.1 + 2·3, 3·0.1 + 4·3] = [61/10, 123/10]; f = 92/5; ∂f/∂W[0,0] = x[0] = 1/10
    run = run_cli("check", "sum(W @ x)", *at, "--expect", "W[0,0]=0.1", "--exact", "--derivative")
    assert run.code == 0, run.err
    assert "1/10 ≈ 0.1" in run.out and "  ∂f/∂W = 𝟏·xᵀ\n" in run.out
    run = run_cli("explain", "sum(W @ x)", *at, "--exact")
    assert run.code == 0 and "  n2 = W @ x = [61/10, 123/10] ≈ [6.1, 12.3]  (2, %2 in the grad table)\n" in run.out
    run = run_cli("graph", "sum(W @ x)", *at, "--exact")
    assert run.code == 0 and "2×2 [[1/10, 3], [1/10, 3]]" in run.out and "92/5" in run.out


MATRIX_SAMPLES = sorted((SAMPLES / "matrix").glob("*.bp"))


@pytest.mark.parametrize("sample", MATRIX_SAMPLES, ids=[p.stem for p in MATRIX_SAMPLES])
def test_every_command_takes_exact_and_derivative_on_the_tensor_samples(sample):
    at = ("--at-file", str(sample.with_suffix(".point.json")))
    for command, extra in (("grad", ["--exact", "--derivative", "--no-check"]),
                           ("check", ["--expect-file", str(sample.with_suffix(".expect.json")), "--exact"]),
                           ("explain", ["--exact"]), ("graph", ["--exact"])):
        run = run_cli(command, "-f", str(sample), *at, *extra, "--budget", "1")
        assert run.code == 0 and "error" not in run.err and "Traceback" not in run.err, (command, run.err)
        assert "for now" not in run.out + run.err


def test_bad_at_file(tmp_path):
    cases = {
        "[1, 2]": "expected a JSON object of input name -> number or nested list, got list",
        '{"x": [[1, 2], [3]]}': "x is ragged: x[1] has shape (1,), x[0] has (2,)",
        '{"x": NaN}': "NaN is not allowed: input values must be finite numbers",
        '{"x": 1, "x": 2}': "'x' is given twice",
        '{"x": "1"}': "x must be a number, got '1'",
        '{"x": [1,': "is not valid JSON",
    }
    for text, message in cases.items():
        path = tmp_path / "p.json"
        path.write_text(text)
        run = run_cli("grad", "sum(x)", "--at-file", str(path))
        assert run.code == 2 and message in run.err, (text, run.err)


# --- issue 12 --------------------------------------------------------------------


def test_option_values_that_are_not_finite_are_usage_errors():
    for option, value in [("--budget", "nan"), ("--budget", "inf"), ("--rtol", "nan"), ("--rtol", "inf"),
                          ("--atol", "nan"), ("--atol", "inf")]:
        run = run_cli("grad", "x", "--at", "x=1", option, value, "--json")
        assert run.code == 2, (option, value, run.err)
        assert run.json()["error"]["message"] == f"{option} must be a finite number, not {value}"
        assert run.err == f"error: {option} must be a finite number, not {value}\n"
        run = run_cli("grad", "x", "--at", "x=1", option, value)
        assert (run.code, run.out) == (2, ""), (option, value)
    for command in (["check", "x", "--at", "x=1", "--expect", "x=1"], ["explain", "x", "--at", "x=1"],
                    ["graph", "x", "--at", "x=1"]):
        run = run_cli(*command, "--budget", "inf")
        assert run.code == 2 and "--budget must be a finite number" in run.err, command


def test_non_finite_exponents_are_answered_not_internal_errors():
    for program, at, value in [("x^1e400", "x=0", "0.0"), ("0^exp(x)", "x=1000", "0.0"),
                               ("x^(exp(y) - exp(y))", "x=0,y=1000", "nan")]:
        run = run_cli("grad", program, "--at", at, "--json")
        assert run.code == 0, (program, run.err)
        assert str(run.json()["value"]) == value


def test_a_nan_output_is_never_checked_with_a_tick():
    run = run_cli("grad", "relu(sin(exp(x)))", "--at", "x=1000")
    assert run.code == 0
    assert "f = nan" in run.out and "∂f/∂x = nan" in run.out
    assert "✓" not in run.out
    assert "no gradient verified; 1 not checked" in run.out
    assert "warning: %2 `sin(exp(x))`: sin(inf) is undefined (nan); every value computed from it is nan" in run.out


def test_a_zero_local_derivative_wins_in_the_command_too():
    run = run_cli("grad", "x^relu(x)", "--at", "x=-0.5", "--json")
    assert run.code == 0
    doc = run.json()
    assert (doc["value"], doc["gradient"], doc["check"]["ok"]) == (1.0, {"x": 0.0}, True)


def test_a_program_that_starts_with_a_minus_sign_is_the_program():
    # every cross-entropy loss: -log(p); the reference is Python's math
    for argv in (("grad", "-log(p)", "--at", "p=0.3"), ("grad", "--at", "p=0.3", "-log(p)"),
                 ("grad", "--", "-log(p)", "--at", "p=0.3"), ("grad", "--at", "p=0.3", "--", "-log(p)")):
        run = run_cli(*argv, "--json", "--no-check")
        assert run.code == 0, (argv, run.err)
        doc = run.json()
        assert doc["program"] == "-log(p)"
        assert doc["value"] == -math.log(0.3) and math.isclose(doc["gradient"]["p"], -1 / 0.3, rel_tol=1e-15)


def test_a_minus_program_in_every_command(tmp_path):
    run = run_cli("check", "-x*y", "--at", "x=2,y=3", "--expect", "x=-3,y=-2", "--no-check")
    assert run.code == 0 and "✓ all 2 claims hold" in run.out
    run = run_cli("explain", "-x*y", "--at", "x=2,y=3")
    assert run.code == 0 and "∂f/∂x = -3" in run.out
    run = run_cli("graph", "-x", "--at", "x=2", "--format", "dot")
    assert run.code == 0 and run.out.startswith("digraph")
    points = tmp_path / "p.csv"
    points.write_text("x\n2\n")
    for argv in (("-pow(x,2)", "--points", str(points)), ("-p", str(points), "-pow(x,2)")):
        run = run_cli("batch", *argv)  # -pow(x,2) is not -p ow(x,2)
        assert run.code == 0, run.err
        assert run.out.splitlines() == ["line,x,value,grad_x,error,warnings", "2,2,-4.0,-4.0,,"]


def test_options_are_still_options_around_a_minus_program():
    run = run_cli("grad", "-x", "--at", "x=1", "-y")  # the program's place is taken
    assert run.code == 2 and "No such option: -y" in run.err
    run = run_cli("grad", "--expect-value", "-1", "x")  # not an option of grad
    assert run.code == 2 and "No such option: --expect-value" in run.err


@pytest.mark.parametrize("argv, message", [
    (("grad", "x", "--at", "x=1", "--digits", "-1"), "Invalid value for '--digits': -1 is not in the range 1<=x<=17."),
    (("grad", "x", "--at", "x=1", "--max-rows", "-5"), "Invalid value for '--max-rows': -5 is not in the range x>=0."),
    (("grad", "x", "--at", "x=1", "--bogus"), "No such option: --bogus"),
    (("grad", "x", "--at"), "Option '--at' requires an argument."),
    (("check", "x", "--at", "x=1", "--expect", "x=1", "--sig-figs", "0"),
     "Invalid value for '--sig-figs': 0 is not in the range 1<=x<=17."),
    (("ops", "--bogus"), "No such option: --bogus"),
])
def test_json_holds_for_usage_errors(argv, message):
    run = run_cli(argv[0], "--json", *argv[1:])
    assert run.code == 2
    schema = {"grad": "bpcalc.grad/1", "check": "bpcalc.check/1", "ops": "bpcalc.ops/1"}[argv[0]]
    assert run.json() == {"schema": schema, "error": {"kind": "usage", "message": message, "line": None, "column": None}}
    assert f"Error: {message}" in run.err
    assert run_cli(*argv).out == ""  # without --json, nothing on stdout


def test_the_check_headline_says_what_the_rows_say():
    run = run_cli("grad", "relu(x)", "--at", "x=0")
    assert run.code == 0
    assert ("check against SymPy (rtol 1e-9, atol 1e-12): no gradient verified; 1 at a kink (convention used)"
            in run.out.splitlines())
    assert "✓" not in run.out
    run = run_cli("grad", "relu(x)*y", "--at", "x=0,y=2")
    assert ("check against SymPy (rtol 1e-9, atol 1e-12): ✓ 1 agrees; 1 at a kink (convention used)"
            in run.out.splitlines())


# --- Chinese (issue 17): the messages a person reads on stderr -----------------

#: A Chinese locale, and no BPCALC_LANG (which `run_cli` sets to en by default)
ZH_LOCALE = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "BPCALC_LANG": ""}


def test_a_parse_error_in_chinese_points_at_the_place():
    # 损失 is two wide characters: the caret still sits under the bad one
    run = run_cli("grad", "损失 = x*2\n损失 + ｙ", "--at", "x=1", "--lang", "zh")
    assert run.code == 2 and run.out == ""
    assert run.err == ("错误：第 2 行第 6 列：全角或兼容字符 'ｙ'（U+FF59 FULLWIDTH LATIN SMALL LETTER Y）；"
                       "是不是想写 'y'？\n"
                       "  损失 + ｙ\n"
                       "         ^^\n")


def test_an_unknown_function_in_chinese_with_did_you_mean():
    run = run_cli("grad", "x*tahn(y)", "--at", "x=1,y=2", env={"BPCALC_LANG": "zh"})
    assert run.code == 2
    assert run.err == "错误：第 1 行第 3 列：未知函数 'tahn'；是不是想写 tanh？\n  x*tahn(y)\n    ^^^^\n"


def test_an_at_hint_in_chinese():
    run = run_cli("grad", "x*y", "--at", "x=1,5", "--lang", "zh")
    assert run.code == 2
    assert run.err.splitlines()[0] == (
        "错误：--at：第 1 行第 5 列：x=1,5 中逗号后的 '5' 不是 名=值 的形式：逗号用来分隔各个输入；小数请写成 1.5")
    run = run_cli("grad", "x*y", "--at", "x=1", "--lang", "zh")
    assert run.err.splitlines()[0] == "错误：第 1 行第 3 列：缺少输入 y 的值；请用 --at y=… 给出"


def test_a_shape_error_in_chinese():
    run = run_cli("grad", "W @ x", "--at", "W=[[1,2],[3,4]],x=[1,2]", "--lang", "zh")
    assert run.code == 2
    assert run.err.splitlines()[0] == ("错误：第 1 行第 1 列：输出 W @ x 是含 2 个元素的向量，而求梯度需要输出是一个数："
                                       "请用 sum(...) 或 mean(...) 把它归约为一个数")


def test_click_usage_errors_in_chinese():
    run = run_cli("grad", "x", "--at", "x=1", "--digits", "-1", "--lang", "zh")
    assert run.code == 2 and run.out == ""
    assert run.err == ("用法：bpcalc grad [OPTIONS] [program]\n"
                       "运行 'bpcalc grad --help' 查看帮助。\n"
                       "\n"
                       "错误：'--digits' 的值无效：-1 不在范围 1<=x<=17 内。\n")
    run = run_cli("grad", "x", "--at", "x=1", "--digitz", "3", "--lang", "zh")
    assert run.code == 2 and run.err.endswith("错误：没有这个选项：--digitz（可能是：--budget, --digits）\n")
    run = run_cli("grad", "x", "--at", "--lang", "zh")  # --lang is --at's value here, as click reads it
    assert run.code == 2 and run.err.endswith("\nError: Got unexpected extra argument(s) (zh)\n")
    run = run_cli("grad", "x", "--lang", "zh", "--at")
    assert run.code == 2 and run.err == "错误：选项 '--at' 需要一个值。\n"
    run = run_cli("grad", "x", "y", "--at", "x=1", "--lang", "zh")
    assert run.code == 2 and run.err.endswith("\n错误：多余的参数（y）\n")
    run = run_cli("grad", "x", "--at", "x=1", "--lang", "fr", env=ZH_LOCALE)
    assert run.code == 2 and run.err.endswith("\n错误：'--lang' 的值无效：'fr' 不是 'en', 'zh' 之一。\n")
    run = run_cli("grdd", "x", env={"BPCALC_LANG": "zh"})
    assert run.code == 2 and run.err == ("用法：bpcalc [OPTIONS] COMMAND [ARGS]...\n"
                                         "运行 'bpcalc --help' 查看帮助。\n\n"
                                         "错误：没有命令 'grdd'。是不是想用 'grad'？\n")


def test_click_usage_errors_in_english_are_clicks_own():
    run = run_cli("grad", "x", "--at", "x=1", "--digits", "-1")
    assert run.err == ("Usage: bpcalc grad [OPTIONS] [program]\n"
                       "Try 'bpcalc grad --help' for help.\n"
                       "\n"
                       "Error: Invalid value for '--digits': -1 is not in the range 1<=x<=17.\n")
    run = run_cli("grad", "x", "y", "--at", "x=1")
    assert run.err.endswith("\nError: Got unexpected extra argument(s) (y)\n")


def test_json_stays_english_in_chinese():
    run = run_cli("grad", "x*tahn(y)", "--at", "x=1,y=2", "--lang", "zh", "--json")
    assert run.code == 2
    assert run.json()["error"]["message"] == "unknown function 'tahn'; did you mean tanh?"
    assert run.err.startswith("error: line 1, column 3: unknown function 'tahn'")
    run = run_cli("grad", "x", "--at", "x=1", "--digits", "0", "--json", env=ZH_LOCALE)
    assert run.json()["error"]["message"] == "Invalid value for '--digits': 0 is not in the range 1<=x<=17."
    assert "Error: Invalid value for '--digits'" in run.err


def test_the_locale_chooses_chinese():
    run = run_cli("grad", "x+", "--at", "x=1", env=ZH_LOCALE)
    assert run.code == 2
    assert run.err == "错误：第 1 行第 2 列：表达式在 '+' 之后就结束了\n  x+\n   ^\n"
    assert run_cli("grad", "x+", "--at", "x=1", env={**ZH_LOCALE, "BPCALC_LANG": "en"}).err.startswith(
        "error: line 1, column 2: the expression ends after '+'")


def test_warnings_and_usage_in_chinese(tmp_path):
    run = run_cli("grad", "q = y*2\nx+1", "--at", "x=1,y=2", "--no-check", "--lang", "zh")
    assert run.code == 0
    assert "输入 'y' 不影响输出" in run.out + run.err
    run = run_cli("check", "x", "--at", "x=1", "--decimals", "2", "--sig-figs", "2", "--lang", "zh")
    assert run.code == 2 and run.err == "错误：--decimals 和 --sig-figs 只能给一个，不能同时给\n"
    run = run_cli("grad", "--lang", "zh")
    assert run.code == 2 and run.err == "错误：没有给出程序：请把程序作为参数写出，或用 -f FILE，或用 '-' 从标准输入读取\n"


# --- 中文 (issue 17): grad's table, its check and `bpcalc ops` in Chinese -----------

from rich.cells import cell_len  # noqa: E402

GRAD_GOLDEN_ZH = """\
bpcalc grad (x+y)*z
在 x = -2, y = 5, z = -4 处
节点   运算   表达式     值   梯度
──────────────────────────────────
x      输入   x          -2     -4
y      输入   y           5     -4
z      输入   z          -4      3
%3     add    x+y         3     -4
%4     mul    (x+y)*z   -12      1

f = -12
∂f/∂x = -4
∂f/∂y = -4
∂f/∂z = 3

与 SymPy 对照验证（rtol 1e-9, atol 1e-12）：✓ 全部一致
输入   ∂f/∂输入（SymPy）   SymPy 值   引擎   有限差分   结论
────────────────────────────────────────────────────────────
x      z                         -4     -4         -4   ✓
y      z                         -4     -4         -4   ✓
z      x + y                      3      3          3   ✓
"""


def tables(out: str) -> list[list[str]]:
    """Each table of the output: its heading line, its rule and its rows (up to the next blank line, or
    the note or the remark in parentheses under it)."""
    lines = out.split("\n")
    found = []
    for k, line in enumerate(lines):
        if k and set(line) == {"─"}:
            rows = [lines[k - 1], line]
            for row in lines[k + 1:]:
                if not row.strip() or row.startswith(("（", "注：")):
                    break
                rows.append(row)
            found.append(rows)
    return found


def test_grad_in_chinese_has_chinese_headings_and_verdicts():
    run = run_cli("grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--lang", "zh", env={"COLUMNS": "80"})
    assert run.code == 0 and run.err == ""
    assert lines(run.out) == GRAD_GOLDEN_ZH
    # the language also comes from BPCALC_LANG and from the locale
    by_variable = run_cli("grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", env={"COLUMNS": "80", "BPCALC_LANG": "zh"})
    assert by_variable.code == 0 and by_variable.out == run.out
    by_locale = run_cli("grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4",
                        env={"COLUMNS": "80", "BPCALC_LANG": "", "LC_ALL": "", "LANG": "zh_CN.UTF-8"})
    assert by_locale.code == 0 and by_locale.out == run.out


@pytest.mark.parametrize("argv", [
    ("(x+y)*z", "--at", "x=-2,y=5,z=-4"),
    ("relu(x)*y + exp(x)/(1 + x^2)", "--at", "x=0,y=2", "--lr", "0.1", "--exact"),
    ("-f", str(SAMPLES / "matrix" / "fc_relu.bp"), "--at-file", str(SAMPLES / "matrix" / "fc_relu.point.json")),
    ("-f", str(SAMPLES / "matrix" / "cs231n_two_layer.bp"), "--at-file",
     str(SAMPLES / "matrix" / "cs231n_two_layer.point.json"), "--lr", "0.5"),
], ids=["scalar", "scalar-lr-exact", "matrix", "matrix-summaries-lr"])
def test_chinese_tables_stay_aligned_at_80_columns(argv):
    run = run_cli("grad", *argv, "--lang", "zh", env={"COLUMNS": "80"})
    assert run.code == 0, run.err
    found = tables(run.out)
    assert len(found) == 2 and found[0][0].startswith("节点") and found[1][0].startswith("输入"), run.out
    for table in found:
        widths = {cell_len(line) for line in table}
        assert len(widths) == 1 and widths.pop() <= 80, "\n".join(table)


def test_a_matrix_gradient_of_a_wide_named_input_lines_up_under_its_first_row():
    # "∂f/∂权重 = " takes 11 columns (each Chinese character 2): the second row starts there
    run = run_cli("grad", "sum(权重 @ v)", "--at", "权重=[[1,2],[3,4]],v=[1,2]", "--no-check")
    assert run.code == 0, run.err
    out = run.out.splitlines()
    k = out.index("∂f/∂权重 = [[1, 2],")  # df/dW[i, j] = v[j], by hand
    first, second = out[k], out[k + 1]
    assert first.index("[[") == 9 and cell_len(first[:first.index("[[")]) == 11
    assert second == " " * 11 + " [1, 2]]"


def test_grad_in_chinese_lr_show_summaries_and_warnings():
    run = run_cli("grad", "relu(x)*y", "--at", "x=0,y=2", "--lr", "0.1", env={"BPCALC_LANG": "zh"})
    assert run.code == 0
    out = run.out.splitlines()
    assert out[2].split() == ["节点", "运算", "表达式", "值", "梯度", "更新一步后（lr=0.1）"]
    assert "用梯度下降法更新一步后，lr = 0.1（θ − lr·∂f/∂θ，都用这一个梯度）：" in out
    assert "与 SymPy 对照验证（rtol 1e-9, atol 1e-12）：✓ 1 个一致；1 个在不可导点（采用约定）" in out
    assert any(line.rstrip().endswith("不可导点：采用约定") for line in out)
    assert out[-1].startswith("警告：%2 `relu(x)`")
    matrix = SAMPLES / "matrix"
    run = run_cli("grad", "-f", str(matrix / "cs231n_two_layer.bp"), "--at-file",
                  str(matrix / "cs231n_two_layer.point.json"), "--show", "b1", "--no-check", "--lang", "zh")
    assert run.code == 0, run.err
    assert "在 X (3×4), W1 (4×5), b1 = [0.01, 0.02, -0.01, 0, 0.03]" in run.out
    assert "∂L/∂y = 无：类别索引是数据，不是变量" in run.out
    assert re.search(r"^reg +输入 +标量 +reg +0\.05 ", run.out, re.M)
    assert "\nb1 (5) = [0.01, 0.02, -0.01, 0, 0.03]\n" in run.out
    big = "W=[[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,-5]]"
    run = run_cli("grad", "sum(W * W)", "--at", big, "--show", "W", "--no-check", "--lang", "zh")
    assert run.code == 0, run.err
    assert "在 W (5×5) 处" in run.out and "最小 -5，最大 5，范数 16.5831" in run.out
    assert "∂f/∂W = 5×5：最小 -10，最大 10，范数 33.1662（--show W 显示全部）" in run.out
    assert "\nW (5×5) = [[1, 2, 3, 4, 5],\n           [1, 2, 3, 4, 5],\n" in run.out
    run = run_cli("grad", "sum(W * W)", "--at", "W=[[1,2],[3,4]]", "--show", "W", "--no-check", "--lang", "zh")
    assert "\nW (2×2) = [[1, 2],\n           [3, 4]]\n∂f/∂W = [[2, 4],\n         [6, 8]]\n" in run.out
    run = run_cli("grad", "cross_entropy(s, y)", "--at", "s=[[1,2,0.5]],y=[2]", "--lang", "zh")
    assert "—（数据）" in run.out and "与 SymPy 逐元素对照验证（rtol 1e-9, atol 1e-12）：✓ 全部一致" in run.out
    assert re.search(r"输入   形状   验证范围 +最大 \|引擎 − SymPy\|   结论", run.out)


def test_grad_in_chinese_json_stays_english():
    run = run_cli("grad", "relu(x)", "--at", "x=0", "--json", "--lang", "zh")
    assert run.code == 0 and run.json()["warnings"] == ["%1 `relu(x)`: relu'(0) = 0 (PyTorch convention)"]


def test_ops_in_chinese():
    run = run_cli("ops", "--lang", "zh", env={"COLUMNS": "200"})
    assert run.code == 0
    heading = next(line for line in run.out.splitlines() if "运算" in line)
    assert [cell.strip() for cell in heading.strip("┃").split("┃")] == ["运算", "写法", "局部导数", "在不可导点"]
    assert "leaky_relu(a), leaky_relu(a, b)（省略时 b = 0.01）" in run.out
    assert "sign'(0) = 0（跳跃点）" in run.out and "在 (0, 0) 处：两个偏导数都为 0" in run.out
    assert "相等时梯度平分：各 0.5；k 个相等时各 1/k" in run.out and "参数更多时：∂/∂x = 1 if x = max(a, b, …)" in run.out
    assert "常数：pi、e（程序可以重新赋值）。约定与 PyTorch 相同；每当取值点落在不可导点上，bpcalc 都会发出警告。" in run.out
    assert "向量和矩阵：上面的每个运算都逐元素进行（按 NumPy 的广播）" in run.out
    assert "矩阵乘积 a @ b" in run.out and "dA = dC，复制到被求和的每个元素" in run.out
    # scripts read English whatever the language
    doc = {op["name"]: op for op in run_cli("ops", "--json", env={"BPCALC_LANG": "zh"}).json()["ops"]}
    assert doc["max"]["kinks"] == "a tie splits the gradient evenly: 0.5/0.5, 1/k each for a k-way tie"
    assert doc["max"]["description"] == "larger of a and b; max(a, b, c, …) the largest of all"
    assert doc["max"]["derivatives"][-1].startswith("with more arguments: ∂/∂x = ")
