"""bpcalc: compute, show and check gradients by backpropagation.

    >>> import bpcalc
    >>> bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4}).gradient
    {'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

from .api import GradResult, NodeResult, grad
from .batch_api import BatchResult, grad_batch
from .errors import BpcalcError

__all__ = ["grad", "grad_batch", "GradResult", "BatchResult", "NodeResult", "BpcalcError"]
__version__ = "0.1.0"
