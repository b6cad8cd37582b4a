import pytest

from bpcalc.errors import BpcalcError, Source
from bpcalc.lang.parser import parse, suggest


def postfix(text):
    (stmt,) = parse(Source(text)).statements
    return [(tag, payload) for tag, payload, _s, _e in stmt.expr]


def error(text):
    with pytest.raises(BpcalcError) as info:
        parse(Source(text))
    return info.value


def test_precedence_and_left_associativity():
    assert postfix("a - b - c * d / e") == [
        ("name", "a"), ("name", "b"), ("op", "sub"), ("name", "c"), ("name", "d"), ("op", "mul"),
        ("name", "e"), ("op", "div"), ("op", "sub"),
    ]


def test_power_is_right_associative_and_binds_tighter_than_unary_minus():
    assert postfix("-x^2^3") == [
        ("name", "x"), ("num", "2"), ("num", "3"), ("op", "pow"), ("op", "pow"), ("op", "neg"),
    ]
    assert postfix("2**-x") == [("num", "2"), ("name", "x"), ("op", "neg"), ("op", "pow")]


def test_unary_plus_makes_no_node_and_calls_and_groups():
    assert postfix("+max(a, (b))") == [
        ("name", "a"), ("name", "b"), ("group", None), ("call", "max"),
    ]


def test_statements_assignments_and_spans():
    prog = parse(Source("q = x + y\nf = q * z; f *= 2"))
    targets = [(s.target, s.augment) for s in prog.statements]
    assert targets == [("q", None), ("f", None), ("f", "mul")]
    assert prog.source.snippet(prog.statements[1].span) == "f = q * z"


def test_newlines_inside_parentheses_are_spaces():
    assert postfix("(x +\n y)") == [("name", "x"), ("name", "y"), ("op", "add"), ("group", None)]


def test_deep_nesting_does_not_recurse():
    depth = 100_000
    expr = postfix("(" * depth + "x" + ")" * depth)
    assert expr[0] == ("name", "x") and len(expr) == depth + 1


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("x y", "missing operator between 'x' and 'y'", 3),
        ("2x", "write 2*x to multiply", 2),
        ("x +", "the expression ends after '+'", 3),
        ("(x + 1", "'(' is never closed", 1),
        ("x)", "unmatched ')'", 2),
        ("sigmod(x)", "unknown function 'sigmod'; did you mean sigmoid?", 1),
        ("pow(x)", "pow() takes 2 arguments, got 1", 1),
            ("leaky_relu(x, 1, 2)", "leaky_relu() takes 1 or 2 arguments, got 3", 1),
            ("atan2(x)", "atan2() takes 2 arguments, got 1", 1),
        ("exp()", "exp() needs 1 argument", 1),
        ("x = ", "nothing after '='", 3),
        ("3 = x", "cannot assign to the number 3", 1),
        ("x + 1 = 2", "only a name at the start of a statement can be assigned", 7),
        ("f(x, y", "unknown function 'f'", 1),
        ("x, y", "',' outside a function call", 2),
        ("()", "empty parentheses '()'", 1),
        ("x if y else z", "'if' is Python, not part of the bpcalc language", 3),
        ("lambda: 1", "this is Python's lambda, not part of the bpcalc language", 1),
        ("lambda x: x", "this is Python's lambda", 1),
        ("1_000*x", "'_' is not part of a number: write 1000", 1),
        ("y + 1_000_000", "'_' is not part of a number: write 1000000", 5),
        ("square(x)", "unknown function 'square' (`bpcalc ops` lists bpcalc's functions); for square(x) write x^2", 1),
        ("2(x)", "missing operator before '('", 2),
        ("(x;y)", "';' inside parentheses", 3),
        ("* x", "a statement cannot start with '*'", 1),
    ],
)
def test_errors_point_at_the_place(text, message, column):
    err = error(text)
    assert message in err.message
    assert err.position == (1, column)
    assert err.kind in ("parse", "name", "arity")


def test_empty_program():
    assert "empty program" in error("  # only a comment\n").message


def test_error_on_a_later_line():
    err = error("a = 1\nb = a +* 2")
    assert err.position == (2, 8)
    assert err.render().splitlines()[1:] == ["  b = a +* 2", "         ^"]


def test_lambda_is_a_name():
    # the usual name of a regularisation weight
    assert postfix("lambda*w^2") == [("name", "lambda"), ("name", "w"), ("num", "2"), ("op", "pow"), ("op", "mul")]


