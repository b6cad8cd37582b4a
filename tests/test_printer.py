from bpcalc.errors import Source
from bpcalc.lang.lower import build
from bpcalc.lang.printer import to_program


def printed(text):
    return to_program(build(Source(text))[0])


def test_minimal_parentheses_keep_the_tree():
    assert printed("(x+y)*z") == "(x + y) * z"
    assert printed("a - (b - c)") == "a - (b - c)"
    assert printed("(a^b)^c + a^b^c") == "(a ^ b) ^ c + a ^ b ^ c"
    assert printed("(-x)^2 + -x^2 + 2^-x") == "(-x) ^ 2 + -x ^ 2 + 2 ^ (-x)"


def test_negation_of_a_constant_stays_a_node():
    assert printed("-(3) + -3 + --3") == "-(3) + -3 + --3"


def test_names_statements_and_unused_values():
    # inputs come first in a graph, so an unused input is printed first
    assert printed("q = x*y\nq + 1; z\nq*2") == "z\nq = x * y\nq + 1\nq * 2"


def test_rebound_and_clashing_names_get_fresh_names():
    assert printed("a = x*2\na = a + 1\na") == "a_1 = x * 2\na_2 = a_1 + 1"
    assert printed("pi = x + 1\npi * e") == "pi_1 = x + 1\npi_1 * e"


def test_output_may_be_an_earlier_binding():
    assert printed("a = x * 2\nb = y + 1\na") == "a = x * 2\nb = y + 1\na"


def test_max_of_many_and_left_out_arguments_print_back():
    assert printed("max(x, y + 1, z)") == "max(x, y + 1, z)"
    assert printed("leaky_relu(x) + elu(x, 2)") == "leaky_relu(x, 0.01) + elu(x, 2)"
    assert printed("m = min(x, x, 2)\natan2(m, hypot(x, m))") == "m = min(x, x, 2)\natan2(m, hypot(x, m))"
    again = to_program(build(Source(printed("swish(arcsin(x)) + max(1, x, -x, sign(x))")))[0])
    assert again == "silu(asin(x)) + max(1, x, -x, sign(x))"
