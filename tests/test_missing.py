import math

import pytest

from bpcalc import grad
from bpcalc.errors import BpcalcError
from bpcalc.lang.missing import CALLS, MISSING, unknown_function
from bpcalc.ops import FUNCTIONS


def test_no_function_of_the_op_table_is_listed_as_missing():
    # when a function joins the op table, it must leave MISSING
    assert sorted(set(MISSING) & set(FUNCTIONS)) == []
    assert set(CALLS) <= set(MISSING)


# each is close in spelling to a function bpcalc has (sec ~ sin, cot ~ cos,
# sgn ~ sign, selu ~ elu, erfc ~ erf, exp2 ~ exp, relu6 ~ relu), which is a different function
@pytest.mark.parametrize("name", ["sec", "cot", "sgn", "selu", "erfc", "exp2", "relu6", "square", "logit"])
def test_a_known_other_function_never_gets_a_did_you_mean(name):
    message = unknown_function(name, tuple(FUNCTIONS))
    assert "did you mean" not in message
    assert message.startswith(f"unknown function '{name}' (`bpcalc ops` lists bpcalc's functions)")


@pytest.mark.parametrize("name, rewrite", [
    ("square", "for square(x) write x^2"),
    ("sec", "for sec(x) write 1/cos(x)"),
    ("exp2", "for exp2(x) write 2^x"),
    ("relu6", "for relu6(x) write min(relu(x), 6)"),
])
def test_the_rewrite_is_suggested(name, rewrite):
    assert unknown_function(name, tuple(FUNCTIONS)).endswith(f"; {rewrite}")


def test_no_rewrite_where_there_is_none():
    assert unknown_function("cbrt", tuple(FUNCTIONS)) == (
        "unknown function 'cbrt' (`bpcalc ops` lists bpcalc's functions)")


def test_a_typo_still_gets_its_suggestion():
    assert unknown_function("sigmod", tuple(FUNCTIONS)) == "unknown function 'sigmod'; did you mean sigmoid?"
    assert unknown_function("tahn", tuple(FUNCTIONS)) == "unknown function 'tahn'; did you mean tanh?"
    assert unknown_function("frobnicate", tuple(FUNCTIONS)) == "unknown function 'frobnicate'"


# Python's math module, independent of bpcalc, gives the reference values.
REFERENCE = {
    "sinh": math.sinh, "cosh": math.cosh, "asinh": math.asinh, "arcsinh": math.asinh,
    "sec": lambda x: 1 / math.cos(x), "csc": lambda x: 1 / math.sin(x), "cot": lambda x: 1 / math.tan(x),
    "sinc": lambda x: math.sin(x) / x, "square": lambda x: x * x, "sqr": lambda x: x * x,
    "cube": lambda x: x ** 3, "log10": math.log10, "log2": math.log2, "log1p": math.log1p,
    "expm1": math.expm1, "exp2": lambda x: 2 ** x, "logit": lambda x: math.log(x / (1 - x)),
    "elu": lambda x: x if x > 0 else math.expm1(x), "silu": lambda x: x / (1 + math.exp(-x)),
    "swish": lambda x: x / (1 + math.exp(-x)), "relu6": lambda x: min(max(x, 0.0), 6.0),
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x, "hardtanh": lambda x: max(-1.0, min(x, 1.0)),
    "softsign": lambda x: x / (1 + abs(x)), "logsigmoid": lambda x: -math.log1p(math.exp(-x)),
}


@pytest.mark.parametrize("name", sorted(n for n, r in MISSING.items() if r and n not in CALLS))
@pytest.mark.parametrize("x", [-1.7, 0.3, 7.5])
def test_every_rewrite_computes_the_function(name, x):
    if name == "logit" and not 0 < x < 1:
        x = 0.3
    if name.startswith("log") and name != "logsigmoid":
        x = abs(x)
    assert grad(MISSING[name], {"x": repr(x)}, check=False).value == pytest.approx(REFERENCE[name](x), rel=1e-12)


def test_the_parser_uses_it():
    with pytest.raises(BpcalcError) as info:
        grad("1 + sec(p)", {"p": 2}, check=False)
    assert info.value.render() == (
        "error: line 1, column 5: unknown function 'sec' (`bpcalc ops` lists bpcalc's functions); "
        "for sec(x) write 1/cos(x)\n"
        "  1 + sec(p)\n"
        "      ^^^")
