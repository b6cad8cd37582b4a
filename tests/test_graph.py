from bpcalc.errors import Source
from bpcalc.lang.lower import build


def test_node_view_and_labels():
    g, _ = build(Source("q = x + y\nf = q * -2"))
    node = g.node(g.output)
    assert (node.op, node.name, node.label, node.text, node.inputs) == ("mul", "f", "f", "q * -2", (2, 3))
    assert g.node(3).literal == "-2" and g.node(3).label == "%3"


def test_reaches_output_and_ancestors():
    g, _ = build(Source("a = x*2\nb = y+1\na"))
    live = g.reaches_output()
    assert [g.labels[i] for i in range(len(g)) if live[i]] == ["x", "%2", "a"]
    assert g.ancestors([]) == [False] * len(g)


def test_describe_names_the_node_and_the_line():
    g, _ = build(Source("a = x\nb = exp(a * 1000)"))
    assert g.describe(g.output) == "b `exp(a * 1000)` on line 2"
    long, _ = build(Source("x" + "+x" * 40))
    assert g.describe(0).startswith("x `x`")
    assert long.describe(long.output, width=10) == "%40 `x+x+x+x+x…`"


def test_nodes_with_more_than_two_arguments():
    g, _ = build(Source("u = 1 + y\nd = u*2\nmax(x, y, d, 4)"))
    out = g.output
    assert g.args(out) == (g.input_id("x"), g.input_id("y"), g.names.index("d"), out - 1)
    assert [g.labels[i] for i, a in enumerate(g.ancestors([g.names.index("d")])) if a] == ["y", "%2", "u", "%4", "d"]
    assert [g.labels[i] for i, a in enumerate(g.ancestors([out - 1])) if a] == ["%6"]
    assert all(g.reaches_output())
    assert g.node(out).inputs == g.args(out) and g.args(0) == ()
