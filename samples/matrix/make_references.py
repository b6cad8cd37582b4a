"""Reference answers for the matrix samples, computed by PyTorch (float64).

A developer check, run outside CI (PyTorch is not a dependency of bpcalc):

    pip install torch==2.13.0
    python samples/matrix/make_references.py

It writes NAME.expect.json for the samples whose answers are not worked by
hand or published (those files say so in their "source"). Each program is
written here again in PyTorch, independently of bpcalc: F.cross_entropy,
torch.relu, torch.sigmoid and autograd.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).parent


def point(name: str) -> dict[str, torch.Tensor]:
    raw = json.loads((HERE / f"{name}.point.json").read_text())
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in raw.items()}


def lee(p: dict) -> torch.Tensor:
    a1 = torch.sigmoid(p["W1"] @ p["x"] + p["b1"])
    a2 = torch.sigmoid(p["W2"] @ a1 + p["b2"])
    y = torch.sigmoid(p["W3"] @ a2 + p["b3"])
    return 0.5 * torch.sum((y - p["t"]) ** 2)


def dlfs(p: dict) -> torch.Tensor:
    return F.cross_entropy(p["X"] @ p["W"] + p["b"], p["t"])  # probability (one-hot) targets


def two_layer(p: dict) -> torch.Tensor:
    h = torch.relu(p["X"] @ p["W1"] + p["b1"])
    s = h @ p["W2"] + p["b2"]
    labels = p["y"].detach().long()  # class indices: data
    return F.cross_entropy(s, labels) + p["reg"] * (torch.sum(p["W1"] * p["W1"]) + torch.sum(p["W2"] * p["W2"]))


SAMPLES = {"lee_network": lee, "dlfs_affine_softmax": dlfs, "cs231n_two_layer": two_layer}
NO_GRADIENT = {"cs231n_two_layer": {"y"}}


def main() -> None:
    for name, fn in SAMPLES.items():
        p = point(name)
        loss = fn(p)
        loss.backward()
        gradient = {k: (v.grad.tolist() if v.grad is not None else None) for k, v in p.items()
                    if k not in NO_GRADIENT.get(name, ())}
        for k in NO_GRADIENT.get(name, ()):
            gradient[k] = None
        doc = {
            "source": f"PyTorch {torch.__version__}, float64, autograd (samples/matrix/make_references.py)",
            "tolerance": 1e-12,
            "value": loss.item(),
            "gradient": gradient,
        }
        (HERE / f"{name}.expect.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(f"{name}: {loss.item()!r}")


if __name__ == "__main__":
    main()
