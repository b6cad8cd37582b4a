"""The tensor engine: shapes, forward, backward (bpcalc.tensor). Reference
numbers are written here with NumPy formulas (the textbooks' rules) or by
hand, never taken from bpcalc."""

from __future__ import annotations

import numpy as np
import pytest

import bpcalc
from bpcalc.errors import BpcalcError
from bpcalc.tensor import unbroadcast


def grad(program: str, **at):
    return bpcalc.grad(program, at=at, check=False)


def error(program: str, **at) -> BpcalcError:
    with pytest.raises(BpcalcError) as info:
        bpcalc.grad(program, at=at, check=False)
    return info.value


RNG = np.random.default_rng(7)


def test_matmul_matrix_matrix_rules():
    W, X, C = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4)), RNG.standard_normal((2, 4))
    r = grad("D = W @ X; sum(D * C)", W=W, X=X, C=C)
    assert r.value == pytest.approx(np.sum((W @ X) * C), rel=1e-14)
    assert np.allclose(r.gradient["W"], C @ X.T, rtol=1e-14)  # dW = dD X^T
    assert np.allclose(r.gradient["X"], W.T @ C, rtol=1e-14)  # dX = W^T dD
    assert r.gradient["W"].shape == (2, 3) and r.gradient["X"].shape == (3, 4)


@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((1, 3), (3, 1))])
def test_matmul_with_vectors_as_numpy(sa, sb):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    up = RNG.standard_normal(np.shape(a @ b))
    r = grad("sum((a @ b) * u)", a=a, b=b, u=up) if up.ndim else grad("(a @ b) * u", a=a, b=b, u=float(up))
    # d(a@b)/da contracted with u, by hand: for vectors the outer/inner products
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    u2 = np.reshape(up, (a2.shape[0], b2.shape[1]))
    assert np.allclose(r.gradient["a"], (u2 @ b2.T).reshape(sa), rtol=1e-13)
    assert np.allclose(r.gradient["b"], (a2.T @ u2).reshape(sb), rtol=1e-13)


def test_vector_dot_product_is_a_scalar():
    r = grad("w @ x", w=[2.0, -3.0], x=[-1.0, -2.0])
    assert r.value == 4.0
    assert r.gradient["w"].tolist() == [-1.0, -2.0] and r.gradient["x"].tolist() == [2.0, -3.0]


def test_broadcast_is_undone_by_summing():
    X = RNG.standard_normal((4, 3))
    r = grad("sum((X + b) * X)", X=X, b=[1.0, 2.0, 3.0])
    assert np.allclose(r.gradient["b"], X.sum(axis=0), rtol=1e-14)  # b added to each row
    r = grad("sum(X * s)", X=X, s=2.0)
    assert r.gradient["s"] == pytest.approx(X.sum(), rel=1e-14)
    assert unbroadcast(np.ones((2, 4, 3)), (4, 1)).tolist() == [[6.0]] * 4


def test_transpose_and_reductions():
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    r = grad("sum(X.T @ [1, -1])", X=X)
    assert r.value == pytest.approx(-9.0)
    assert r.gradient["X"].tolist() == [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]
    r = grad("sum(sum(X, axis=0) * [1, 2, 3])", X=X)
    assert r.value == 5 + 14 + 27
    assert r.gradient["X"].tolist() == [[1.0, 2.0, 3.0]] * 2
    r = grad("sum(mean(X, axis=-1) * [1, 10])", X=X)
    assert r.value == pytest.approx(2 + 50)
    assert np.allclose(r.gradient["X"], [[1 / 3] * 3, [10 / 3] * 3])
    r = grad("sum(transpose(X) * [[1, 2], [3, 4], [5, 6]])", X=X)
    assert r.value == 1 + 8 + 6 + 20 + 15 + 36
    assert r.gradient["X"].tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]