def test_suggest():
    assert suggest("sigmod", ["sigmoid", "sin"]) == "; did you mean sigmoid?"
    assert suggest("tahn", ["tan", "tanh"]) == "; did you mean tanh?"  # the same letters first
    assert suggest("zzz", ["sigmoid"]) == ""


def postfix(text: str) -> list:
    return [(tag, payload) for tag, payload, _s, _e in parse(Source(text)).statements[-1].expr]


def test_matmul_has_the_precedence_of_multiplication():
    assert postfix("a + B @ c * d") == [
        ("name", "a"), ("name", "B"), ("name", "c"), ("op", "matmul"), ("name", "d"), ("op", "mul"), ("op", "add")]


def test_transpose_binds_tightest():
    assert postfix("-W.T @ x") == [("name", "W"), ("op", "transpose"), ("op", "neg"), ("name", "x"), ("op", "matmul")]
    assert postfix("(a + b).T") == [("name", "a"), ("name", "b"), ("op", "add"), ("group", None), ("op", "transpose")]


def test_keyword_arguments_and_reducing_max():
    assert postfix("sum(X, axis=-1)")[-1] == ("callk", ("sum", 1, ("axis",)))
    assert postfix("max(X)")[-1] == ("callk", ("amax", 1, ()))
    assert postfix("max(x, y)")[-1] == ("call", "max")


@pytest.mark.parametrize("text, message", [
    ("sum(X, axs=0)", "sum() has no keyword argument 'axs'; its keyword is axis="),
    ("sum(axis=0, X)", "a positional argument after axis=: keyword arguments come last"),
    ("sum(X, axis=0, axis=1)", "sum() is given axis= twice"),
    ("exp(x, axis=1)", "exp() has no keyword argument 'axis' (it takes no keyword arguments)"),
    ("x[0]", "indexing with [...] after 'x' is not supported"),
    ("x.real", "'.real' is not part of the bpcalc language: the only attribute is .T"),
    ("softmax(x, y)", "softmax() takes 1 argument, got 2"),
])
def test_tensor_syntax_errors(text, message):
    with pytest.raises(BpcalcError) as info:
        parse(Source(text))
    assert message in info.value.message


def test_the_course_functions_names_are_known_and_suggested():
    from bpcalc.ops import FUNCTIONS

    for name in ("atan", "arctan", "sinh", "log10", "leaky_relu", "gelu", "swish", "softsign", "atan2"):
        assert name in FUNCTIONS
    assert error("gleu(x)").message == "unknown function 'gleu'; did you mean gelu?"
    assert error("arctan3(x)").message == "unknown function 'arctan3'; did you mean arctan?"
    assert error("leakyrelu(x)").message == "unknown function 'leakyrelu'; did you mean leaky_relu?"
    program = parse(Source("max(x, y, z); leaky_relu(x)"))
    assert [item[:2] for s in program.statements for item in s.expr if item[0] != "name"] == [
        ("calln", ("max", 3)), ("calln", ("leaky_relu", 1)),
    ]


@pytest.mark.parametrize("text, message", [
    ("x*tahn(y)", "未知函数 'tahn'；是不是想写 tanh？"),
    ("sec(x)", "未知函数 'sec'（`bpcalc ops` 列出 bpcalc 的函数）；sec(x) 请写成 1/cos(x)"),
    ("2x", "'2' 和 'x' 之间缺少运算符；相乘请写成 2*x"),
    ("(x+1", "'(' 没有闭合"),
    ("x +", "表达式在 '+' 之后就结束了"),
    ("exp(x, y)", "exp() 接受 1 个参数，实际给了 2 个"),
    ("if x", "'if' 是 Python 的写法，不属于 bpcalc 语言"),
])
def test_errors_in_chinese(chinese, text, message):
    assert error(text).message == message


def test_the_argument_counts_are_the_op_tables_words():
    from bpcalc.ops import FUNCTIONS

    # an empty call says how many the op takes, in the op table's words
    assert all(error(f"{name}()").message == f"{name}() needs {op.arguments()}" for name, op in FUNCTIONS.items())


def test_argument_counts_in_chinese(chinese):
    assert error("max()").message == "max() 需要 2 个或更多参数"
    assert error("leaky_relu(x, 1, 2)").message == "leaky_relu() 接受 1 或 2 个参数，实际给了 3 个"
