"""Well-known functions that bpcalc does not have, and what to write instead.

A "did you mean" that points at a different function is worse than none:
following it silently computes something else (atan -> tan, softmax -> max,
log10 -> log). So an unknown function name is first looked up here: a known
name gets a message saying bpcalc has no such function, pointing at
`bpcalc ops`, with a rewrite in bpcalc's own functions where there is one
that means the same thing. Only other names get a spelling suggestion.

This is the one list of them. When a function is added to the op table, its
name must leave this list (tests/test_missing.py checks that no name is in
both).
"""

from __future__ import annotations

from typing import Sequence

#: name -> a rewrite that computes the same thing ("" when there is none).
MISSING: dict[str, str] = {
    # inverse trigonometric and hyperbolic functions
    "asin": "", "arcsin": "", "acos": "", "arccos": "", "atan": "", "arctan": "", "atan2": "",
    "sinh": "(exp(x) - exp(-x))/2",
    "cosh": "(exp(x) + exp(-x))/2",
    "asinh": "log(x + sqrt(x^2 + 1))", "arcsinh": "log(x + sqrt(x^2 + 1))",
    "acosh": "", "arccosh": "", "atanh": "", "arctanh": "",
    "sec": "1/cos(x)", "csc": "1/sin(x)", "cot": "1/tan(x)",
    "sinc": "sin(x)/x",
    # powers and logarithms
    "square": "x^2", "sqr": "x^2", "cube": "x^3", "cbrt": "",
    "log10": "log(x)/log(10)", "log2": "log(x)/log(2)", "lg": "", "log1p": "log(1 + x)",
    "expm1": "exp(x) - 1", "exp2": "2^x", "logit": "log(x/(1 - x))",
    "hypot": "sqrt(x^2 + y^2)",
    # steps, signs and rounding
    "sign": "", "sgn": "", "signum": "", "heaviside": "", "step": "",
    "floor": "", "ceil": "", "round": "", "trunc": "", "mod": "", "fmod": "",
    # activations
    "elu": "relu(x) + min(0, exp(x) - 1)",
    "selu": "", "gelu": "", "mish": "",
    "silu": "x*sigmoid(x)", "swish": "x*sigmoid(x)",
    "relu6": "min(relu(x), 6)",
    "leaky_relu": "max(x, 0.01*x)",
    "hardtanh": "max(-1, min(x, 1))",
    "softsign": "x/(1 + abs(x))",
    "logsigmoid": "log(sigmoid(x))",
    "softmax": "exp(a)/(exp(a) + exp(b) + …), one component at a time",
    "logsumexp": "log(exp(a) + exp(b) + …)",
    # special functions
    "erf": "", "erfc": "", "gamma": "", "lgamma": "", "factorial": "",
}


#: How a call is written, where it is not name(x).
CALLS = {"atan2": "atan2(y, x)", "hypot": "hypot(x, y)", "softmax": "softmax(a, b, …)",
         "logsumexp": "logsumexp(a, b, …)", "mod": "mod(x, y)", "fmod": "fmod(x, y)"}


def unknown_function(name: str, functions: Sequence[str]) -> str:
    """The message for a call of `name`, which is not in `functions`."""
    if name in MISSING:
        rewrite = MISSING[name]
        instead = f"; for {CALLS.get(name, name + '(x)')} write {rewrite}" if rewrite else ""
        return f"unknown function '{name}' (`bpcalc ops` lists bpcalc's functions){instead}"
    from .parser import suggest

    return f"unknown function '{name}'{suggest(name, sorted(functions))}"