def test_max_reduction_splits_ties_evenly():
    r = grad("max(x)", x=[1.0, 3.0, 3.0])
    assert r.value == 3.0 and r.gradient["x"].tolist() == [0.0, 0.5, 0.5]
    assert any("shared by entries [1], [2]" in w.message for w in r.warnings)
    r = grad("sum(min(X, axis=1))", X=[[1.0, 0.0], [2.0, 5.0]])
    assert r.value == 2.0 and r.gradient["X"].tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_softmax_family_against_formulas():
    x = np.array([[0.2, -1.0, 3.0], [1.5, 0.0, -0.5]])
    u = RNG.standard_normal((2, 3))
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    r = grad("sum(softmax(x) * u)", x=x, u=u)
    assert np.allclose(r.gradient["x"], p * (u - np.sum(u * p, axis=1, keepdims=True)), rtol=1e-13)
    r = grad("sum(log_softmax(x) * u)", x=x, u=u)
    assert np.allclose(r.gradient["x"], u - p * u.sum(axis=1, keepdims=True), rtol=1e-13)
    r = grad("sum(logsumexp(x))", x=x)
    assert r.value == pytest.approx(np.sum(np.log(np.exp(x).sum(axis=1))), rel=1e-14)
    assert np.allclose(r.gradient["x"], p, rtol=1e-14)
    big = grad("logsumexp(x)", x=[1000.0, 1000.0])  # stable: no overflow
    assert big.value == pytest.approx(1000 + np.log(2), rel=1e-15)


def test_cross_entropy_indices_and_probabilities():
    s = np.array([[1.0, 2.0, 0.5], [0.1, -0.3, 0.7]])
    y = [2, 0]
    e = np.exp(s)
    p = e / e.sum(axis=1, keepdims=True)
    r = grad("cross_entropy(s, y)", s=s, y=y)
    assert r.value == pytest.approx(-(np.log(p[0, 2]) + np.log(p[1, 0])) / 2, rel=1e-14)
    onehot = np.array([[0.0, 0, 1], [1, 0, 0]])
    assert np.allclose(r.gradient["s"], (p - onehot) / 2, rtol=1e-14)
    assert r.gradient["y"] is None  # class indices are data
    r = grad("cross_entropy(s, t)", s=s, t=onehot)
    assert r.value == pytest.approx(-(np.log(p[0, 2]) + np.log(p[1, 0])) / 2, rel=1e-14)
    assert np.allclose(r.gradient["t"], -np.log(p) / 2, rtol=1e-14)
    r = grad("cross_entropy(v, 1)", v=[1.0, 2.0, 0.5])  # logits (C,) and one class
    assert r.value == pytest.approx(-np.log(p[0, 1]), rel=1e-14)


def test_entrywise_kink_names_the_entry():
    r = grad("sum(relu(x))", x=[1.0, 0.0, -3.0])
    assert r.gradient["x"].tolist() == [1.0, 0.0, 0.0]
    assert any("relu(x)` at entry [1]: relu'(0) = 0" in w.message for w in r.warnings)


def test_zero_local_derivative_wins_over_an_undefined_upstream():
    r = grad("sum(sqrt(relu(x)))", x=[-1.0, 4.0])  # sqrt'(0) = inf meets relu'(-1) = 0
    assert r.gradient["x"].tolist() == [0.0, 0.25]


def test_domain_error_names_the_entry():
    err = error("sum(log(x))", x=[1.0, 2.0, -3.0])
    assert err.kind == "domain" and "log of a negative number (-3)" in err.message and "at entry [2]" in err.message


def test_overflow_is_warned_with_the_entry():
    r = grad("sum(exp(x))", x=[1.0, 1000.0])
    assert r.value == float("inf")
    assert any("at entry [1]" in w.message and "overflows to inf" in w.message for w in r.warnings)


@pytest.mark.parametrize("program, at, message", [
    ("sum(W @ x)", {"W": np.ones((2, 2)), "x": np.ones(3)},
     "W @ x: W is 2×2 and x has 3 entries: the inner sizes 2 and 3 differ"),
    ("sum(W @ x)", {"W": np.ones((2, 3)), "x": np.ones(2)}, "did you mean W.T @ x?"),
    ("sum(X + b)", {"X": np.ones((2, 3)), "b": np.ones(2)}, "X is 2×3 and b has 2 entries: they cannot be combined"),
    ("sum(X, axis=2)", {"X": np.ones((2, 3))}, "axis=2 is out of range: X is 2×3, so axis is one of -2, -1, 0, 1"),
    ("W @ x", {"W": np.ones((2, 2)), "x": np.ones(2)},
     "the output W @ x is a vector of 2 entries, and a gradient needs one number: reduce it with sum(...) or mean(...)"),
    ("x @ 2", {"x": np.ones(2)}, "2 is a scalar: @ multiplies vectors and matrices; use * to scale"),
    ("cross_entropy(s, y)", {"s": np.ones((2, 3)), "y": np.ones(3)}, "the target is 2 class indices"),
])
def test_shape_errors_name_the_operation_and_both_shapes(program, at, message):
    err = error(program, **at)
    assert err.kind == "shape" and message in err.message, err.message
    assert err.span is not None


