import pytest

from bpcalc.errors import BpcalcError, Source
from bpcalc.lang.lower import build
from bpcalc.limits import Limits


def graph_of(text, **limits):
    return build(Source(text), Limits(**limits))


def test_inputs_come_first_in_order_of_first_use():
    g, _ = graph_of("2*b + a*b")
    assert g.input_names == ("b", "a")
    assert g.ops[:2] == ("input", "input")
    # every node's arguments come before it
    for i in range(len(g)):
        assert all(j < i for j in g.args(i))


def test_augmented_input_is_met_before_its_right_side():
    # 'x += y' is x = x + y: x comes first, as in the text and in the printed form
    g, _ = graph_of("x += y*2\nx")
    assert g.input_names == ("x", "y")


def test_names_bind_and_rebind_like_python():
    g, _ = graph_of("a = x\na = a * 2\na = a + 1\na")
    assert g.input_names == ("x",)
    assert g.ops[g.output] == "add"
    assert g.names.count("a") == 2  # 'a = x' names nothing: x stays the input x
    assert [g.labels[i] for i in range(len(g)) if g.names[i] == "a"] == ["a@1", "a@2"]


def test_constants_can_be_shadowed():
    g, _ = graph_of("pi")
    assert g.ops == ("const",) and g.consts[0] == (3.141592653589793, "pi")
    g, _ = graph_of("e = x + 1\ne * pi")
    assert g.input_names == ("x",)
    assert g.names[g.args(g.output)[0]] == "e"


def test_augmented_assignment_reads_the_previous_binding():
    g, _ = graph_of("s = x\ns += y\ns *= 2")
    assert g.ops[g.output] == "mul"
    add = g.args(g.output)[0]
    assert g.ops[add] == "add" and g.text(add) == "s += y"


def test_negative_literals_fold_into_one_constant():
    g, _ = graph_of("x * -3")
    assert g.ops == ("input", "const", "mul")
    assert g.consts[1] == (-3.0, "-3") and g.text(1) == "-3"
    g, _ = graph_of("-x")
    assert g.ops == ("input", "neg")


def test_spans_cover_the_source_text():
    g, _ = graph_of("(x+y)*z")
    assert [g.text(i) for i in range(len(g))] == ["x", "y", "z", "x+y", "(x+y)*z"]


def test_the_output_is_the_last_statement():
    g, warnings = graph_of("x + 1; y * 2")
    assert g.text(g.output) == "y * 2"
    assert any("the value of 'x + 1' is not used" in w.message for w in warnings)
    assert any("the input 'x' does not affect the output" in w.message for w in warnings)


def test_dead_assignment_is_warned():
    _, warnings = graph_of("q = x + y\nf = x * 2")
    assert [w.message for w in warnings] == [
        "the input 'y' does not affect the output",
        "'q' (line 1) does not affect the output",
    ]


def test_input_assigned_after_use_is_warned():
    _, warnings = graph_of("y = x * 2\nx = 3\ny + x")
    assert any("'x' is an input" in w.message and "line 2" in w.message for w in warnings)


def test_active_marks_nodes_that_depend_on_inputs():
    g, _ = graph_of("2^3 + x")
    assert [g.active[i] for i in range(len(g))] == [True, False, False, False, True]


def test_function_name_used_as_a_value():
    with pytest.raises(BpcalcError, match="'exp' is a function: call it as exp"):
        graph_of("exp + 1")


def test_literal_overflow_and_underflow_warn():
    _, warnings = graph_of("x + 1e400 + 1e-400")
    messages = [w.message for w in warnings]
    assert "the number 1e400 is too large for a double: it is inf" in messages
    assert "the number 1e-400 is too small for a double: it is 0" in messages


def test_node_limit():
    with pytest.raises(BpcalcError) as info:
        graph_of("x+x+x+x+x", max_nodes=3)
    assert info.value.kind == "limit" and "more than 3 nodes" in info.value.message


def test_a_million_node_program_lowers():
    lines = ["a = x"] + ["a = a*y + sin(a)"] * 333_334
    g, _ = graph_of("\n".join(lines))
    assert len(g) == 2 + 3 * 333_334
    assert g.ops[-3:] == ("mul", "sin", "add")


def test_a_left_out_argument_is_a_constant_node_with_its_default():
    g, _ = graph_of("leaky_relu(x) + elu(x)")
    slope, alpha = (g.args(i)[1] for i in range(len(g)) if g.ops[i] in ("leaky_relu", "elu"))
    assert g.consts[slope] == (0.01, "0.01") and g.consts[alpha] == (1.0, "1")
    assert g.text(slope) == "" and g.starts[slope] == len("leaky_relu(x")  # at the ')'
    assert not g.active[slope]
    written, _ = graph_of("leaky_relu(x, 0.2*y)")
    assert written.active[written.args(written.output)[1]]


def test_max_of_several_arguments_is_one_node_with_all_of_them():
    g, _ = graph_of("m = max(x, y + 1, z, x)\nm")
    node = g.output
    assert g.ops[node] == "max" and [g.labels[j] for j in g.args(node)] == ["x", "%4", "z", "x"]
    assert g.more == {node: (g.input_id("z"), g.input_id("x"))}
    assert g.node(node).inputs == g.args(node)
    # renumbered with the inputs first, the extra arguments follow
    g, _ = graph_of("a = 2*w\nmin(a, 3, v, w)")
    node = g.output
    assert g.input_names == ("w", "v")
    assert [g.labels[j] for j in g.args(node)] == ["a", "%4", "v", "w"]
    assert g.active[node] and g.reaches_output() == [True] * len(g)


def test_wrong_numbers_of_arguments():
    for text, message in [
        ("atan2(x)", "atan2() takes 2 arguments, got 1"),
        ("elu(x, 1, 2)", "elu() takes 1 or 2 arguments, got 3"),
        ("hypot(x, y, z)", "hypot() takes 2 arguments, got 3"),
        ("leaky_relu()", "leaky_relu() needs 1 or 2 arguments"),
    ]:
        with pytest.raises(BpcalcError) as err:
            graph_of(text)
        assert err.value.message == message


def test_errors_and_warnings_in_chinese(chinese):
    with pytest.raises(BpcalcError) as info:
        graph_of("sin + 1")
    assert info.value.message == "'sin' 是函数：请写成 sin(…) 来调用"
    _graph, warnings = build(Source("q = x * 2\ny + 1"))
    assert [w.message for w in warnings] == ["输入 'x' 不影响输出", "'q'（第 1 行）不影响输出"]
