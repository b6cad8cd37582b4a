"""Grading a class with `bpcalc batch --programs` (issue 14 items 1-3, 9), through
the installed command. Reference answers are worked by hand: (x+y)*z at
x=-2, y=5, z=-4 is -12, with gradient x: -4, y: -4, z: 3 (cs231n)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bpcalc.grading import Fault, ProgramLine, read_line, record_message

from conftest import run_cli

AT = {"x": -2, "y": 5, "z": -4}


def class_file(tmp_path) -> str:
    lines = [
        json.dumps({"id": "alice", "meta": {"name": "Alice A.", "group": 3}, "program": "(x+y)*z", "at": AT,
                    "expect": {"x": -4, "y": -4, "z": 3}}),
        json.dumps({"id": "bob", "program": "(x+y)*z", "at": AT, "expect": {"x": -4, "y": 4}, "expect-value": -12}),
        "{this is not json",
        json.dumps({"id": 7, "program": "(x+y)*z", "at": AT, "expect_value": -12}),
        json.dumps({"id": ["team", 2], "program": "x +* y", "at": {"x": 1}}),
        '{"id": "dave", "program": "x*y", "at": {"x": 1, "x": 2}}',
        "",
        json.dumps({"id": "erin", "program": "x*y", "at": {"x": 1}}),
    ]
    path = tmp_path / "class.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_class_with_ids_wrong_answers_and_malformed_lines(tmp_path) -> None:
    r = run_cli("batch", "--programs", class_file(tmp_path), "--no-check")
    assert r.code == 1, r.err
    records = [json.loads(line) for line in r.out.splitlines()]
    assert [rec["line"] for rec in records] == [1, 2, 3, 4, 5, 6, 8]
    assert [rec.get("id") for rec in records] == ["alice", "bob", None, 7, ["team", 2], "dave", "erin"]
    assert records[0]["meta"] == {"name": "Alice A.", "group": 3} and records[0]["ok"] is True
    assert records[1]["ok"] is False and records[1]["error"] is None  # y: 4 is wrong (it is -4)
    assert "id" not in records[2] and "not valid JSON" in records[2]["error"]["message"]
    assert records[3]["error"]["message"].startswith('unknown key "expect_value"')
    assert "did you mean expect-value?" in records[3]["error"]["message"]
    assert records[4]["error"]["kind"] == "parse"
    assert records[5]["error"]["message"] == '"x" is given twice (a key may appear once, as in --at)'
    # item 9: the record's "at", not --at
    assert records[6]["error"]["message"] == 'missing value for input y; give it in the record\'s "at": y=…'
    assert all(rec["ok"] is False for rec in records[2:])
    assert r.err.splitlines() == ["lines  all right  some wrong  errors", "    7          1           1       5"]


def test_the_class_as_csv(tmp_path) -> None:
    r = run_cli("batch", "--programs", class_file(tmp_path), "--to", "csv", "--jobs", "2")
    assert r.code == 1, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert list(rows[0]) == ["line", "id", "claim", "claimed", "correct", "judged_at", "verdict", "error"]
    alice = [row for row in rows if row["id"] == "alice"]
    assert [(row["claim"], row["claimed"], float(row["correct"]), row["verdict"]) for row in alice] == [
        ("∂f/∂x", "-4", -4.0, "right"), ("∂f/∂y", "-4", -4.0, "right"), ("∂f/∂z", "3", 3.0, "right")]
    bob = [row for row in rows if row["id"] == "bob"]
    assert [(row["claim"], row["verdict"]) for row in bob] == [("∂f/∂x", "right"), ("∂f/∂y", "wrong"),
                                                                 ("f", "right")]
    assert bob[1]["judged_at"] == "outside the tolerance"
    errors = [row for row in rows if row["verdict"] == "error"]
    assert [row["line"] for row in errors] == ["3", "4", "5", "6", "8"]
    assert errors[2]["id"] == '["team", 2]' and errors[3]["id"] == "dave"


def test_judging_options_for_the_batch_and_per_line(tmp_path) -> None:
    # sigmoid(1) = 0.7310585786…: 0.73 to 2 decimals, 0.731 to 3 significant figures
    lines = [
        {"id": "a", "program": "sigmoid(x)", "at": {"x": 1}, "expect-value": 0.7311},
        {"id": "b", "program": "sigmoid(x)", "at": {"x": 1}, "expect-value": 0.7311, "decimals": 4},
        {"id": "c", "program": "sigmoid(x)", "at": {"x": 1}, "expect-value": 0.731, "sig-figs": 3},
        {"id": "d", "program": "sigmoid(x)", "at": {"x": 1}, "expect-value": 0.7311, "no-rounding": True},
        {"id": "e", "program": "sigmoid(x)", "at": {"x": 1}, "expect-value": 0.7311, "rtol": 1e-3},
        {"id": "f", "program": "sigmoid(x)", "at": {"x": 1}, "expect-value": 0.7311, "decimals": -1},
    ]
    path = tmp_path / "j.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    r = run_cli("batch", "--programs", str(path), "--no-check", "--decimals", "2")
    ok = [json.loads(line)["ok"] for line in r.out.splitlines()]
    # a: 0.7311 to 2 decimals is 0.73 (right); b: to 4 decimals 0.7311 (right);
    # c: 3 significant figures; d: --decimals 2 still applies; e: the tolerance
    assert ok == [True, True, True, True, True, False]
    last = json.loads(r.out.splitlines()[-1])
    assert last["error"]["message"] == '"decimals" must be a whole number from 0 to 100'
    r = run_cli("batch", "--programs", str(path), "--no-check", "--no-rounding")
    assert [json.loads(line)["ok"] for line in r.out.splitlines()] == [False, True, True, False, True, False]
    r = run_cli("batch", "--programs", str(path), "--decimals", "2", "--sig-figs", "3")
    assert r.code == 2 and "not both" in r.err


def test_updated_values_in_a_batch_line(tmp_path) -> None:
    # x*y at x=1, y=2, lr 0.1: x − 0.1·2 = 0.8, y − 0.1·1 = 1.9 (by hand)
    lines = [{"id": "s1", "program": "x*y", "at": {"x": 1, "y": 2}, "lr": 0.1, "expect-updated": {"x": 0.8, "y": 1.9}},
             {"id": "s2", "program": "x*y", "at": {"x": 1, "y": 2}, "lr": 0.1, "expect-updated": {"x": 1.2}},
             {"id": "s3", "program": "x*y", "at": {"x": 1, "y": 2}, "expect-updated": {"x": 0.8}}]
    path = tmp_path / "u.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    records = [json.loads(line) for line in run_cli("batch", "--programs", str(path), "--no-check").out.splitlines()]
    assert [rec["ok"] for rec in records] == [True, False, False]
    assert records[0]["claims"][0]["what"] == "x − 0.1·∂f/∂x" and records[0]["result"]["updated"] == {"x": 0.8, "y": 1.9}
    assert "needs the learning rate" in records[2]["error"]["message"]


def test_a_missing_file_or_bad_options_stop_the_batch() -> None:
    assert run_cli("batch", "--programs", "/nonexistent/class.jsonl").code == 2
    assert run_cli("batch", "--programs", "-", "--rtol", "nan", stdin="").code == 2


# --- the pure functions ---------------------------------------------------------


def test_read_line() -> None:
    item = read_line(4, '{"id": 1.50, "meta": {"n": [1, 2.0]}, "program": "x", "at": {"x": 0.20}, "atol": 0.01}')
    assert isinstance(item, ProgramLine)
    assert item.tags == (("id", 1.5), ("meta", {"n": [1, 2.0]})) and item.at == "x=0.20"
    assert item.judging == (("atol", 0.01),)
    fault = read_line(9, '{"id": "z", "program": "x", "expect": {"x": 1}, "expect": {"x": 2}}')
    assert isinstance(fault, Fault)
    assert fault.record() == {"line": 9, "id": "z", "ok": False, "error": {
        "kind": "value", "message": '"expect" is given twice (a key may appear once, as in --at)',
        "line": None, "column": None}}
    assert isinstance(read_line(1, "[1, 2]"), Fault)


@pytest.mark.parametrize("message, spoken", [
    ("--at w: the program has no input 'w' (inputs: x)", "\"at\": w: the program has no input 'w' (inputs: x)"),
    ("missing values for inputs x, y; give them with --at x=…,y=…",
     "missing values for inputs x, y; give them in the record's \"at\": x=…,y=…"),
    ("'q' is not an input; for d output / d q write --expect-node-grad q=…",
     "'q' is not an input; for d output / d q write \"expect-node-grad\" q=…"),
])
def test_record_messages_speak_of_the_records_keys(message: str, spoken: str) -> None:
    assert record_message(message) == spoken


def test_a_progress_bar_on_a_terminal_then_the_summary(tmp_path) -> None:
    import os
    import pty
    import subprocess

    from conftest import bpcalc_command

    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"id": k, "program": "x*y", "at": {"x": k, "y": 2}, "expect": {"y": k}}) + "\n"
                            for k in range(3000)))
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm"}
    proc = subprocess.Popen([*bpcalc_command(), "batch", "--programs", str(path), "--no-check", "--to", "csv"],
                            stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    text = seen.decode("utf-8", "replace")
    assert "━" in text  # rich drew the bar
    assert text.rstrip().endswith("lines  all right  some wrong  errors\r\n3,000      3,000           0       0")


# --- in Chinese (issue 17) ----------------------------------------------------------


def test_in_chinese_the_summary_lines_up_in_display_columns() -> None:
    from bpcalc.grading import Summary
    from bpcalc.i18n import speaking

    with speaking("zh"):
        table = Summary(1234, 1000, 200, 34).table()
    # each 汉字 is two columns wide: 行数 is as wide as 1,234 less one
    assert table.splitlines() == [" 行数   全对  有错  出错", "1,234  1,000   200    34"]


def _without_seconds(value):
    """A record with the check's timings left out (they differ from run to run)."""
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def test_in_chinese_the_summary_is_chinese_and_the_records_stay_english(tmp_path) -> None:
    path = class_file(tmp_path)
    english = run_cli("batch", "--programs", path, "--no-check")
    chinese = run_cli("batch", "--programs", path, "--no-check", "--lang", "zh")
    assert chinese.code == english.code == 1
    assert chinese.out == english.out  # byte for byte: records are for scripts
    assert "missing value for input y; give it in the record's" in chinese.out
    assert chinese.err.splitlines() == ["行数  全对  有错  出错", "   7     1     1     5"]