def test_class_index_out_of_range():
    err = error("cross_entropy(s, y)", s=np.ones((2, 3)), y=[0, 3])
    assert "class index 3 (entry 1) is not a whole number from 0 to 2" in err.message


def test_the_broadcast_trap_is_warned():
    r = grad("sum((a - b)^2)", a=np.ones((3, 1)), b=np.ones(3))
    assert any("broadcast to 3×3" in w.message for w in r.warnings)


def test_entry_limit_is_checked_before_allocating():
    from bpcalc.limits import Limits

    with pytest.raises(BpcalcError) as info:
        bpcalc.grad("sum(x @ y)", at={"x": np.ones((10, 10)), "y": np.ones((10, 10))}, check=False,
                    limits=Limits(max_entries=250))
    assert info.value.kind == "limit" and "--max-entries" in info.value.message


def test_fan_out_accumulates_for_tensors():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    r = grad("sum(W @ W)", W=W)  # d/dW sum(W W) = 1 W^T + W^T 1
    ones = np.ones((2, 2))
    assert np.allclose(r.gradient["W"], ones @ W.T + W.T @ ones)


def test_scalar_programs_keep_the_scalar_engine():
    r = bpcalc.grad("(x+y)*z", at={"x": -2, "y": 5, "z": -4}, check=False)
    assert r.tensor is False and r.gradient == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert isinstance(r.values[0], float)


def test_course_functions_apply_entry_by_entry():
    r = grad("sum(max(a, b, c))", a=[1.0, 5.0], b=[2.0, 5.0], c=[0.0, 5.0])
    assert [g.tolist() for g in r.gradient.values()] == [[0.0, 1 / 3], [1.0, 1 / 3], [0.0, 1 / 3]]
    assert any("at entry [1]: max tie: 3 of the 3 arguments equal 5" in w.message for w in r.warnings)
    x, y = np.array([1.0, -2.0]), np.array([2.0, 1.0])
    r = grad("sum(atan2(x, y))", x=x, y=y)  # d/dx atan2(x, y) = y/(x²+y²), d/dy = -x/(x²+y²)
    assert np.allclose(r.gradient["x"], y / (x * x + y * y), rtol=1e-15)
    assert np.allclose(r.gradient["y"], -x / (x * x + y * y), rtol=1e-15)


def test_stacked_matmul_sums_the_broadcast_away():
    A, B, x = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 5)), RNG.standard_normal(4)
    U = RNG.standard_normal((2, 3, 5))
    r = grad("sum((A @ B) * U)", A=A, B=B, U=U)
    assert np.allclose(r.gradient["A"], U @ B.T, rtol=1e-13)
    assert np.allclose(r.gradient["B"], sum(A[k].T @ U[k] for k in range(2)), rtol=1e-13)
    S = RNG.standard_normal((2, 4, 5))
    V = RNG.standard_normal((2, 5))
    r = grad("sum((x @ S) * V)", x=x, S=S, V=V)
    assert np.allclose(r.gradient["x"], sum(S[k] @ V[k] for k in range(2)), rtol=1e-13)
    assert np.allclose(r.gradient["S"], np.stack([np.outer(x, V[k]) for k in range(2)]), rtol=1e-13)


