"""`bpcalc check` from the installed command: verdicts, texts, exit codes."""

from __future__ import annotations


from conftest import SAMPLES

ISSUE = ("check", "(x+y)*z", "--at", "x=-2,y=5,z=-4")
NEURON = ("check", "-f", str(SAMPLES / "cs231n_neuron.bp"), "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3", "--no-verify")
ADD_MUL = ("check", "-f", str(SAMPLES / "cs231n_add_mul.bp"), "--at", "x=-2,y=5,z=-4", "--no-verify")


def test_the_issue_example_holds(cli):
    run = cli(*ISSUE, "--expect", "x=-4,y=-4,z=3", "--expect-value", "-12")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[:2] == ["bpcalc check (x+y)*z", "at x = -2, y = 5, z = -4"]
    assert [line.split() for line in lines[4:8]] == [
        ["∂f/∂x", "-4", "-4", "0", "✓", "within", "the", "tolerance"],
        ["∂f/∂y", "-4", "-4", "0", "✓", "within", "the", "tolerance"],
        ["∂f/∂z", "3", "3", "0", "✓", "within", "the", "tolerance"],
        ["f", "-12", "-12", "0", "✓", "within", "the", "tolerance"],
    ]
    assert "✓ all 4 claims hold" in lines
    assert lines[-1] == "bpcalc's own gradient agrees with SymPy ✓"


def test_a_wrong_answer_exits_1_and_shows_the_step(cli):
    run = cli(*ADD_MUL, "--expect", "x=-4,y=4", "--expect-node", "q=3", "--expect-node-grad", "q=-4")
    assert run.code == 1
    assert "✗ 1 of 4 claims is wrong" in run.out
    assert ("∂f/∂y: you wrote 4; the correct step is\n"
            "  y  (an input)\n"
            "      ∂f/∂q = -4  (upstream, from q = x + y)\n"
            "      ∂q/∂y = 1  (local derivative)\n"
            "      ∂f/∂y = ∂f/∂q · 1 = (-4) · 1 = -4  (upstream × local = downstream)\n") in run.out


def test_rounded_answers_from_the_issue(cli):
    run = cli(*NEURON, "--expect", "x0=0.39,w1=-0.40", "--decimals", "2")
    assert run.code == 1
    rows = {line.split()[0]: line.split()[1:] for line in run.out.splitlines() if line.startswith("∂f/")}
    assert rows["∂f/∂x0"] == ["0.39", "0.393224", "-0.00322387", "✓", "rounded", "to", "2", "decimals",
                              "(--decimals):", "0.39"]
    assert rows["∂f/∂w1"][3] == "✗" and rows["∂f/∂w1"][-1] == "-0.39"


def test_answers_from_a_text_file(cli):
    run = cli(*NEURON, "--expect-file", str(SAMPLES / "cs231n_neuron.answers.txt"))
    assert run.code == 1
    assert "✗ 1 of 6 claims is wrong" in run.out
    assert "∂f/∂x1: you wrote -0.39; the correct step is" in run.out
    assert "      ∂f/∂x1 = ∂f/∂%8 · w1 = 0.196612 · (-3) = -0.589836  (upstream × local = downstream)" in run.out


