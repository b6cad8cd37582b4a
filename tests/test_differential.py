"""Differential test: bpcalc against PyTorch's autograd (float64).

Random programs over every op in the table (read from `OPS`), with fan-out
(names used several times), reassignment (`a = a * x`, `x += ...`) and
augmented assignment, at random points that include kinks (0, ties), poles
and overflow (1000, 1e308). Each program is evaluated twice, independently:
by bpcalc (`bpcalc.grad`, no SymPy check) from its text, and by PyTorch from
the generator's own tree (PyTorch never sees bpcalc's parser or graph).

Every difference must be one of the documented conventions (README, "Agreement
with PyTorch"), recognised by a check (four by running PyTorch again under
bpcalc's convention, the others by their signature); anything else fails,
listing the programs:

- `domain`: bpcalc refuses (log of 0, division by zero, ...) where PyTorch
  returns inf or nan somewhere along the way;
- `zero wins`: bpcalc's gradient is a number where PyTorch's is nan (0 x inf):
  PyTorch's own local partials combined by bpcalc's rules for zeros (a zero
  adjoint or a zero local partial passes nothing back) give bpcalc's number;
- `ill-conditioned`: within what moving each PyTorch operation's result by a
  few units in the last place changes in PyTorch's own answer;
- `signed zero`: sqrt's slope at -0.0 is +inf in bpcalc, -inf in PyTorch;
  PyTorch with +inf gives bpcalc's number;
- `nan stays nan`: bpcalc's value or gradient is nan where PyTorch's pow
  turned a nan into 1 (1^nan, nan^0);
- `sigmoid tails`: PyTorch with sigmoid and softplus in bpcalc's stable forms
  gives bpcalc's number (torch.sigmoid(-710) is 0, its slope 0 from 37 on);
- `subnormal reciprocal`: bpcalc's partial 1/a overflows for a subnormal a
  (bpcalc says inf, with a warning, where PyTorch divides and has a number);
- `overflow order`: both beyond 1e300, one overflowed in another order;
- `limits and stable forms`: PyTorch with the course functions as bpcalc
  computes them (softsign(±inf) = ±1, atan2 and hypot's slopes where one side
  is infinite or x^2 + y^2 overflows or underflows, gelu and silu in stable
  forms, expm1's slope e^a, asinh's and acosh's slopes without squaring,
  leaky_relu and elu without 0 * inf on the side not taken) gives bpcalc's
  number;
- `infinite slope`: a value rounded onto a point of infinite slope (acos(c)
  with c = -1 + 5e-47 rounded to -1): bpcalc's gradient is ±inf, with its
  warning, where PyTorch's is nan; neither is the true (finite) gradient.

Not run in CI (torch is an optional extra: `pip install -e '.[differential]'`);
`BPCALC_DIFFERENTIAL=100000 python -m pytest tests/test_differential.py -s`
is the long check (README). The default count is small.
"""

from __future__ import annotations

import math
import os
import random
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

import bpcalc
from bpcalc.errors import BpcalcError
from bpcalc.ops import FUNCTIONS, OPS

torch = pytest.importorskip("torch")
F = torch.nn.functional

COUNT = int(os.environ.get("BPCALC_DIFFERENTIAL", "300"))
SEED = int(os.environ.get("BPCALC_DIFFERENTIAL_SEED", "12"))
RTOL, ATOL = 1e-7, 1e-9

#: Each op of the table as PyTorch computes it (float64 tensors in, out).
TORCH = {
    "neg": torch.neg, "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "pow": torch.pow, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "sin": torch.sin,
    "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu, "softplus": F.softplus, "abs": torch.abs, "max": torch.maximum,
    "min": torch.minimum,
    # the course functions (issue 13)
    "asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "atan2": torch.atan2, "sinh": torch.sinh,
    "cosh": torch.cosh, "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh,
    "log10": torch.log10, "log2": torch.log2, "log1p": torch.log1p, "expm1": torch.expm1, "erf": torch.erf,
    "sign": torch.sign, "hypot": torch.hypot, "gelu": F.gelu, "silu": F.silu, "softsign": F.softsign,
    # PyTorch's definitions with the slope / alpha as a tensor (F.leaky_relu and F.elu take a float)
    "leaky_relu": lambda a, s: torch.where(a > 0, a, a * s),
    "elu": lambda a, alpha: torch.where(a > 0, a, alpha * torch.expm1(torch.clamp(a, max=0.0))),
}