def test_axis_must_be_written_as_a_whole_number():
    for program in ("sum(X, axis=max(a, b))", "sum(X, axis=0.5)", "sum(X, axis=a)"):
        err = error(program, X=np.ones((2, 2)), a=1.0, b=0.0)
        assert err.message == "axis= takes a whole number such as 0, 1 or -1", program
    r = grad("sum(max(X, axis=0), axis=0)", X=[[1.0, 4.0], [3.0, 2.0]])  # keywords of nested calls
    assert r.value == 7.0 and r.gradient["X"].tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_all_finite_on_large_arrays_and_views() -> None:
    # the dot-product shortcut (large contiguous doubles) and the sum agree
    # with NumPy's own entry-by-entry test, whatever the bad entry
    from bpcalc.tensor import all_finite

    rng = np.random.default_rng(6)
    for n in (100, 10_000, 100_000):
        for bad in (None, np.nan, np.inf, -np.inf, 1e300, -1e300, 5e-324):
            a = rng.normal(size=n)
            if bad is not None:
                a[rng.integers(n)] = bad
            for view in (a, a.reshape(-1, 4 if n % 4 == 0 else 1), a[::2], a.reshape(-1, 2).T):
                with np.errstate(all="ignore"):
                    assert all_finite(view) == bool(np.isfinite(view).all()), (n, bad)


