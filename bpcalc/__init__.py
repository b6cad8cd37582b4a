"""bpcalc: compute, show and check gradients by backpropagation.

    >>> import bpcalc
    >>> bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4}).gradient
    {'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

from .api import GradResult, NodeResult
from .errors import BpcalcError
from .notebook import CheckReport, Explained, Picture, check, explain, grad, graph

__all__ = ["grad", "check", "explain", "graph", "GradResult", "NodeResult", "CheckReport", "Explained", "Picture",
           "BpcalcError"]
__version__ = "0.1.0"
