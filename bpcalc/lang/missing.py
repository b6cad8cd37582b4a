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

from ..i18n import _

#: name -> a rewrite that computes the same thing ("" when there is none).
MISSING: dict[str, str] = {
    # trigonometric
    "sec": "1/cos(x)", "csc": "1/sin(x)", "cot": "1/tan(x)",
    "sinc": "sin(x)/x",
    # powers and logarithms
    "square": "x^2", "sqr": "x^2", "cube": "x^3", "cbrt": "",
    "lg": "",
    "exp2": "2^x", "logit": "log(x/(1 - x))",
    # steps, signs and rounding
    "sgn": "", "signum": "", "heaviside": "", "step": "",
    "floor": "", "ceil": "", "round": "", "trunc": "", "mod": "", "fmod": "",
    # activations
    "selu": "", "mish": "",
    "relu6": "min(relu(x), 6)",
    "hardtanh": "max(-1, min(x, 1))",
    "logsigmoid": "log(sigmoid(x))",
    # special functions
    "erfc": "", "gamma": "", "lgamma": "", "factorial": "",
}


#: How a call is written, where it is not name(x).
CALLS = {"mod": "mod(x, y)", "fmod": "fmod(x, y)"}


def unknown_function(name: str, functions: Sequence[str]) -> str:
    """The message for a call of `name`, which is not in `functions`."""
    if name in MISSING:
        rewrite = MISSING[name]
        if rewrite:
            return _("unknown function '{name}' (`bpcalc ops` lists bpcalc's functions); "
                     "for {call} write {rewrite}").format(name=name, call=CALLS.get(name, name + "(x)"),
                                                          rewrite=rewrite)
        return _("unknown function '{name}' (`bpcalc ops` lists bpcalc's functions)").format(name=name)
    from .parser import suggest

    return _("unknown function '{name}'{suggestion}").format(name=name, suggestion=suggest(name, sorted(functions)))
