"""bpcalc: compute, show and check gradients by backpropagation.

    >>> import bpcalc
    >>> bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4}).gradient
    {'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

from typing import Any

from .api import GradResult, NodeResult
from .errors import BpcalcError
from .notebook import CheckReport, Explained, Picture, check, explain, grad, graph

__all__ = ["grad", "check", "explain", "graph", "grad_batch", "GradResult", "NodeResult", "CheckReport",
           "Explained", "Picture", "BatchResult", "BpcalcError"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """grad_batch and BatchResult load on first use: the command line's
    start-up does not pay for them (issue 6)."""
    if name in ("grad_batch", "BatchResult"):
        from . import batch_api

        return getattr(batch_api, name)
    raise AttributeError(f"module 'bpcalc' has no attribute {name!r}")
