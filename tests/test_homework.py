"""Claims: reading them, resolving their names, and judging them."""

from __future__ import annotations

import pytest

import bpcalc
from bpcalc.errors import BpcalcError, Span
from bpcalc.homework import (
    GRADIENT, NODE_GRAD, NODE_VALUE, VALUE, Judging, collect_claims, describe_claim, judge, judge_claims,
    parse_claims, read_claims_file, resolve_claim, resolve_claims, round_to_place,
)

ADD_MUL = "q = x + y\nf = q * z"
AT = {"x": "-2", "y": "5", "z": "-4"}


def result(program: str = ADD_MUL, at=None, **kw):
    return bpcalc.grad(program, at=AT if at is None else at, check=False, **kw)


def one(kind: str, text: str):
    (claim,) = parse_claims(kind, text)
    return claim


def error(fn, *args) -> BpcalcError:
    with pytest.raises(BpcalcError) as info:
        fn(*args)
    return info.value


# --- reading ---------------------------------------------------------------------


def test_parse_claims_names_values_and_places():
    claims = parse_claims(GRADIENT, "x=-4, y = 1/3,z=pow(2, 3)")
    assert [(c.kind, c.name, c.text, c.number.value) for c in claims] == [
        (GRADIENT, "x", "-4", -4.0), (GRADIENT, "y", "1/3", 1 / 3), (GRADIENT, "z", "pow(2, 3)", 8.0),
    ]
    assert [c.source.snippet(c.span) for c in claims] == ["x=-4", "y = 1/3", "z=pow(2, 3)"]
    value = one(VALUE, "-12")
    assert (value.kind, value.name, value.number.value, value.source.origin) == (VALUE, None, -12.0, "--expect-value")


@pytest.mark.parametrize("text, place", [
    ("0.39", -2), ("-0.197", -3), ("-4.0", -1), ("2.20", -2), ("1.5e-3", -4), ("220.", 0),
    ("-4", None), ("1/3", None), ("2e-3", None), ("pi", None), ("-0.5*2", None),
])
def test_a_claim_written_with_a_point_is_rounded_at_its_last_digit(text, place):
    assert one(VALUE, text).place == place


def test_labels_are_valid_claim_names():
    names = [c.name for c in parse_claims(NODE_VALUE, "q=3, h@2=1, %4=-12, w₁=2")]
    assert names == ["q", "h@2", "%4", "w₁"]


@pytest.mark.parametrize("kind, text, message, span", [
    (GRADIENT, "x=1,y", "'y' has no value; write name=<number>", (4, 5)),
    (GRADIENT, "x=oops", "'oops' is not a number or a known constant", (2, 6)),
    (GRADIENT, "x=1, =2", "missing name before '='", (5, 7)),
    (GRADIENT, "x y=2", "'x y' is not a node name", (0, 5)),
    (GRADIENT, "x=", "no value after 'x='", (0, 2)),
    (VALUE, "2 *", "the expression ends after '*'", (2, 3)),
    (VALUE, " ", "no value given for --expect-value", (0, 1)),
])
def test_bad_claims_point_at_the_place(kind, text, message, span):
    err = error(parse_claims, kind, text)
    assert message in err.message
    assert err.span == Span(*span) and err.source.text == text


def test_answer_file_lines(tmp_path):
    path = tmp_path / "answers.txt"
    path.write_text("# hw 1\nx=-4, y=-4  # both through q\n\nexpect-value: -12\n"
                    "expect-node: q=3\nexpect-node-grad: q=-4\nexpect: z=3\n")
    claims = read_claims_file(path)
    assert [(c.kind, c.name, c.text) for c in claims] == [
        (GRADIENT, "x", "-4"), (GRADIENT, "y", "-4"), (VALUE, None, "-12"), (NODE_VALUE, "q", "3"),
        (NODE_GRAD, "q", "-4"), (GRADIENT, "z", "3"),
    ]
    assert claims[3].source.origin == str(path)
    assert claims[3].source.snippet(claims[3].span) == "q=3"


def test_answer_file_errors_point_into_the_file(tmp_path):
    path = tmp_path / "answers.txt"
    path.write_text("x=-4\nexpect-nodes: q=3\n")
    err = error(read_claims_file, path)
    assert err.message == ("unknown key 'expect-nodes' (keys: expect, expect-value, expect-node, "
                           "expect-node-grad, expect-updated); did you mean expect-node?")
    assert err.position == (2, 1)
    path.write_text("x=-4\ny=-4,z=3+\n")
    err = error(read_claims_file, path)
    assert err.position == (2, 9) and "ends after '+'" in err.message