class _StableSigmoid(torch.autograd.Function):
    """sigmoid as e^-|a| keeps it in the tails (torch.sigmoid(-710) is 0 and
    its slope sigma*(1 - sigma) is 0 from a = 37 on): the reference for the
    "sigmoid tails" class."""

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        z = torch.exp(-a.abs())
        return torch.where(a >= 0, 1 / (1 + z), z / (1 + z))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (a,) = ctx.saved_tensors
        z = torch.exp(-a.abs())
        return g * z / ((1 + z) * (1 + z))


class _StableSoftplus(torch.autograd.Function):
    """softplus as log1p(e^-|a|) + max(a, 0), slope the stable sigmoid
    (F.softplus is a above 20, with slope 1)."""

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return torch.log1p(torch.exp(-a.abs())) + a.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (a,) = ctx.saved_tensors
        return g * _StableSigmoid.forward(ctx, a)


class _PositiveSqrt(torch.autograd.Function):
    """sqrt with slope +inf at -0.0 as at +0.0 (torch.sqrt's is 0.5/sqrt(-0.0) = -inf)."""

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        out = torch.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g * torch.where(out == 0, math.inf, 0.5 / out)


STABLE = {**TORCH, "sigmoid": _StableSigmoid.apply, "softplus": _StableSoftplus.apply}


