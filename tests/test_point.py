import math

import pytest

from bpcalc.errors import BpcalcError, Source
from bpcalc.lang.lower import build
from bpcalc.point import as_point, parse_at, resolve


def err(fn, *args):
    with pytest.raises(BpcalcError) as info:
        fn(*args)
    return info.value


def test_values_and_constant_expressions():
    point = parse_at(["x=-2,y=5", "z = pi/4", "w=max(1, 2)", "t=1/3", "s=-1e-3"])
    assert {k: v.value for k, v in point.items()} == {
        "x": -2.0, "y": 5.0, "z": math.pi / 4, "w": 2.0, "t": 1 / 3, "s": -1e-3,
    }
    assert point["z"].text == "pi/4" and point["z"].graph is not None


@pytest.mark.parametrize(
    "spec, message",
    [
        ("x", "'x' has no value; write x=<number>"),
        ("x=", "no value after 'x='"),
        ("=3", "missing name before '='"),
        ("x=abc", "'abc' is not a number or a known constant"),
        ("x=1,x=2", "'x' is given twice (x=1 and x=2)"),
        ("x=1/0", "division by zero"),
        ("x=1e400", "input values must be finite numbers"),
        ("1x=2", "'1x' is not a valid input name"),
        ("x=y=2", "must be a single expression"),
    ],
)
def test_malformed(spec, message):
    assert message in err(parse_at, [spec]).message


@pytest.mark.parametrize(
    "spec, message, caret",
    [
        ("x=1 y=2", "'x=1 y=2' holds more than one value: separate them with commas: x=1,y=2", "^^^^^^^"),
        ("x=1;y=2", "'x=1;y=2' holds more than one value: separate them with commas: x=1,y=2", "^^^^^^^"),
        ("x=1; y=2", "'x=1; y=2' holds more than one value: separate them with commas: x=1,y=2", "^^^^^^^^"),
        ("x:1", "'x:1' is not name=value; write x=1", "^^^"),
        ("x 1", "'x 1' is not name=value; write x=1", "^^^"),
        ("x=1,5", "'5' after the comma in x=1,5 is not name=value: commas separate inputs; "
                  "for a decimal write 1.5", "    ^"),
        ("x=1,5+", "'5+' is not name=value (values are separated by commas: x=1,y=2)", "    ^^"),
    ],
)
def test_a_malformed_pair_says_what_is_wrong_with_it(spec, message, caret):
    e = err(parse_at, [spec])
    assert e.message == message
    assert e.render().splitlines()[1:] == [f"  {spec}", f"  {caret}"]


def test_digit_separators_are_not_multiplication():
    e = err(parse_at, ["x=1_000"])
    assert e.render() == "error: the value of x: line 1, column 1: '_' is not part of a number: write 1000\n  1_000\n  ^^^^^"


def test_api_values():
    point = as_point({"x": 2, "y": 0.5, "z": "pi"})
    assert point["x"].graph is not None  # integers stay exact
    assert point["y"].value == 0.5 and point["z"].value == math.pi
    assert "must be a number" in err(as_point, {"x": ["a"]}).message
    assert "must be a number" in err(as_point, {"x": {"a": 1}}).message
    assert "finite" in err(as_point, {"x": float("nan")}).message


def test_resolve_against_the_program():
    g, _ = build(Source("q = x + y\nq * z"))
    full = parse_at(["x=1,y=2,z=3"])
    assert resolve(g, full, None) == ("x", "y", "z")
    assert resolve(g, full, ["z", "x", "z"]) == ("z", "x")
    missing = err(resolve, g, parse_at(["x=1"]), None)
    assert missing.message == "missing values for inputs y, z; give them with --at y=…,z=…"
    assert missing.span is not None and g.source.snippet(missing.span) == "y"
    assert "did you mean z?" in err(resolve, g, parse_at(["x=1,y=2,z=3,zz=4"]), None).message
    assert "'q' is computed by the program, not an input" in err(
        resolve, g, parse_at(["x=1,y=2,z=3,q=4"]), None).message
    assert "--wrt w: the program has no input 'w'" in err(resolve, g, full, ["w"]).message


@pytest.mark.parametrize("text", ["-3", "2.5e-3", " 7 ", "+4", "-0.20", ".5", "10E+2"])
def test_plain_numbers_skip_the_parser_but_give_the_same_graph(text):
    from bpcalc.lang.lower import build

    fast = parse_at([f"x={text}"])["x"].graph
    slow, _ = build(Source(text, "the value of x"))
    assert (fast.ops, fast.consts, fast.starts, fast.ends, fast.output) == (
        slow.ops, slow.consts, slow.starts, slow.ends, slow.output)


def test_header_point_reads_the_at_comment_lines():
    from bpcalc.errors import Source
    from bpcalc.point import header_point

    source = Source("# a comment\n# at: x=-2, y=5\n#at: z=pi/4\nq = x + y  # at: not a header\nq*z\n", "f.bp")
    point = header_point(source)
    assert {name: v.text for name, v in point.items()} == {"x": "-2", "y": "5", "z": "pi/4"}
    assert header_point(Source("x*y\n")) == {}
    with pytest.raises(BpcalcError) as err:
        header_point(Source("# at: x=1, x=2\nx\n", "f.bp"))
    assert "given twice" in err.value.message and err.value.source.origin == "f.bp: '# at:' line"


def test_values_nested_deeper_than_the_rank_limit_are_refused():
    from bpcalc.limits import MAX_RANK

    deep: object = 1.0
    for _ in range(MAX_RANK + 1):
        deep = [deep]
    with pytest.raises(BpcalcError) as info:
        as_point({"x": deep})
    assert info.value.message == f"x is nested deeper than {MAX_RANK} levels"


def test_messages_and_hints_in_chinese(chinese):
    g, _warnings = build(Source("q = x + y\nq * z"))
    assert err(resolve, g, parse_at(["x=1"]), None).message == "缺少输入 y, z 的值；请用 --at y=…,z=… 给出"
    assert err(resolve, g, parse_at(["x=1,y=2,z=3,zz=4"]), None).message == (
        "--at zz：程序没有输入 'zz'（输入：x, y, z）；是不是想写 z？")
    assert err(parse_at, ["x=1,5"]).message == (
        "x=1,5 中逗号后的 '5' 不是 名=值 的形式：逗号用来分隔各个输入；小数请写成 1.5")
    assert err(parse_at, ["x=1 y=2"]).message == "'x=1 y=2' 包含不止一个值：请用逗号分隔：x=1,y=2"
    wrong = err(parse_at, ["x=abc"])
    assert wrong.render() == ("错误：x 的值：第 1 行第 1 列：'abc' 不是数，也不是已知的常数"
                              "（值是一个数，或 pi/4 这样的常数表达式）\n  abc\n  ^^^")