def test_in_chinese_checked_records_in_worker_processes_stay_english(tmp_path) -> None:
    lines = [json.dumps({"id": 1, "program": "relu(x)*y", "at": {"x": 0, "y": 2}, "expect": {"x": 0.0}}),
             json.dumps({"id": 2, "program": "exp(x)", "at": {"x": 1000}}),
             json.dumps({"id": 3, "program": "x*x", "at": {"x": 3}, "expect": {"x": 6.1, "w": 1}}),
             json.dumps({"id": 4, "program": "x*x", "at": {"x": 3}, "expect": {"x": 6.1}, "bogus": 1})]
    path = tmp_path / "checked.jsonl"
    path.write_text("\n".join(lines) + "\n")
    english = run_cli("batch", "--programs", str(path))
    chinese = run_cli("batch", "--programs", str(path), "--jobs", "2", env={"BPCALC_LANG": "zh"})
    assert chinese.code == english.code == 1
    records = [_without_seconds(json.loads(line)) for line in chinese.out.splitlines()]
    assert records == [_without_seconds(json.loads(line)) for line in english.out.splitlines()]
    assert records[0]["claims"][0]["judged"]["how"] == "rounded to 1 decimal (as written): 0.0"
    assert records[1]["result"]["warnings"][0] == "%1 `exp(x)`: exp(1000) overflows to inf"
    assert records[1]["result"]["check"]["notes"][0].startswith("checked operation by operation (the local check)")
    assert records[2]["error"]["message"] == "the program has no input 'w' (inputs: x)"
    assert records[3]["error"]["message"].startswith('unknown key "bogus"')
    assert chinese.err.splitlines() == ["行数  全对  有错  出错", "   4     2     0     2"]