class _LimitAtan2(torch.autograd.Function):
    """atan2 whose slopes tend to 0 where one argument is infinite
    (torch's y/(x^2 + y^2) gives inf/inf = nan there)."""

    @staticmethod
    def forward(ctx: Any, y: Any, x: Any) -> Any:
        ctx.save_for_backward(y, x)
        return torch.atan2(y, x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        y, x = ctx.saved_tensors
        h = torch.hypot(x, y)  # x/h/h: no overflow or underflow in x^2 + y^2
        flat = torch.isinf(x) != torch.isinf(y)
        return g * torch.where(flat, 0.0, x / h / h), g * torch.where(flat, 0.0, -y / h / h)


class _LimitHypot(torch.autograd.Function):
    """hypot whose slopes tend to (sign, 0) where one argument is infinite."""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        out = torch.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b, out = ctx.saved_tensors
        one = torch.isinf(a) != torch.isinf(b)
        da = torch.where(one, torch.where(torch.isinf(a), torch.sign(a), 0.0), a / out)
        db = torch.where(one, torch.where(torch.isinf(b), torch.sign(b), 0.0), b / out)
        return g * da, g * db


def _limit_softsign(a: Any) -> Any:
    """softsign(±inf) = ±1 (torch: inf/inf = nan), slope 0 there."""
    inf = torch.isinf(a)
    safe = torch.where(inf, 0.0, a)
    return torch.where(inf, torch.sign(a), safe / (1 + safe.abs()))


def _limit_gelu(a: Any) -> Any:
    """gelu in its erfc form, with gelu(-inf) = 0 (slope 0) and gelu(inf) = inf (slope 1)."""
    inf = torch.isinf(a)
    safe = torch.where(inf, 0.0, a)
    return torch.where(a == math.inf, a, torch.where(inf, 0.0 * safe, 0.5 * safe * torch.special.erfc(-safe * math.sqrt(0.5))))


def _with_slope(forward: Any, slope: Any) -> Any:
    """A unary function whose backward is `slope(a)` (written the way bpcalc
    computes it) instead of PyTorch's own formula."""

    class _Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            ctx.save_for_backward(a)
            return forward(a)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (a,) = ctx.saved_tensors
            return g * slope(a)

    return _Function.apply


#: expm1 with slope e^a (torch's backward uses expm1(a) + 1, which cancels for
#: a < -36: the slope at log(1e-300) comes out 0); asinh with slope
#: 1/hypot(a, 1) (torch's 1/sqrt(a^2 + 1) is 0 once a^2 overflows); acosh with
#: slope 1/sqrt((a - 1)(a + 1)), the root taken of each factor.
_stable_expm1 = _with_slope(torch.expm1, torch.exp)
_stable_asinh = _with_slope(torch.asinh, lambda a: 1 / torch.hypot(a, torch.ones_like(a)))
_stable_acosh = _with_slope(torch.acosh, lambda a: 1 / torch.sqrt(a - 1) / torch.sqrt(a + 1))


def _selected(a: Any, other: Any) -> Any:
    """`other` where a <= 0, else 0: the left branch's factor, so that an
    infinite slope on the unselected side does not make 0 * inf = nan."""
    return torch.where(a > 0, torch.zeros_like(other), other)


#: The course functions in stable forms and with their limits at ±inf, as
#: bpcalc computes them, and leaky_relu / elu without torch.where's 0 * inf
#: on the side not taken: the reference for the "limits and stable forms" class.
LIMITS = {
    **STABLE, "softsign": _limit_softsign, "atan2": _LimitAtan2.apply, "hypot": _LimitHypot.apply,
    "silu": lambda a: a * _StableSigmoid.apply(a), "gelu": _limit_gelu,
    "leaky_relu": lambda a, s: torch.where(a > 0, a, _selected(a, a) * _selected(a, s)),
    "elu": lambda a, alpha: torch.where(a > 0, a, _selected(a, alpha) * _stable_expm1(torch.clamp(a, max=0.0))),
    "expm1": _stable_expm1, "asinh": _stable_asinh, "acosh": _stable_acosh,
}
POSITIVE_ZERO = {**TORCH, "sqrt": _PositiveSqrt.apply}

INPUTS = ("x", "y", "z")
LOCALS = ("a", "b", "c")
CONSTANTS = ("0", "1", "2", "3", "0.5", "0.25", "1.5e-1", "10", "1000", "1e-8", "1e308", "pi", "e")
SPECIAL_POINTS = (0.0, 0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1000.0, -1000.0, 30.0, 1e-300, 710.0)

# --- programs as trees: ("name", n) | ("const", text) | ("op", name, args) ------


def _function_name(op_name: str) -> str | None:
    """How a program calls `op_name` as a function, if it can."""
    for name, op in FUNCTIONS.items():
        if op.name == op_name:
            return name
    return None


def _text(tree: tuple) -> str:
    kind = tree[0]
    if kind in ("name", "const"):
        return tree[1]
    op = OPS[tree[1]]
    args = [f"({_text(a)})" for a in tree[2]]
    return op.text(*args)


def _tree(rng: random.Random, names: list[str], depth: int) -> tuple:
    if depth <= 0 or rng.random() < 0.25:
        if rng.random() < 0.7:
            return ("name", rng.choice(names))
        return ("const", rng.choice(CONSTANTS))
    op = OPS[rng.choice(sorted(OPS))]
    return ("op", op.name, tuple(_tree(rng, names, depth - 1) for _ in range(op.arity)))


@dataclass(frozen=True)
class Program:
    text: str
    statements: tuple[tuple[str | None, str | None, tuple], ...]  # (target, augment op, tree)


_AUGMENTS = {"+=": "add", "-=": "sub", "*=": "mul", "/=": "div"}


def random_program(rng: random.Random) -> Program:
    names = list(INPUTS[: rng.randint(1, 3)])
    lines, statements = [], []
    for _ in range(rng.randint(0, 4)):
        target = rng.choice(LOCALS + tuple(names))
        tree = _tree(rng, names, rng.randint(1, 4))
        if target in names and rng.random() < 0.5:
            sign = rng.choice(sorted(_AUGMENTS))
            lines.append(f"{target} {sign} {_text(tree)}")
            statements.append((target, _AUGMENTS[sign], tree))
        else:
            lines.append(f"{target} = {_text(tree)}")
            statements.append((target, None, tree))
        if target not in names:
            names.append(target)
    # the output reads several names, so values fan out
    tree = ("op", "add", (_tree(rng, names, rng.randint(1, 4)), ("name", rng.choice(names))))
    lines.append(_text(tree))
    statements.append((None, None, tree))
    return Program("\n".join(lines), tuple(statements))


def random_point(rng: random.Random) -> dict[str, float]:
    def one() -> float:
        if rng.random() < 0.3:
            return rng.choice(SPECIAL_POINTS) * rng.choice((1, -1))
        return rng.randint(-300, 300) / 100

    return {name: one() for name in INPUTS}


# --- PyTorch's answer, from the tree ---------------------------------------------


@dataclass(frozen=True)
class TorchAnswer:
    value: float
    gradient: dict[str, float]  # by input, for the inputs the program reads
    nonfinite_value: bool  # some intermediate value is inf or nan
    nan_value: bool  # some intermediate value is nan
    negative_zero: bool  # some input or intermediate value is -0.0
    subnormal: bool  # some input or intermediate value is subnormal (its reciprocal overflows)
    #: PyTorch's own local partials, combined by bpcalc's two rules (a zero
    #: adjoint, or a zero local partial, passes nothing back) instead of
    #: multiplied: what PyTorch would give under bpcalc's convention.
    zero_wins: dict[str, float]


def _zero_wins(tape: list[tuple[Any, Any, tuple[Any, ...]]], out: Any, leaves: dict[str, Any]) -> dict[str, float]:
    """Reverse sweep over the tape (node, PyTorch function, arguments), with
    each op's local partials from torch.autograd.grad and bpcalc's rules for
    zeros in place of PyTorch's products."""
    adjoint: dict[int, float] = {id(out): 1.0}
    for node, fn, args in reversed(tape):
        g = adjoint.get(id(node), 0.0)
        if g == 0.0:
            continue
        free = [a.detach().requires_grad_(a.requires_grad) for a in args]
        wanted = [k for k, a in enumerate(free) if a.requires_grad]
        if not wanted:
            continue
        local = torch.autograd.grad(fn(*free), [free[k] for k in wanted], allow_unused=True)
        for k, d in zip(wanted, local):
            partial = 0.0 if d is None else d.item()
            if partial != 0.0:
                adjoint[id(args[k])] = adjoint.get(id(args[k]), 0.0) + g * partial
    return {name: adjoint.get(id(leaf), 0.0) for name, leaf in leaves.items()}


def torch_answer(program: Program, point: dict[str, float], jitter: random.Random | None = None,
                 ops: dict[str, Any] = TORCH) -> TorchAnswer:
    """PyTorch's value and gradient; with `jitter`, every operation's result
    is moved by a few units in the last place (as another library's rounding
    would), to measure how much rounding alone changes the answer; `ops`
    STABLE for sigmoid and softplus computed in their stable forms."""
    env: dict[str, Any] = {}
    leaves: dict[str, Any] = {}
    tape: list[tuple[Any, Any, tuple[Any, ...]]] = []

    def read(name: str) -> Any:
        if name in env:
            return env[name]
        if name in INPUTS:  # read before it is assigned: an input
            leaf = leaves[name] = torch.tensor(point[name], dtype=torch.float64, requires_grad=True)
            env[name] = leaf
            return leaf
        return const(name)

    def const(text: str) -> Any:
        return torch.tensor({"pi": math.pi, "e": math.e}.get(text) or float(text), dtype=torch.float64)

    def apply(op: str, *args: Any) -> Any:
        out = ops[op](*args)
        if jitter is not None:
            out = out * (1 + jitter.choice((-4, -2, -1, 1, 2, 4)) * 2.0**-53)
        tape.append((out, ops[op], args))
        return out

    def walk(tree: tuple) -> Any:  # generated trees are shallow
        if tree[0] == "name":
            return read(tree[1])
        if tree[0] == "const":
            return const(tree[1])
        return apply(tree[1], *[walk(a) for a in tree[2]])

    out = None
    for target, augment, tree in program.statements:
        if augment is not None:
            before = read(target)  # x += e reads x first, as the text does
            out = apply(augment, before, walk(tree))
        else:
            out = walk(tree)
        if target is not None:
            env[target] = out
    assert out is not None
    gradient = {name: 0.0 for name in leaves}
    if out.requires_grad:
        found = torch.autograd.grad(out, list(leaves.values()), allow_unused=True)
        gradient = {name: 0.0 if d is None else d.item() for name, d in zip(leaves, found)}
    values = [t.item() for t, _, _ in tape]
    return TorchAnswer(
        out.item(), gradient, not all(map(math.isfinite, values)), any(map(math.isnan, values)),
        any(v == 0 and math.copysign(1.0, v) < 0 for v in [*values, *point.values()]),
        any(0 < abs(v) < 2.2250738585072014e-308 for v in [*values, *point.values()]),
        _zero_wins(tape, out, leaves) if out.requires_grad else gradient,
    )


# --- comparing -------------------------------------------------------------------


def _close(a: float, b: float, slack: float) -> bool:
    if slack == math.inf:
        return True  # rounding alone can give anything here
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= ATOL + RTOL * abs(b) + slack


def _spread(program: Program, point: dict[str, float], answer: TorchAnswer) -> tuple[float, dict[str, float]]:
    """How much PyTorch's own value and gradient move when each operation
    rounds differently (a few units in the last place): the point's condition."""
    worst_value, worst = 0.0, {name: 0.0 for name in answer.gradient}
    jitter = random.Random(zlib.crc32(program.text.encode()))
    for _ in range(4):
        other = torch_answer(program, point, jitter)
        worst_value = max(worst_value, _gap(answer.value, other.value))
        for name in worst:
            worst[name] = max(worst[name], _gap(answer.gradient[name], other.gradient.get(name, 0.0)))
    return 4 * worst_value, {n: 4 * w for n, w in worst.items()}


def _gap(a: float, b: float) -> float:
    if math.isfinite(a) and math.isfinite(b):
        return abs(a - b)
    return 0.0 if a == b or (math.isnan(a) and math.isnan(b)) else math.inf


def compare(program: Program, point: dict[str, float]) -> str:
    """'agree', the documented classes of difference found ('zero wins',
    'signed zero+zero wins', ...), or 'DIFFERENT: ...'."""
    answer = torch_answer(program, point)
    at = {name: repr(point[name]) for name in answer.gradient}
    try:
        result = bpcalc.grad(program.text, at=at, check=False)
    except BpcalcError as err:
        stable = torch_answer(program, point, ops=STABLE)
        if err.kind == "domain" and any(a.nonfinite_value or not math.isfinite(a.value) for a in (answer, stable)):
            return "domain"
        return f"DIFFERENT: bpcalc error {err.kind}: {err.message}; torch {answer}"
    ours = {"value": result.value, **result.gradient}
    theirs = {"value": answer.value, **answer.gradient}
    if set(ours) != set(theirs):
        return f"DIFFERENT: inputs {sorted(ours)} vs {sorted(theirs)}"
    if all(_close(ours[k], theirs[k], 0.0) for k in ours):
        return "agree"
    value_slack, slack = _spread(program, point, answer)
    slack["value"] = value_slack
    stable = torch_answer(program, point, ops=STABLE)
    positive = torch_answer(program, point, ops=POSITIVE_ZERO)
    limits = torch_answer(program, point, ops=LIMITS)
    # a value rounded onto a point of infinite slope (acos(-1 + 5e-47) is acos(-1)): bpcalc warns
    infinite_slope = any(w.kind == "kink" and "inf" in w.message for w in result.warnings)
    classes, unexplained = set(), []
    for k in ours:
        kind = _explain(ours[k], k, answer, stable, positive, limits, slack[k], infinite_slope)
        if kind is None:
            unexplained.append(f"{k}: bpcalc {ours[k]!r} torch {theirs[k]!r}")
        elif kind != "agree":
            classes.add(kind)
    if unexplained:
        return "DIFFERENT: " + ", ".join(unexplained)
    return "+".join(sorted(classes))


def _explain(ours: float, key: str, answer: TorchAnswer, stable: TorchAnswer, positive: TorchAnswer,
             limits: TorchAnswer, slack: float, infinite_slope: bool = False) -> str | None:
    """Which documented class explains bpcalc's `ours` against PyTorch's
    answer for `key` ('value' or an input), if any."""
    def get(a: TorchAnswer, rules: bool = False) -> float:
        return a.value if key == "value" else (a.zero_wins if rules else a.gradient)[key]

    theirs = get(answer)
    if _close(ours, theirs, 0.0):
        return "agree"
    if _close(ours, theirs, slack):
        return "ill-conditioned"
    if math.isnan(theirs) and _close(ours, get(answer, rules=True), slack):
        return "zero wins"
    if math.isnan(ours) and not math.isnan(theirs) and answer.nan_value:
        return "nan stays nan"
    def agrees(other: TorchAnswer) -> bool:
        value = get(other)
        return _close(ours, value, slack) or (math.isnan(value) and _close(ours, get(other, rules=True), slack))

    if answer.negative_zero and agrees(positive):
        return "signed zero"
    if math.isinf(ours) and not math.isinf(theirs) and (answer.subnormal or stable.subnormal):
        return "subnormal reciprocal"
    if not math.isnan(theirs) and min(abs(ours), abs(theirs)) > 1e300:
        return "overflow order"
    if agrees(stable):
        return "sigmoid tails"
    if agrees(limits):
        return "limits and stable forms"
    if math.isinf(ours) and math.isnan(theirs) and infinite_slope:
        return "infinite slope"
    return None


def run(count: int, seed: int = SEED) -> tuple[Counter, list[str], dict[str, str]]:
    """(how many programs fell in each class, the differences, an example of each class)."""
    rng = random.Random(seed)
    classes: Counter = Counter()
    failures: list[str] = []
    example: dict[str, str] = {}
    for _ in range(count):
        program, point = random_program(rng), random_point(rng)
        verdict = compare(program, point)
        kind = verdict.split(":")[0]
        classes[kind] += 1
        example.setdefault(kind, f"{program.text!r} at {point}")
        if verdict.startswith("DIFFERENT"):
            failures.append(f"{program.text!r} at {point}: {verdict}")
    return classes, failures, example


def test_every_op_has_a_torch_counterpart():
    assert set(TORCH) == set(OPS), "add the new op's PyTorch function to TORCH"
    assert all(op.infix is not None or _function_name(op.name) for op in OPS.values())


def test_bpcalc_agrees_with_pytorch():
    classes, failures, _ = run(COUNT)
    print(f"\n{COUNT} programs against PyTorch {torch.__version__}: {dict(classes)}")
    assert not failures, f"{len(failures)} differences:\n" + "\n".join(failures[:30])


@pytest.mark.parametrize(
    "program, point",
    [
        ("sqrt(relu(x))", {"x": -1.0}),
        ("sqrt(max(x, 1) - 1)", {"x": 0.5}),
        ("x^relu(x)", {"x": -0.5}),
        ("x^(x^0)", {"x": -0.66}),
        ("0 - exp(max(x, y))", {"x": 1000.0, "y": 0.0}),
    ],
)
def test_zero_local_derivative_agrees_with_pytorch(program, point):
    # the programs of issue 12, item 1, written as trees for PyTorch
    trees = {
        "sqrt(relu(x))": ("op", "sqrt", (("op", "relu", (("name", "x"),)),)),
        "sqrt(max(x, 1) - 1)": ("op", "sqrt", (("op", "sub", (("op", "max", (("name", "x"), ("const", "1"))),
                                                             ("const", "1"))),)),
        "x^relu(x)": ("op", "pow", (("name", "x"), ("op", "relu", (("name", "x"),)))),
        "x^(x^0)": ("op", "pow", (("name", "x"), ("op", "pow", (("name", "x"), ("const", "0"))))),
        "0 - exp(max(x, y))": ("op", "sub", (("const", "0"), ("op", "exp", (("op", "max", (("name", "x"),
                                                                                           ("name", "y"))),)))),
    }
    verdict = compare(Program(program, ((None, None, trees[program]),)), {"x": 0.0, "y": 0.0, "z": 0.0, **point})
    assert verdict == "agree"


if __name__ == "__main__":  # python tests/test_differential.py N: the summary only
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else COUNT
    found, wrong, examples = run(n)
    print(dict(found))
    print("\n".join(f"{k}: {v}" for k, v in examples.items()))
    print("\n".join(wrong[:100]))