def test_answers_from_a_json_file_and_json_out(cli):
    run = cli(*ADD_MUL, "--expect-file", str(SAMPLES / "cs231n_add_mul.answers.json"), "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["schema"] == "bpcalc.check/1" and doc["ok"] is True
    assert [(c["name"], c["kind"], c["claimed"], c["correct"], c["ok"]) for c in doc["claims"]] == [
        ("x", "gradient", -4.0, -4.0, True), ("y", "gradient", -4.0, -4.0, True), ("z", "gradient", 3.0, 3.0, True),
        ("f", "value", -12.0, -12.0, True), ("q", "node-value", 3.0, 3.0, True), ("q", "node-grad", -4.0, -4.0, True),
    ]


def test_json_verdict_of_a_wrong_claim(cli):
    run = cli(*ADD_MUL, "--expect", "z=-3", "--json")
    assert run.code == 1
    (claim,) = run.json()["claims"]
    assert (claim["ok"], claim["correct"], claim["difference"]) == (False, 3.0, -6.0)
    assert claim["terms"] == [{"user": "f", "upstream": 1.0, "local": 3.0, "local_formula": "q", "contribution": 3.0}]


def test_exact_mode(cli):
    base = ("check", "-f", str(SAMPLES / "apples.bp"), "--at", "apple=100,num=2,tax=1.1", "--exact", "--no-verify")
    run = cli(*base, "--expect", "apple=11/5,tax=200")
    assert run.code == 0, run.err
    assert ["∂price/∂apple", "11/5", "11/5", "≈", "2.2", "0", "✓", "within", "the", "tolerance"] in [
        line.split() for line in run.out.splitlines()
    ]


def test_unknown_name_is_bad_input(cli):
    run = cli(*ISSUE, "--expect", "x=-4,zz=3")
    assert run.code == 2 and run.out == ""
    assert run.err == ("error: --expect: line 1, column 6: the program has no input 'zz' (inputs: x, y, z); "
                       "did you mean z?\n  x=-4,zz=3\n       ^^^^\n")


def test_bad_input_in_json_mode(cli):
    run = cli(*ISSUE, "--expect-node", "q=1", "--json")
    assert run.code == 2
    assert run.json() == {"schema": "bpcalc.check/1", "error": {
        "kind": "value", "message": "the program has no node named 'q' (names: x, y, z; unnamed nodes: %3, %4)",
        "line": 1, "column": 1}}
    assert "Traceback" not in run.err


def test_usage_errors(cli):
    run = cli(*ISSUE)
    assert run.code == 2 and run.err.startswith("error: nothing to check: give claims with --expect x=…")
    run = cli(*ISSUE, "--expect", "x=-4", "--decimals", "2", "--sig-figs", "2")
    assert run.code == 2 and run.err == "error: give --decimals or --sig-figs, not both\n"
    run = cli(*ISSUE, "--expect-file", "/nonexistent/answers.txt")
    assert run.code == 2 and run.err.startswith("error: cannot read /nonexistent/answers.txt")




def test_check_and_no_check_as_in_grad_and_batch(cli):
    claims = ("--expect", "x=-4,y=-4,z=3")
    checked = cli(*ISSUE, *claims)
    assert checked.code == 0 and checked.out.rstrip().endswith("bpcalc's own gradient agrees with SymPy ✓")
    for flag in ("--no-check", "--no-verify"):  # --verify/--no-verify: the old name, still read
        run = cli(*ISSUE, *claims, flag)
        assert run.code == 0 and "SymPy" not in run.out, flag
    assert cli(*ISSUE, *claims, "--verify").out == checked.out
    assert "--no-check" in cli("check", "--help").out and "verify" not in cli("check", "--help").out


def test_the_own_check_line_says_what_the_check_found(cli):
    run = cli("check", "relu(x)", "--at", "x=0", "--expect", "x=0")
    assert run.code == 0
    assert "bpcalc's own gradient agrees" not in run.out
    assert ("check against SymPy (rtol 1e-9, atol 1e-12): no gradient verified; 1 at a kink (convention used)"
            in run.out.splitlines())


def test_a_claim_with_no_significant_digit_is_wrong(cli):
    run = cli("check", "x*y", "--at", "x=1,y=0.0177", "--expect", "x=0.0", "--no-check")
    assert run.code == 1
    assert ("∂f/∂x       0.0    0.0177      -0.0177   ✗   no significant digit written, and the value is not 0: "
            "to 1 significant figure 0.02") in run.out.splitlines()


MATRIX = SAMPLES / "matrix"
DLFS = ("check", "-f", str(MATRIX / "dlfs_affine_softmax.bp"), "--at-file",
        str(MATRIX / "dlfs_affine_softmax.point.json"), "--no-check")


def test_every_matrix_sample_holds_against_its_reference_file(cli):
    for bp in sorted(MATRIX.glob("*.bp")):
        stem = bp.with_suffix("")
        run = cli("check", "-f", str(bp), "--at-file", f"{stem}.point.json", "--expect-file", f"{stem}.expect.json")
        assert run.code == 0, (bp.name, run.out, run.err)
        assert "✗" not in run.out and "claims hold" in run.out
        assert run.out.rstrip().endswith("bpcalc's own gradient agrees with SymPy ✓")


def test_a_wrong_entry_exits_1_and_shows_upstream_times_local_for_that_entry(cli):
    # dL/dX = dY @ W.T with dY = (softmax(Y) - t)/2 (dlfs_affine_softmax.expect.json: X[0, 0] = -0.103733)
    run = cli(*DLFS, "--expect", "X[0,0]=0.10", "--expect", "b=[-0.15, 0.25, -0.10]")
    assert run.code == 1
    rows = {line.split()[0]: line.split() for line in run.out.splitlines() if line.startswith("∂L/∂") and "you wrote" not in line}
    assert rows["∂L/∂X[0,"][3:6] == ["-0.103733", "0.203733", "✗"]
    assert rows["∂L/∂b[0]"][4] == "✓" and rows["∂L/∂b[1]"][4] == "✓" and rows["∂L/∂b[2]"][4] == "✓"
    assert "✗ 1 of 4 claims is wrong" in run.out
    assert ("∂L/∂X[0, 0]: you wrote 0.10; the correct step is\n"
            "  dX[0, 0]\n"
            "      from n4 = Σ_k dn4[0, k] · W[0, k] = 0.158998 · 0.1 + 0.143867 · (-0.2) + (-0.302865) · 0.3 "
            "= -0.103733  (upstream × local for this entry)\n") in run.out


def test_tensor_claims_in_json_and_bad_claims(cli):
    run = cli(*DLFS, "--expect", "W[2,1]=0.0436", "--json")
    assert run.code == 0
    (claim,) = run.json()["claims"]
    assert (claim["what"], claim["index"], claim["ok"]) == ("∂L/∂W[2, 1]", [2, 1], True)
    bad = cli(*DLFS, "--expect", "W[3,0]=1", "--json")
    assert bad.code == 2 and bad.json()["error"]["kind"] == "value"
    assert bad.err == ("error: --expect: line 1, column 1: W[3, 0]: W is a 3×3 matrix, so its entries are "
                       "[0, 0] to [2, 2]\n  W[3,0]=1\n  ^^^^^^^^\n")


def test_expect_updated_needs_lr_and_says_so_before_computing():
    from conftest import run_cli

    r = run_cli("check", "x*y", "--at", "x=1,y=2", "--expect-updated", "x=0.8", "--json")
    assert r.code == 2 and "needs the learning rate" in r.err and r.json()["error"]["kind"] == "usage"
    r = run_cli("check", "x*y", "--at", "x=1,y=2", "--lr", "0.1", "--expect-updated", "x=0.8,y=1.9", "--json")
    assert r.code == 0 and [c["what"] for c in r.json()["claims"]] == ["x − 0.1·∂f/∂x", "y − 0.1·∂f/∂y"]
    r = run_cli("check", "x*y", "--at", "x=1,y=2", "--lr", "nan", "--expect-updated", "x=0.8")
    assert r.code == 2


def test_updated_claims_on_vectors_and_matrices():
    from conftest import run_cli

    # f = sum(W @ x): dx = W.T @ [1, 1] = [4, 6], dW = [[1, -1], [1, -1]] (by hand); lr 0.5
    r = run_cli("check", "sum(W @ x)", "--at", "W=[[1,2],[3,4]],x=[1,-1]", "--lr", "0.5",
                "--expect-updated", "x=[-1,-4]", "--expect-updated", "W[0,1]=2.5", "--json")
    assert r.code == 0, r.err
    assert [(c["what"], c["correct"]) for c in r.json()["claims"]] == [
        ("x[0] − 0.5·∂f/∂x[0]", -1.0), ("x[1] − 0.5·∂f/∂x[1]", -4.0), ("W[0, 1] − 0.5·∂f/∂W[0, 1]", 2.5)]


def test_the_verification_table_of_a_tensor_check():
    from conftest import run_cli

    # f = sum(relu(x)) at x = [1, 0]: df/dx = [1, 0] (relu'(0) = 0, a kink: the table is printed)
    run = run_cli("check", "sum(relu(x))", "--at", "x=[1,0]", "--expect", "x=[1,0]")
    assert run.code == 0, run.err
    assert "check against SymPy, entry by entry" in run.out and "kink: convention used" in run.out


# --- in Chinese (issue 17) ----------------------------------------------------------

ZH_LOCALE = {"BPCALC_LANG": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.UTF-8"}


def test_in_chinese_a_right_and_a_wrong_answer_with_the_correct_step(cli):
    run = cli(*ISSUE, "--expect", "x=-4,y=4", "--lang", "zh")
    assert run.code == 1, run.err
    lines = run.out.splitlines()
    assert lines[:2] == ["bpcalc check (x+y)*z", "在 x = -2, y = 5, z = -4 处"]
    assert lines[2].split() == ["题目", "答案", "正确值", "差", "判定方式"]
    assert [line.split() for line in lines[4:6]] == [
        ["∂f/∂x", "-4", "-4", "0", "✓", "在容差之内"],
        ["∂f/∂y", "4", "-4", "8", "✗", "超出容差"],
    ]
    assert lines[6] == "容差：|答案 - 正确值| <= 1e-12 + 1e-9·|正确值|"
    assert "✗ 2 个答案中有 1 个错误" in lines
    assert "∂f/∂y：你写的是 4；正确的一步是" in lines
    assert "      ∂f/∂%3 = -4  （上游传来的导数，来自 %3 = x + y）" in lines
    assert lines[-1] == "bpcalc 自己算的梯度与 SymPy 一致 ✓"


def test_in_chinese_from_the_locale_answers_judged_as_written(cli):
    run = cli(*NEURON, "--expect", "x0=0.39,w1=-0.40,x1=0.0", env=ZH_LOCALE)
    assert run.code == 1, run.err
    rows = {line.split()[0]: line.split()[1:] for line in run.out.splitlines() if line.startswith("∂f/")}
    assert rows["∂f/∂x0"][3:] == ["✓", "舍入到", "2", "位小数（按所写位数）：0.39"]
    assert rows["∂f/∂w1"][3:] == ["✗", "舍入到", "2", "位小数（按所写位数）：-0.39"]
    assert rows["∂f/∂x1"][3:] == ["✗", "没有写出有效数字，而正确值不是", "0：保留", "1", "位有效数字是", "-0.6"]
    assert "✗ 3 个答案中有 2 个错误" in run.out.splitlines()


def test_in_chinese_bad_claims_are_errors_in_chinese(cli):
    run = cli(*ISSUE, "--expect", "x", "--lang", "zh")
    assert run.code == 2
    assert run.err.splitlines()[0] == "错误：--expect：第 1 行第 1 列：'x' 没有值；请写成 name=<number>"
    run = cli(*ISSUE, "--expect", "w=1", "--lang", "zh")
    assert run.code == 2
    assert run.err.splitlines()[:3] == ["错误：--expect：第 1 行第 1 列：程序中没有输入 'w'（输入：x, y, z）",
                                        "  w=1", "  ^^^"]
    run = cli(*ISSUE, "--lang", "zh")
    assert run.code == 2
    assert run.err.startswith("错误：没有可判定的答案：请用 --expect x=…、")


def test_in_chinese_the_json_stays_english(cli):
    run = cli(*ISSUE, "--expect", "x=-4,y=4", "--lang", "zh", "--json")
    assert run.code == 1
    doc = run.json()
    assert doc["summary"] == "✗ 1 of 2 claims is wrong"
    assert [c["judged"]["how"] for c in doc["claims"]] == ["within the tolerance", "outside the tolerance"]
