"""`bpcalc batch`: points mode (vectorized) and programs mode (grading)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import pty
import subprocess

import pytest

from bpcalc import batch
from bpcalc.errors import BpcalcError

from conftest import bpcalc_command, run_cli

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"


def rows_of(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_csv_points_give_the_same_numbers_as_grad(tmp_path) -> None:
    points = tmp_path / "points.csv"
    points.write_text("w0,x0,w1,x1,w2\n2,-1,-3,-2,-3\n0.5,0.25,-1,2,0\n")
    r = run_cli("batch", NEURON, "--points", str(points))
    assert r.code == 0 and r.err == ""
    rows = rows_of(r.out)
    assert [row["line"] for row in rows] == ["2", "3"]
    for row, at in zip(rows, ["w0=2,x0=-1,w1=-3,x1=-2,w2=-3", "w0=0.5,x0=0.25,w1=-1,x1=2,w2=0"]):
        doc = run_cli("grad", NEURON, "--at", at, "--json", "--no-check").json()
        assert math.isclose(float(row["value"]), doc["value"], rel_tol=1e-12)
        for name, g in doc["gradient"].items():
            assert math.isclose(float(row[f"grad_{name}"]), g, rel_tol=1e-12)
        assert row["error"] == "" and row["warnings"] == ""


def test_a_byte_order_mark_before_the_header_is_skipped(tmp_path) -> None:
    points = tmp_path / "excel.csv"
    points.write_bytes(b"\xef\xbb\xbfx,y\r\n2,3\r\n")  # what Excel writes for "CSV UTF-8"
    for argv in (("--points", str(points)), ("--points", "-", "--from", "csv")):
        r = run_cli("batch", "x*y", *argv, stdin=points.read_bytes())
        assert r.code == 0, r.err
        assert rows_of(r.out) == [{"line": "2", "x": "2", "y": "3", "value": "6.0", "grad_x": "3.0", "grad_y": "2.0",
                                   "error": "", "warnings": ""}]
    points.write_bytes(b"x,y\n2,\xef\xbb\xbf3\n")  # elsewhere it is still refused
    r = run_cli("batch", "x*y", "--points", str(points))
    assert r.code == 2 and "U+FEFF" in r.err


def test_jsonl_points_from_stdin_with_errors_and_kinks_in_their_rows() -> None:
    lines = ['{"x": 2, "y": 3}', '{"x": -1, "y": 1}', '', '{"x": 0, "y": "pi/4"}', '{"x": 1e300, "y": 1}']
    r = run_cli("batch", "log(x)*y + relu(x) + x^2", "--points", "-", stdin="\n".join(lines) + "\n")
    assert r.code == 0
    out = [json.loads(line) for line in r.out.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 4, 5]
    assert out[0]["error"] is None and out[0]["gradient"]["x"] == pytest.approx(3 / 2 + 1 + 4)
    assert "log of a negative number" in out[1]["error"] and out[1]["value"] is None
    assert "log of 0" in out[2]["error"]
    assert out[3]["value"] == "inf" and any("overflow" in w for w in out[3]["warnings"])
    assert "3 with errors" not in r.err and "2 with errors" in r.err


def test_kinks_and_formats(tmp_path) -> None:
    points = tmp_path / "p.jsonl"
    points.write_text('{"x": 0}\n{"x": 2}\n')
    r = run_cli("batch", "relu(x)*3", "--points", str(points), "--to", "csv")
    rows = rows_of(r.out)
    assert rows[0]["grad_x"] == "0.0" and "relu'(0) = 0" in rows[0]["warnings"]
    assert rows[1]["grad_x"] == "3.0" and rows[1]["warnings"] == ""
    r = run_cli("batch", "x*y", "--points", "-", "--from", "csv", "--wrt", "y", stdin="y,x\n2,5\n")
    assert rows_of(r.out) == [{"line": "2", "y": "2", "x": "5", "value": "10.0", "grad_y": "5.0", "error": "",
                               "warnings": ""}]


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y\n1,2\n3\n", "line 3: 1 values where the header has 2 columns"),
        ("x,y\n1,2\n3,abc\n", "line 3: y:"),
        ("x,y,value\n1,2,3\n", "a column 'value', which is also a column of the results"),
        ("x,why\n1,2\n", "line 1: no column for input y"),
        ("x\n1\n", "line 1: no column for input y"),
        ("x,y\n1,nan\n", "line 2: y:"),
        ('{"x": 1, "y": 2}\n{"x": 1}\n', "line 2: no value for input y"),
        ('{"x": 1, "y": 2}\n[1, 2]\n', "line 2: expected a JSON object"),
        ('{"x": 1, "y": NaN}\n', "line 1: not valid JSON"),
        ('{"x": 1, "y": true}\n', "line 1: y: expected a number"),
    ],
)
def test_bad_points_name_their_line_and_exit_2(text: str, message: str) -> None:
    r = run_cli("batch", "x*y", "--points", "-", stdin=text)
    assert r.code == 2, r.err
    assert message in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_rows_before_a_bad_line_are_written() -> None:
    r = run_cli("batch", "x+1", "--points", "-", "--to", "jsonl", stdin="x\n1\n2\nbad\n")
    assert r.code == 2 and [json.loads(o)["value"] for o in r.out.splitlines()] == [2.0, 3.0]


def test_line_length_is_bounded() -> None:
    long = io.StringIO("x\n" + "1" * (batch.MAX_LINE + 10) + "\n")
    with pytest.raises(BpcalcError, match="line 2: the line is longer"):
        list(batch.bounded_lines(long, "points"))


def test_many_points_in_chunks(tmp_path) -> None:
    n = batch.READ_CHUNK + 5
    points = tmp_path / "p.csv"
    points.write_text("x\n" + "".join(f"{k / n}\n" for k in range(n)))
    r = run_cli("batch", "sin(x)*x", "--points", str(points))
    rows = rows_of(r.out)
    assert len(rows) == n and rows[-1]["line"] == str(n + 1)
    x = (n - 1) / n
    assert float(rows[-1]["grad_x"]) == pytest.approx(math.cos(x) * x + math.sin(x), rel=1e-13)


def test_a_progress_bar_only_on_a_terminal(tmp_path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("x\n" + "0.5\n" * 200_000)
    piped = run_cli("batch", "x*2", "--points", str(points))
    assert piped.code == 0 and piped.err == ""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm"}
    proc = subprocess.Popen([*bpcalc_command(), "batch", "x*2", "--points", str(points)],
                            stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:  # read the terminal as the bar is drawn (a full pty would block the writer)
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0 and seen  # rich drew (and then cleared) a bar


# --- programs mode --------------------------------------------------------------


def test_programs_give_the_same_verdicts_as_check(tmp_path) -> None:
    lines = [
        {"program": "(x+y)*z", "at": {"x": -2, "y": 5, "z": -4}, "expect": {"x": -4, "y": -4, "z": 3}},
        {"program": "(x+y)*z", "at": "x=-2,y=5,z=-4", "expect": {"x": -4, "y": 4}, "expect-value": -12},
        {"program": NEURON, "at": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}, "expect": {"w0": -0.20}},
        {"program": "log(x)", "at": {"x": -1}},
        {"program": "x +* y"},
        {"program": "x*y", "at": {"x": 1, "y": 2}},
    ]
    path = tmp_path / "homework.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    r = run_cli("batch", "--programs", str(path))
    assert r.code == 1 and r.err.split("\n")[1].split() == ["6", "3", "1", "2"]  # lines, right, wrong, errors
    out = [json.loads(line) for line in r.out.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6]
    assert [o["ok"] for o in out] == [True, False, True, False, False, True]
    # the same verdicts as `bpcalc check`
    for o, line in zip(out[:3], lines[:3]):
        at = line["at"] if isinstance(line["at"], str) else ",".join(f"{k}={v}" for k, v in line["at"].items())
        args = ["check", line["program"], "--at", at, "--json"]
        args += ["--expect", ",".join(f"{k}={v}" for k, v in line["expect"].items())]
        if "expect-value" in line:
            args += ["--expect-value", str(line["expect-value"])]
        doc = run_cli(*args).json()
        assert doc["ok"] == o["ok"] and doc["summary"] == o["summary"]
        assert [c["ok"] for c in doc["claims"]] == [c["ok"] for c in o["claims"]]
    assert out[3]["error"]["kind"] == "domain" and out[4]["error"]["kind"] == "parse"
    assert out[5]["result"]["check"]["method"] == "sympy"
    # --jobs 2: the same records, in the same order (timings aside)
    def untimed(text: str) -> list[dict]:
        records = [json.loads(line) for line in text.splitlines()]
        for o in records:
            check = (o.get("result") or {}).get("check")
            if check:
                check.pop("seconds")
        return records

    assert untimed(run_cli("batch", "--programs", str(path), "--jobs", "2").out) == untimed(r.out)
    no_check = [json.loads(line) for line in run_cli("batch", "--programs", str(path), "--no-check").out.splitlines()]
    assert [o["ok"] for o in no_check] == [True, False, True, False, False, True]
    assert no_check[5]["result"]["check"] is None


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"program": 3}\n', 'line 1: "program" must be a string'),
        ('{"program": "x", "at": [1]}\n', 'line 1: "at" must be'),
        ('{"program": "x", "colour": 1}\n', 'line 1: unknown key "colour"'),
        ('{"program": "x", "at": {"x": 1}}\nnot json\n', "line 2: not valid JSON"),
    ],
)
def test_malformed_program_lines_are_error_records(text: str, message: str) -> None:
    r = run_cli("batch", "--programs", "-", "--no-check", stdin=text)
    record = json.loads(r.out.splitlines()[-1])
    assert r.code == 1 and f"line {record['line']}: {record['error']['message']}".startswith(message)
    assert record["ok"] is False and "Traceback" not in r.err


def test_usage_errors() -> None:
    assert run_cli("batch", "x").code == 2
    assert run_cli("batch", "x", "--points", "-", "--programs", "-").code == 2
    r = run_cli("batch", "x", "--points", "-", "--to", "xml", stdin="x\n1\n")
    assert r.code == 2 and "csv and jsonl" in r.err
    r = run_cli("batch", "x", "--points", "/nonexistent/points.csv")
    assert r.code == 2 and "cannot read" in r.err


def test_a_reader_that_stops_early_is_no_error(tmp_path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("x\n" + "0.5\n" * 300_000)
    proc = subprocess.Popen([*bpcalc_command(), "batch", "x*2", "--points", str(points)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().startswith(b"line,x,value")
    proc.stdout.close()
    assert proc.wait(timeout=120) == 141  # as a process killed by SIGPIPE
    assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()


def test_the_long_lived_sympy_worker_keeps_the_budget_contract() -> None:
    import time

    with batch.BudgetWorker() as worker:
        assert worker(pow, (2, 10), 5).value == 1024
        first = worker.pid
        assert worker(pow, (3, 2), 5).value == 9 and worker.pid == first  # the same child
        assert worker(time.sleep, (5,), 0.3).status == "timeout"
        assert worker.pid is None
        assert worker(pow, (2, 3), 5).value == 8  # a fresh child
        failed = worker(int, ("x",), 5)
        assert failed.status == "error" and "ValueError" in failed.error
        assert worker(time.sleep, (0,), 0).status == "timeout"


# --- issue 12 --------------------------------------------------------------------


def test_division_by_a_zero_constant_is_a_row_error_not_an_internal_error() -> None:
    r = run_cli("batch", "x/0", "--points", "-", stdin="x\n1\n2\n")
    assert r.code == 0, r.err
    assert [row["error"] for row in rows_of(r.out)] == ["division by zero in %2 `x/0`"] * 2
    r = run_cli("batch", "1e400/0 + x", "--points", "-", stdin="x\n1\n")
    assert r.code == 0, r.err
    assert [(row["value"], row["grad_x"]) for row in rows_of(r.out)] == [("inf", "1.0")]


def test_an_ill_conditioned_point_gets_grads_numbers_and_says_so() -> None:
    # cos of a number near 1e230: numpy's and the math module's last bits differ,
    # and here that changes the value completely (-1.2445 in numpy)
    program = "1.5*cos(exp(y)^exp(sigmoid(3)))"
    r = run_cli("batch", program, "--points", "-", stdin="y\n230.72562134532865\n1\n")
    assert r.code == 0, r.err
    sensitive, regular = rows_of(r.out)
    grad = run_cli("grad", program, "--at", "y=230.72562134532865", "--json", "--no-check").json()
    assert (float(sensitive["value"]), float(sensitive["grad_y"])) == (grad["value"], grad["gradient"]["y"])
    assert sensitive["warnings"] == batch.ILL_CONDITIONED
    assert regular["warnings"] == ""


def test_program_lines_carry_tensor_values_and_claims() -> None:
    # f = sum(W @ x): dW[i, j] = x[j], dx = W.T @ [1, 1] = column sums of W (by hand)
    lines = [
        {"program": "sum(W @ x)", "at": {"W": [[1, 2], [3, 4]], "x": [1, -1]},
         "expect": {"W": [[1, -1], [1, -1]], "x[1]": 6}},
        {"program": "sum(W @ x)", "at": {"W": [[1, 2], [3, 4]], "x": [1, -1]}, "expect": {"W[0,1]": 1}},
        {"program": "sum(W @ x)", "at": {"W": [[1, 2], [3, 4]], "x": [1, -1]}, "expect": {"W": [1, 2]}},
    ]
    r = run_cli("batch", "--programs", "-", "--no-check", stdin="\n".join(json.dumps(x) for x in lines))
    assert r.code == 1
    rows = [json.loads(line) for line in r.out.splitlines()]
    assert [row["ok"] for row in rows[:2]] == [True, False]
    assert [(c["what"], c["correct"], c["ok"]) for c in rows[1]["claims"]] == [("∂f/∂W[0, 1]", -1.0, False)]
    assert [c["index"] for c in rows[0]["claims"]] == [[0, 0], [0, 1], [1, 0], [1, 1], [1]]
    assert "the claim is a vector of 2 entries, and W is a 2×2 matrix" in rows[2]["error"]["message"]


def test_columns_that_are_not_inputs_are_carried_into_the_rows(tmp_path) -> None:
    """Issue 14 item 4: id and name come back unchanged, and each row repeats
    the point's input values; every input still needs its column. x*y at
    (2, 3) is 6 with gradient (3, 2), by hand."""
    points = tmp_path / "class.csv"
    points.write_bytes(b'\xef\xbb\xbfid,name,x,y\r\ns01,"Lee, Ann",2,3\r\ns02,Bo,-1,0.50\r\n')
    r = run_cli("batch", "x*y", "--points", str(points))
    assert r.code == 0, r.err
    assert rows_of(r.out) == [
        {"line": "2", "id": "s01", "name": "Lee, Ann", "x": "2", "y": "3", "value": "6.0", "grad_x": "3.0",
         "grad_y": "2.0", "error": "", "warnings": ""},
        {"line": "3", "id": "s02", "name": "Bo", "x": "-1", "y": "0.50", "value": "-0.5", "grad_x": "0.5",
         "grad_y": "-1.0", "error": "", "warnings": ""},
    ]
    r = run_cli("batch", "x*y", "--points", "-", stdin='{"id": 7, "x": 2, "y": "pi"}\n')
    assert json.loads(r.out)["point"] == {"id": 7, "x": 2, "y": "pi"}
    r = run_cli("batch", "x*y", "--points", "-", "--to", "csv", stdin='{"id": [1], "x": 2, "y": 3}\n')
    assert rows_of(r.out)[0]["id"] == "[1]"
    r = run_cli("batch", "x*y", "--points", "-", stdin="id,x\n1,2\n")
    assert r.code == 2 and "no column for input y" in r.err


def test_reduce_gives_the_loss_over_a_data_set(tmp_path) -> None:
    """Issue 14 item 5: L = Σ_n C^n, ∂L/∂w = Σ_n ∂C^n/∂w (Hung-yi Lee). By hand,
    C = (w·x − t)² at w = 1 over (x, t) = (1, 2), (2, 3): C = 1 + 1 = 2,
    ∂C/∂w = 2(wx − t)x = −2 − 4 = −6; the mean halves both."""
    data = tmp_path / "data.csv"
    data.write_text("n,w,x,t\n1,1,1,2\n2,1,2,3\n")
    r = run_cli("batch", "(w*x - t)^2", "--points", str(data), "--reduce", "sum", "--wrt", "w")
    assert r.code == 0, r.err
    assert rows_of(r.out) == [{"reduce": "sum", "rows": "2", "value": "2.0", "grad_w": "-6.0", "error": "",
                               "warnings": ""}]
    r = run_cli("batch", "(w*x - t)^2", "--points", str(data), "--reduce", "mean", "--to", "jsonl")
    assert json.loads(r.out) == {"reduce": "mean", "rows": 2, "value": 1.0,
                                 "gradient": {"w": -3.0, "x": -2.0, "t": 2.0}, "warnings": [], "error": None}
    r = run_cli("batch", "log(x)", "--points", "-", "--reduce", "sum", "--to", "jsonl", stdin="x\n1\n-1\n")
    doc = json.loads(r.out)
    assert doc["value"] is None and doc["error"].startswith("line 3: log of a negative number")
    assert run_cli("batch", "x", "--points", "-", "--reduce", "max", stdin="x\n1\n").code == 2


def test_points_of_a_program_with_vectors_and_matrices() -> None:
    # f = Σ W·x: ∂f/∂W[i, j] = x[j], ∂f/∂x[j] = Σ_i W[i, j] (by hand, per point)
    lines = ['{"id": "a", "W": [[1, 2], [3, 4]], "x": [1, 0]}', '{"id": "b", "W": [[0, 1], [1, 0]], "x": [2, 3]}',
             '{"id": "c", "W": [[1, 2, 3]], "x": [1, 0]}']
    r = run_cli("batch", "f = sum(W @ x)", "--points", "-", stdin="\n".join(lines) + "\n")
    assert r.code == 0, r.err
    out = [json.loads(line) for line in r.out.splitlines()]
    assert out[0]["value"] == 4 and out[0]["gradient"] == {"W": [[1, 0], [1, 0]], "x": [4, 6]}
    assert out[1]["value"] == 5 and out[1]["gradient"] == {"W": [[2, 3], [2, 3]], "x": [1, 1]}
    assert out[0]["point"]["id"] == "a"
    assert out[2]["error"] == "W @ x: W is 1×3 and x has 2 entries: the inner sizes 3 and 2 differ"
    assert "1 with errors" in r.err
    r = run_cli("batch", "f = sum(W @ x)", "--points", "-", "--to", "csv", stdin="\n".join(lines[:2]) + "\n")
    assert rows_of(r.out)[1]["grad_W"] == "[[2.0,3.0],[2.0,3.0]]"
    r = run_cli("batch", "f = sum(W @ x)", "--points", "-", "--reduce", "sum", stdin="\n".join(lines[:2]) + "\n")
    assert json.loads(r.out)["gradient"] == {"W": [[3, 3], [3, 3]], "x": [5, 7]}  # the two rows added
    r = run_cli("batch", "f = sum(W @ x)", "--points", "-", stdin='{"W": [[1, 2]], "x": [1, true]}\n')
    assert r.code == 2 and r.err == "error: <stdin>: line 1: x[1] must be a number, got True\n"


# --- in Chinese (issue 17) ----------------------------------------------------------


def test_in_chinese_the_rows_stay_english_and_the_summary_is_chinese() -> None:
    lines = ['{"x": 2, "y": 3}', '{"x": -1, "y": 1}', '{"x": 0, "y": 1}', '{"x": 1e300, "y": 1}']
    points = "\n".join(lines) + "\n"
    program = "log(x)*y + relu(x) + x^2"
    english = run_cli("batch", program, "--points", "-", stdin=points)
    chinese = run_cli("batch", program, "--points", "-", "--lang", "zh", stdin=points)
    assert chinese.code == english.code == 0
    assert chinese.out == english.out  # byte for byte: rows are for scripts
    rows = [json.loads(line) for line in chinese.out.splitlines()]
    assert rows[1]["error"] == "log of a negative number (-1) in %2 `log(x)`"
    assert rows[3]["warnings"][0] == "%7 `x^2`: pow(1e+300, 2) overflows to inf"
    assert english.err == "bpcalc batch: 4 rows; 2 with errors, 1 with warnings (see their rows)\n"
    assert chinese.err.splitlines()[-1].endswith("共 4 行；2 行出错，1 行有警告（见这些行的结果）")
    reduced = run_cli("batch", program, "--points", "-", "--reduce", "sum", env={"BPCALC_LANG": "zh"}, stdin=points)
    assert json.loads(reduced.out)["error"] == "line 2: log of a negative number (-1) in %2 `log(x)`"


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y\n1,2\n3\n", "错误：<stdin>：第 3 行：有 1 个值，而表头有 2 列"),
        ("x,why\n1,2\n", "错误：<stdin>：第 1 行：没有输入 y 的列; did you mean why?（不是输入的列会原样带入结果）"),
        ('{"x": 1, "y": 2}\n{"x": 1}\n', "错误：<stdin>：第 2 行：没有输入 y 的值"),
        ('{"x": 1, "y": true}\n', "错误：<stdin>：第 1 行：y：应为一个数，却是 true"),
        ("x,y,value\n1,2,3\n", "错误：这些点有一列 'value'，它也是结果中的一列：请给它改名"),
    ],
)
def test_in_chinese_bad_points_name_their_line_and_exit_2(text: str, message: str) -> None:
    r = run_cli("batch", "x*y", "--points", "-", "--lang", "zh", stdin=text)
    assert r.code == 2, r.err
    if "did you mean" in message:  # the suggestion is the parser's, in its own words
        before, after = message.split("; did you mean why?")
        assert r.err.startswith(before) and r.err.rstrip().endswith(after)
    else:
        assert r.err.rstrip() == message