def test_the_two_layer_net_with_kept_intermediates():
    # what the forward pass keeps (sigmoid's exp, cross-entropy's log softmax)
    # gives DLFS chapter 5's gradients, written here in NumPy, and the very
    # numbers of the rules computed afresh; only the training inputs asked
    from bpcalc import tensor
    from bpcalc.errors import Source
    from bpcalc.lang.lower import build

    X, W1, b1 = RNG.random((6, 5)), RNG.standard_normal((5, 4)) * 3, RNG.standard_normal(4)
    W2, b2, t = RNG.standard_normal((4, 3)), RNG.standard_normal(3), np.array([0.0, 2.0, 1.0, 1.0, 0.0, 2.0])
    at = {"X": X, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "t": t}
    program = "h = sigmoid(X @ W1 + b1); s = h @ W2 + b2; L = cross_entropy(s, t)"
    r = bpcalc.grad(program, at=at, check=False, wrt=["W1", "b1", "W2", "b2"])
    z1 = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
    s = z1 @ W2 + b2
    y = np.exp(s - s.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    ds = y.copy()
    ds[np.arange(6), t.astype(int)] -= 1.0
    ds /= 6
    da1 = (ds @ W2.T) * z1 * (1.0 - z1)
    assert r.value == pytest.approx(-np.mean(np.log(y[np.arange(6), t.astype(int)])), rel=1e-13)
    for name, want in (("W2", z1.T @ ds), ("b2", ds.sum(axis=0)), ("W1", X.T @ da1), ("b1", da1.sum(axis=0))):
        assert np.allclose(r.gradient[name], want, rtol=1e-12, atol=1e-15), name
    assert sorted(r.gradient) == ["W1", "W2", "b1", "b2"]
    graph = build(Source(program))[0]
    kept: dict = {}
    values, _ = tensor.forward(graph, at, kept)
    assert sorted(graph.ops[i] for i in kept) == ["cross_entropy", "sigmoid"]
    afresh, _ = tensor.backward(graph, tensor.forward(graph, at)[0])
    reused, _ = tensor.backward(graph, values, None, kept)
    for a, b in zip(afresh, reused):
        assert (a is None and b is None) or np.array_equal(a, b)


def test_sigmoid_slope_from_what_the_forward_pass_kept():
    from bpcalc.ops import OPS, _np_sigmoid_slope

    a = np.array([-800.0, -40.0, -1e-300, -0.0, 0.0, 1e-8, 3.0, 40.0, 800.0])
    forward_kept, partials_kept = OPS["sigmoid"].np_kept
    with np.errstate(all="ignore"):
        out, kept = forward_kept(np, a)
        assert np.array_equal(out, OPS["sigmoid"].np_forward(np, a))
        assert np.array_equal(partials_kept(np, kept, a, out)[0], _np_sigmoid_slope(np, a))
    # sigma'(a) = e^-|a| / (1 + e^-|a|)^2, independently: never 0 before it underflows
    assert partials_kept(np, kept, a, out)[0][1] == pytest.approx(np.exp(-40.0) / (1 + np.exp(-40.0)) ** 2, rel=1e-15)


# --- the backward pass's fast path against the careful one -------------------------


def _careful_backward(graph, values, wrt, kept):
    """The backward pass as it was before the fast path: every product with
    the zero rule (`node_vjp`), every adjoint scanned from the output back."""
    from bpcalc.graph import CONST, INPUT
    from bpcalc.tensor import _needed, all_finite, data_inputs, node_vjp

    n, out = len(graph), graph.output
    need = _needed(graph, data_inputs(graph, values), wrt)
    adj = [None] * n
    if need[out]:
        adj[out] = np.ones(values[out].shape)
    with np.errstate(all="ignore"):
        for i in range(out, -1, -1):
            if adj[i] is None or not need[i] or graph.ops[i] in (INPUT, CONST):
                continue
            args = graph.args(i)
            for j, c in zip(args, node_vjp(graph, i, adj[i], [values[j] for j in args], values[i],
                                           [need[j] for j in args], kept)):
                if c is not None:
                    adj[j] = c if adj[j] is None else adj[j] + c
        result = [None if not need[i] else (adj[i] if adj[i] is not None else np.zeros(values[i].shape))
                  for i in range(n)]
        first = next((i for i in range(n - 1, -1, -1) if result[i] is not None and not all_finite(result[i])),
                     None) if need[out] else None
    return result, first


BACKWARD_CASES = [
    # (program, point, wrt): finite everywhere, and the ways an adjoint goes non-finite or is saved by a zero
    ("h = sigmoid(X @ W1 + b1); s = h @ W2 + b2; L = cross_entropy(s, t)",
     {"X": RNG.random((5, 4)), "W1": RNG.standard_normal((4, 3)), "b1": np.zeros(3),
      "W2": RNG.standard_normal((3, 2)), "b2": np.zeros(2), "t": np.array([0.0, 1, 1, 0, 1])}, ("W1", "b1", "W2", "b2")),
    ("h = sigmoid(X @ W1 + b1); s = h @ W2 + b2; L = cross_entropy(s, t)",
     {"X": RNG.random((5, 4)), "W1": RNG.standard_normal((4, 3)), "b1": np.zeros(3),
      "W2": RNG.standard_normal((3, 2)), "b2": np.zeros(2), "t": np.eye(2)[[0, 1, 1, 0, 1]]}, None),
    # exp overflows: an infinite upstream meets relu's zero slope (the zero rule gives 0, the bare product nan)
    ("sum(relu(x) * exp(y))", {"x": np.array([-1.0, 2.0, -3.0]), "y": np.array([1000.0, 1.0, 1000.0])}, None),
    ("sum(relu(x) * exp(y))", {"x": np.array([-1.0, 2.0, -3.0]), "y": np.array([1000.0, 1000.0, 1.0])}, None),
    # an infinite gradient that stays: reported at the first node from the output back
    ("L = sum(exp(X @ w + b))", {"X": np.array([[1.0, 2.0], [3.0, 400.0]]), "w": np.array([1.0, 2.0]),
                                 "b": np.array([0.0, 1.0])}, None),
    ("L = sum(sqrt(x) + x)", {"x": np.array([0.0, 4.0])}, None),
    # x + b passes its upstream on as it is (the same array): the alias skipped, the bias checked
    ("L = sum(exp(x @ W + b))", {"x": np.array([[300.0, 1.0]]), "W": np.array([[3.0, 1.0], [1.0, 1.0]]),
                                 "b": np.array([0.0, 1.0])}, ("W",)),
    ("L = sum(exp(x @ W + b))", {"x": np.array([[300.0, 1.0]]), "W": np.array([[3.0, 1.0], [1.0, 1.0]]),
                                 "b": np.array([0.0, 1.0])}, ("b",)),
    ("L = mean(tanh(A * B - A) * 2)", {"A": RNG.standard_normal((3, 3)), "B": RNG.standard_normal(3)}, ("B",)),
    ("L = x", {"x": 2.0}, None),
]


@pytest.mark.parametrize("program, at, wrt", BACKWARD_CASES)
def test_the_fast_backward_pass_gives_the_careful_ones_bits_and_warning(program, at, wrt):
    from bpcalc.api import _built
    from bpcalc.errors import Source
    from bpcalc.limits import DEFAULT_LIMITS
    from bpcalc.tensor import backward, forward, shapes

    graph, _w = _built(Source(program, "<program>"), DEFAULT_LIMITS)
    point = {k: np.asarray(v, dtype=float) for k, v in at.items()}
    ids = None if wrt is None else [graph.input_id(name) for name in wrt]
    shapes(graph, point, 10**7)
    kept: dict = {}
    values, _fw = forward(graph, point, kept)
    want, first = _careful_backward(graph, values, ids, kept)
    for _ in range(2):  # the plan derived, then the plan remembered
        got, warnings = backward(graph, values, ids, kept)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert (g is None) == (w is None)
            if g is not None:
                assert g.shape == w.shape and np.array_equal(g, w, equal_nan=True)
                assert np.array_equal(np.signbit(g), np.signbit(w))  # the same bits, -0.0 too
        assert [d.node for d in warnings if d.kind == "nonfinite"] == ([] if first is None else [first])


def test_a_zero_local_partial_still_wins_over_an_infinite_upstream():
    r = grad("sum(relu(x) * exp(y))", x=np.array([-1.0, 2.0]), y=np.array([1000.0, 1.0]))
    assert r.gradient["x"][0] == 0.0 and r.gradient["x"][1] == pytest.approx(np.e)
    assert r.gradient["y"][0] == 0.0  # relu(x) = 0 times exp(y) = inf: 0, not nan
    assert np.isinf(r.adjoints[r.graph.arg0[r.graph.arg0[r.graph.output]]][0])  # relu(x)'s own: inf, and said
    assert [w.kind for w in r.warnings].count("nonfinite") == 1


def test_a_nonfinite_gradient_is_still_reported_where_it_starts():
    r = grad("L = sum(exp(X @ w))", X=np.array([[1.0, 2.0], [3.0, 400.0]]), w=np.array([1.0, 2.0]))
    assert np.isinf(r.gradient["w"]).any()
    nonfinite = [w for w in r.warnings if w.kind == "nonfinite"]
    assert len(nonfinite) == 1 and "inf" in nonfinite[0].message


@pytest.mark.parametrize("t", [0.0, -0.0, 9.0, 3.5, -1.0, 10.0, np.nan, np.inf, -np.inf, 1e19, -1e19, 2.0**63,
                               -(2.0**63), 2.0**64, 1e300])
def test_the_quick_class_index_check_never_passes_what_the_full_one_refuses(t):
    from bpcalc.ops import ce_index_problem
    from bpcalc.tensor import _valid_indices

    x = np.zeros((3, 10))
    target = np.array([1.0, t, 2.0])
    with np.errstate(all="ignore"):
        quick = _valid_indices(x, target)
    full = ce_index_problem(np, x, target)
    assert quick == (full is None)  # whole numbers from 0 to 9 pass both, anything else neither
    with np.errstate(all="ignore"):
        assert _valid_indices(np.zeros(10), np.array(t)) == (ce_index_problem(np, np.zeros(10), np.array(t)) is None)


def test_an_invalid_class_index_is_still_an_error_naming_it():
    x = RNG.standard_normal((3, 4))
    for bad in (1.5, -1.0, 4.0):
        e = error("cross_entropy(x, t)", x=x, t=np.array([0.0, bad, 1.0]))
        assert e.kind == "value" and "class index" in e.message and "(entry 1)" in e.message


def test_the_engine_looks_up_the_op_table_at_each_call(monkeypatch):
    from bpcalc import ops

    at = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "x": np.array([1.0, -1.0])}
    before = bpcalc.grad("sum(W @ x)", at=at, check=False).gradient["W"]
    table = dict(ops.TENSOR_OPS)
    doubled = ops.TensorOp(**{**table["matmul"].__dict__,
                              "vjp": lambda np_, g, a, b, out, need=(True, True): (np_.outer(g, b) * 2, a.T @ g)})
    monkeypatch.setitem(ops.TENSOR_OPS, "matmul", doubled)
    assert np.array_equal(bpcalc.grad("sum(W @ x)", at=at, check=False).gradient["W"], 2 * before)


def test_the_careful_pass_runs_only_when_an_adjoint_is_not_finite(monkeypatch):
    from bpcalc import tensor

    passes = []
    real = tensor._backward_pass
    monkeypatch.setattr(tensor, "_backward_pass", lambda *a: passes.append(a[-1]) or real(*a))
    grad("sum(relu(x) * exp(y))", x=np.array([-1.0, 2.0]), y=np.array([1.0, 1.0]))
    assert passes == [False]
    passes.clear()
    grad("sum(relu(x) * exp(y))", x=np.array([-1.0, 2.0]), y=np.array([1000.0, 1.0]))
    assert passes == [False, True]
