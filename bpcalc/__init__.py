"""bpcalc: compute, show and check gradients by backpropagation.

    >>> import bpcalc
    >>> bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4}).gradient
    {'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

from . import loading as _loading

_paused = _loading.pause()  # the modules load without the collector's scans
try:
    from typing import Any

    from .api import GradResult, NodeResult
    from .errors import BpcalcError
finally:
    _loading.resume(_paused)

__all__ = ["grad", "check", "explain", "graph", "grad_batch", "GradResult", "NodeResult", "CheckReport",
           "Explained", "Picture", "BatchResult", "BpcalcError", "use_language"]
__version__ = "0.1.0"


_NOTEBOOK = ("grad", "check", "explain", "CheckReport", "Explained", "Picture", "use_language")


def graph(program: str, at: Any = None, **options: Any) -> Any:
    """`bpcalc graph` as a function (`bpcalc.notebook.graph`). Bound here
    rather than loaded on first use like the rest of the API, because
    `bpcalc.graph` is also the name of a submodule, which would shadow it."""
    from .notebook import graph as draw

    return draw(program, at, **options)


def __getattr__(name: str) -> Any:
    """The API (bpcalc.notebook) and grad_batch load on first use: the
    command line's start-up does not pay for them (issue 6)."""
    if name in _NOTEBOOK:
        from . import notebook

        return getattr(notebook, name)
    if name in ("grad_batch", "BatchResult"):
        from . import batch_api

        return getattr(batch_api, name)
    raise AttributeError(f"module 'bpcalc' has no attribute {name!r}")