def test_answer_file_json(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text('{"expect": {"x": -4, "y": "-8/2"}, "expect-value": -12.0,'
                    ' "expect-node": {"q": 3}, "expect-node-grad": {"q": 0.40}}')
    claims = read_claims_file(path)
    assert [(c.kind, c.name, c.text) for c in claims] == [
        (GRADIENT, "x", "-4"), (GRADIENT, "y", "-8/2"), (VALUE, None, "-12.0"), (NODE_VALUE, "q", "3"),
        (NODE_GRAD, "q", "0.40"),
    ]
    assert claims[-1].place == -2  # the JSON number as written


@pytest.mark.parametrize("text, message", [
    ('{"expect": {"x": }', "invalid JSON: Expecting value"),
    ('{"expected": {"x": 1}}', 'unknown key "expected"'),
    ('{"expect": [1]}', '"expect" must be an object of name: value pairs'),
    ('{"expect": {"x": true}}', '"expect" values must be numbers, strings or nested lists of numbers, not true'),
    ('{"expect": {"x": [1, [2]]}}', 'a [...] literal mixes numbers and rows at the same level'),
    ('{"expect": {"x": []}}', '"expect" values must be numbers, strings or nested lists of numbers, not []'),
    ('{"expect-value": null}', '"expect-value" values must be numbers, strings or nested lists of numbers'),
    ('{"expect": {"x": NaN}}', "invalid JSON"),
])
def test_answer_file_json_errors(tmp_path, text, message):
    path = tmp_path / "a.json"
    path.write_text(text)
    assert message in error(read_claims_file, path).message


def test_collect_claims_needs_at_least_one():
    err = error(collect_claims)
    assert err.kind == "usage" and err.message.startswith("nothing to check")
    claims = collect_claims(["x=1"], "2", ["q=3"], ["q=4"])
    assert [c.kind for c in claims] == [GRADIENT, VALUE, NODE_VALUE, NODE_GRAD]


# --- resolving -----------------------------------------------------------------


def test_resolve_claims_to_nodes():
    r = result("h = x*2; h = h + 1; h*y", {"x": "1", "y": "2"})
    g = r.graph
    assert resolve_claim(g, one(VALUE, "1")) == g.output
    assert resolve_claim(g, one(GRADIENT, "x=1")) == g.input_id("x")
    assert g.labels[resolve_claim(g, one(NODE_VALUE, "h=3"))] == "h@2"  # the latest binding
    assert g.labels[resolve_claim(g, one(NODE_VALUE, "h@1=2"))] == "h@1"
    assert resolve_claim(g, one(NODE_GRAD, f"%{g.output}=1")) == g.output


@pytest.mark.parametrize("kind, text, message", [
    (GRADIENT, "xx=1", "the program has no input 'xx' (inputs: x, y, z); did you mean x?"),
    (GRADIENT, "q=1", "'q' is not an input; for d output / d q write --expect-node-grad q=…"),
    (NODE_VALUE, "qq=1", "the program has no node named 'qq' (names: x, y, z, q, f); did you mean q?"),
    (NODE_VALUE, "%3=1", "the program has no node named '%3' (names: x, y, z, q, f)"),
])
def test_unknown_names_are_rejected(kind, text, message):
    claim = one(kind, text)
    err = error(resolve_claim, result().graph, claim)
    assert err.message == message and err.span == claim.span


def test_a_constant_has_no_gradient_to_claim():
    r = result("c = 2; c * x", {"x": "1"})
    err = error(resolve_claim, r.graph, one(NODE_GRAD, "c=1"))
    assert err.message == "'c' does not depend on any input, so it has no gradient"


def test_the_same_thing_claimed_twice_is_an_error():
    claims = [*parse_claims(GRADIENT, "x=-4"), *parse_claims(NODE_GRAD, "x=-4")]
    assert error(judge_claims, result(), claims).message == "the gradient of x is claimed twice (-4 and -4)"
    claims = [*parse_claims(VALUE, "-12"), *parse_claims(NODE_VALUE, "f=-12.0")]
    assert error(resolve_claims, result().graph, claims).message == "the value of f is claimed twice (-12 and -12.0)"


# --- judging -------------------------------------------------------------------


def verdict(text: str, correct: float, judging: Judging = Judging()):
    return judge(one(VALUE, text), 0, correct, None, judging)


@pytest.mark.parametrize("text, ok", [("0.39", True), ("0.40", False), ("0.393", True), ("0.3932", True)])
def test_two_decimals_0_39_is_right_for_0_3932_and_0_40_is_not(text, ok):
    v = verdict(text, 0.3932, Judging(decimals=2))
    assert v.ok is ok
    assert (v.rule, v.digits, v.rounded) == ("decimals", 2, "0.39")
    assert v.how == "rounded to 2 decimals (--decimals): 0.39"


def test_as_written_by_default():
    v = verdict("0.39", 0.393224)
    assert v.ok and v.how == "rounded to 2 decimals (as written): 0.39"
    v = verdict("-0.590", -0.589836)
    assert v.ok and v.how == "rounded to 3 decimals (as written): -0.590"
    assert not verdict("0.40", 0.393224).ok
    assert not verdict("0.39", 0.393224, Judging(as_written=False)).ok


@pytest.mark.parametrize("text, correct, first", [("0.0", 0.0177, "0.02"), ("0.", -0.0177, "-0.02"),
                                                  ("-0.00", 0.004, "0.004"), ("0.000", 3e-7, "0.0000003")])
def test_a_claim_with_no_significant_digit_is_wrong_for_a_value_that_is_not_zero(text, correct, first):
    v = verdict(text, correct)
    assert not v.ok
    assert v.how == f"no significant digit written, and the value is not 0: to 1 significant figure {first}"


def test_a_zero_claim_still_holds_for_zero_and_where_the_user_chose_the_digits():
    assert verdict("0.0", 0.0).ok and verdict("0.00", 1e-13).ok  # within the tolerance
    assert verdict("0.0", 0.0177, Judging(decimals=1)).ok  # --decimals 1 asks for 0.0
    assert verdict("0.02", 0.0177).ok and verdict("-0.02", -0.0177).ok


def test_integers_and_expressions_use_the_tolerance():
    assert verdict("110", 110.00000000000001).ok
    v = verdict("3", 3.4)
    assert not v.ok and v.rule == "tolerance" and v.how == "outside the tolerance"
    assert verdict("11/5", 2.2000000000000002).ok
    assert not verdict("1/3", 0.3333, Judging(rtol=1e-6)).ok
    assert verdict("1/3", 0.3333, Judging(rtol=1e-3)).ok


def test_an_exact_tie_accepts_either_neighbour():
    for text in ("0.12", "0.13"):
        v = verdict(text, 0.125, Judging(decimals=2))
        assert v.ok and v.rounded == "0.12 or 0.13"
    assert not verdict("0.14", 0.125, Judging(decimals=2)).ok


def test_significant_figures():
    v = verdict("0.0177", 0.017662706213291118, Judging(sig_figs=3))
    assert v.ok and (v.rule, v.digits, v.rounded) == ("sig-figs", 3, "0.0177")
    assert v.how == "rounded to 3 significant figures (--sig-figs): 0.0177"
    assert not verdict("0.0176", 0.017662706213291118, Judging(sig_figs=3)).ok
    assert verdict("12000", 12345.0, Judging(sig_figs=2)).ok
    zero = verdict("0", 0.0, Judging(sig_figs=2))
    assert zero.ok and zero.how == "0 has no significant figures; within the tolerance"


def test_a_non_finite_correct_value_never_matches():
    v = verdict("1e308", float("inf"))
    assert not v.ok and v.how == "the correct value is inf, not a finite number"


@pytest.mark.parametrize("value, place, text", [
    (0.3932, -2, "0.39"), (-0.001, -2, "0.00"), (2.675, -2, "2.67 or 2.68"), (12345.0, 2, "12300"),
    (1e300, -2, "1e+300"), (-0.125, -2, "-0.12 or -0.13"),
])
def test_round_to_place(value, place, text):
    assert round_to_place(value, place) == text


def test_judge_claims_against_a_result():
    r = result()
    claims = [*parse_claims(GRADIENT, "x=-4,z=4"), *parse_claims(NODE_VALUE, "q=3"), *parse_claims(VALUE, "-12")]
    report = judge_claims(r, claims)
    assert [(describe_claim(r, v.claim), v.correct, v.ok) for v in report.verdicts] == [
        ("∂f/∂x", -4.0, True), ("∂f/∂z", 3.0, False), ("q", 3.0, True), ("f", -12.0, True),
    ]
    assert report.ok is False and report.verdicts[1].difference == 1.0


def test_exact_mode_judges_against_the_exact_value():
    r = result("apple_price = apple * num\nprice = apple_price * tax", {"apple": "100", "num": "2", "tax": "1.1"},
               exact=True)
    report = judge_claims(r, parse_claims(GRADIENT, "apple=11/5"))
    (v,) = report.verdicts
    assert v.ok and v.exact == "11/5" and v.correct == 2.2


# --- vectors and matrices --------------------------------------------------------

DWX = "D = W @ X\nf = sum(D * C)"
DWX_AT = {"W": [[1, 2, 0], [-1, 0.5, 3]], "X": [[2, -1], [0, 1], [1, 4]], "C": [[1, -2], [0.5, 3]]}
# by hand (samples/matrix/cs231n_dwx.expect.json): dW = C X^T, dX = W^T C
DW = [[4, -2, -7], [-2, 3, 12.5]]


def test_a_whole_tensor_claim_is_one_claim_per_entry_each_as_written():
    claims = parse_claims(GRADIENT, "W=[[4, -2.0, -7], [-2, 3, 12.50]]")
    assert [(c.name, c.index, c.text, c.place, c.shape) for c in claims] == [
        ("W", (0, 0), "4", None, (2, 3)), ("W", (0, 1), "-2.0", -1, (2, 3)), ("W", (0, 2), "-7", None, (2, 3)),
        ("W", (1, 0), "-2", None, (2, 3)), ("W", (1, 1), "3", None, (2, 3)), ("W", (1, 2), "12.50", -2, (2, 3)),
    ]
    (entry,) = parse_claims(GRADIENT, "W[1, 2]=12.5")
    assert (entry.name, entry.index, entry.shape, entry.place, entry.label) == ("W", (1, 2), None, -1, "W[1, 2]")
    computed = parse_claims(GRADIENT, "x=[1, 2] / 4")  # an expression: the tolerance alone
    assert [(c.number.value, c.place) for c in computed] == [(0.25, None), (0.5, None)]


def test_tensor_claims_are_judged_entry_by_entry():
    r = result(DWX, DWX_AT)
    claims = parse_claims(GRADIENT, "W=[[4, -2, -7], [-2, 3.1, 12.5]]") + parse_claims(GRADIENT, "X[1,0]=2.25")
    report = judge_claims(r, claims)
    assert [v.ok for v in report.verdicts] == [True, True, True, True, False, True, True]
    assert [v.correct for v in report.verdicts] == [x for row in DW for x in row] + [2.25]
    assert describe_claim(r, claims[4]) == "∂f/∂W[1, 1]"
    value = judge_claims(r, parse_claims(NODE_VALUE, "D[1,1]=13.5"))  # D = W X by hand
    assert value.ok


@pytest.mark.parametrize("text, message", [
    ("W=[[4, -2], [1, 2]]", "the claim is a 2×2 matrix, and W is a 2×3 matrix"),
    ("W[2,0]=1", "W[2, 0]: W is a 2×3 matrix, so its entries are [0, 0] to [1, 2]"),
    ("W[0]=1", "W[0]: W is a 2×3 matrix, so its entries are [0, 0] to [1, 2]"),
    ("W=4", "W is a 2×3 matrix: claim it whole (W=[…]) or one entry (W[0, 0]=…)"),
    ("W[0,0]=[1, 2]", "W[0, 0] is one entry: claim one number"),
])
def test_tensor_claims_that_do_not_fit_point_at_the_claim(text, message):
    err = error(lambda: judge_claims(result(DWX, DWX_AT), parse_claims(GRADIENT, text)))
    assert err.message == message and err.span == Span(0, len(text))


def test_class_indices_have_no_gradient_to_claim(tmp_path):
    at = {"s": [[1.0, 2.0], [0.5, -1.0]], "y": [1, 0]}
    err = error(lambda: judge_claims(result("cross_entropy(s, y)", at), parse_claims(GRADIENT, "y=[0, 0]")))
    assert err.message == "y holds class indices: data, which has no gradient to claim"
    path = tmp_path / "a.json"
    path.write_text('{"gradient": {"y": null, "s": [[0.1345, -0.1345], [-0.0912, 0.0912]]}, "source": "by hand"}')
    report = judge_claims(result("cross_entropy(s, y)", at), read_claims_file(path))
    # ds = (softmax(s) - onehot(y)) / 2, by hand: softmax([1, 2]) = [0.2689, 0.7311], softmax([0.5, -1]) = [0.8176, 0.1824],
    # y = [1, 0]: ds = [[0.2689, -0.2689], [-0.1824, 0.1824]] / 2
    assert [(v.claim.label, v.ok) for v in report.verdicts] == [
        ("y", True), ("s[0, 0]", True), ("s[0, 1]", True), ("s[1, 0]", True), ("s[1, 1]", True)]


def test_updated_claims_judge_theta_minus_lr_times_the_gradient():
    """x*y at x=1, y=2 with lr 0.1: x − 0.1·2 = 0.8, y − 0.1·1 = 1.9 (by hand)."""
    from dataclasses import replace

    from bpcalc.api import grad
    from bpcalc.homework import UPDATED, judge_claims, parse_claims

    result = replace(grad("x*y", {"x": 1, "y": 2}, check=False), lr=0.1)
    claims = parse_claims(UPDATED, "x=0.8,y=2.1")
    report = judge_claims(result, claims)
    assert [v.ok for v in report.verdicts] == [True, False]
    assert report.verdicts[1].correct == pytest.approx(1.9, abs=1e-15)
    assert result.updated == pytest.approx({"x": 0.8, "y": 1.9})
    with pytest.raises(BpcalcError, match="needs the learning rate"):
        judge_claims(replace(result, lr=None), claims)


def test_updated_claims_from_an_answer_file(tmp_path):
    path = tmp_path / "answers.txt"
    path.write_text("expect-updated: w=0.3\n")
    claims = read_claims_file(path)
    assert [(c.kind, c.name, c.text) for c in claims] == [("updated", "w", "0.3")]


def test_entries_of_a_number_are_an_error_not_the_number():
    for text, message in (("x[0]=-4", "x[0]: x is one number, with no entries"),
                          ("x=[-4, 1]", "the claim is a vector of 2 entries, and x is a number")):
        err = error(lambda: judge_claims(result(), parse_claims(GRADIENT, text)))
        assert err.message == message


# --- in Chinese (issue 17) ----------------------------------------------------------


@pytest.fixture
def chinese():
    from bpcalc.i18n import speaking

    with speaking("zh"):
        yield


def test_in_chinese_how_each_claim_was_judged(chinese):
    assert verdict("0.39", 0.3932, Judging(decimals=2)).how == "舍入到 2 位小数（--decimals）：0.39"
    assert verdict("0.39", 0.393224).how == "舍入到 2 位小数（按所写位数）：0.39"
    assert verdict("1.5e3", 1512.0).how == "舍入到 100 的整数倍（按所写位数）：1500"
    assert verdict("0.0177", 0.017662706213291118, Judging(sig_figs=3)).how == "舍入到 3 位有效数字（--sig-figs）：0.0177"
    assert verdict("0", 0.0, Judging(sig_figs=2)).how == "0 没有有效数字；在容差之内"
    assert verdict("3", 3.4).how == "超出容差"
    assert verdict("1e308", float("inf")).how == "正确值是 inf，不是有限的数"
    assert verdict("0.12", 0.125, Judging(decimals=2)).rounded == "0.12 或 0.13"


def test_in_chinese_a_claim_with_no_digit_is_still_wrong(chinese):
    # the rule once read the English words "(as written)"; it no longer reads text
    v = verdict("0.0", 0.0177)
    assert not v.ok and v.rule == "decimals"
    assert v.how == "没有写出有效数字，而正确值不是 0：保留 1 位有效数字是 0.02"
    assert verdict("0.0", 0.0177, Judging(decimals=1)).ok


def test_in_chinese_claims_that_cannot_be_read_or_resolved(chinese):
    assert error(parse_claims, GRADIENT, "x").message == "'x' 没有值；请写成 name=<number>"
    assert error(parse_claims, GRADIENT, "=3").message.startswith("'=' 前缺少名字（按 grad 表中的写法指明节点：")
    assert error(parse_claims, GRADIENT, "x=").message == "'x=' 后面没有值"
    r = result()
    assert error(resolve_claim, r.graph, one(GRADIENT, "q=1")).message == (
        "'q' 不是输入；要给出 d output / d q，请写 --expect-node-grad q=…")
    assert error(resolve_claims, r.graph, [one(GRADIENT, "x=1"), one(GRADIENT, "x=2")]).message == (
        "x 的梯度有两个答案（1 和 2）")
    assert error(collect_claims).message.startswith("没有可判定的答案：")
