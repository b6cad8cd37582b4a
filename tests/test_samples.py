"""Every sample in samples/ through the installed CLI, checked against the
answer its header states (the course material's published numbers)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from conftest import SAMPLES, run_cli

SAMPLE_FILES = sorted(SAMPLES.glob("*.bp"))


def header(path: Path, key: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^# {key}:(.*)$", path.read_text(), re.M)]


def pairs(lines: list[str]) -> dict[str, float]:
    out = {}
    for line in lines:
        for item in line.split(","):
            name, value = item.split("=")
            out[name.strip()] = float(value)
    return out


def sample_point(path: Path) -> str:
    return ",".join(item.strip() for line in header(path, "at") for item in line.split(","))


def test_there_are_samples():
    names = {p.stem for p in SAMPLE_FILES}
    assert {"cs231n_add_mul", "cs231n_neuron", "apples", "apples_oranges", "square_of_sum",
            "neuron_sigmoid", "two_layer_network"} <= names


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_sample_answer(path: Path):
    expected = pairs(header(path, "expect"))
    value = float(header(path, "expect-value")[0])
    tolerance = float((header(path, "tolerance") or ["1e-9"])[0])
    run = run_cli("grad", "-f", str(path), "--at", sample_point(path), "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["check"]["ok"] is True
    assert math.isclose(doc["value"], value, abs_tol=tolerance), (doc["value"], value)
    for name, want in expected.items():
        got = doc["gradient"][name]
        assert math.isclose(got, want, abs_tol=tolerance), (name, got, want)


# --- the matrix samples: samples/matrix/NAME.bp with NAME.point.json (the
# point) and NAME.expect.json (the answer and where it comes from: worked by
# hand, published, or PyTorch in samples/matrix/make_references.py) ---------

MATRIX = SAMPLES / "matrix"
MATRIX_FILES = sorted(MATRIX.glob("*.bp"))


def test_there_are_matrix_samples():
    assert {p.stem for p in MATRIX_FILES} >= {
        "fc_relu", "dlfs_affine_softmax", "cs231n_two_layer", "cs231n_dwx", "lee_network",
        "cs231n_neuron_vector", "mazur_matrix"}


def _close_nested(got: object, want: object, tol: float) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            _close_nested(g, w, tol) for g, w in zip(got, want))
    return isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=0, abs_tol=tol)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", MATRIX_FILES, ids=[p.stem for p in MATRIX_FILES])
def test_matrix_sample_answer(path: Path):
    import json

    expect = json.loads(path.with_suffix(".expect.json").read_text())
    run = run_cli("grad", "-f", str(path), "--at-file", str(path.with_suffix(".point.json")), "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["check"]["ok"] is True and doc["check"]["method"] == "sympy"
    tol = expect["tolerance"]
    assert math.isclose(doc["value"], expect["value"], rel_tol=0, abs_tol=tol), (doc["value"], expect["value"])
    for name, want in expect["gradient"].items():
        got = doc["gradient"][name]
        assert (got is None) if want is None else _close_nested(got, want, tol), (name, got, want)


def _close_rel(got: list, want: list) -> bool:
    import numpy as np

    return bool(np.allclose(got, want, rtol=1e-12, atol=0))


def _scalar_twin(matrix: str, scalar: str, at_file: str, at: str) -> tuple[dict, dict]:
    m = run_cli("grad", matrix, "--at-file", str(MATRIX / at_file), "--json", "--no-check")
    s = run_cli("grad", scalar, "--at", at, "--json", "--no-check")
    assert m.code == 0 and s.code == 0, (m.err, s.err)
    return m.json(), s.json()


def test_neuron_matrix_and_scalar_twin_agree():
    m, s = _scalar_twin("sigmoid(w @ x + b)", (SAMPLES / "cs231n_neuron.bp").read_text(),
                        "cs231n_neuron_vector.point.json", "w0=2,w1=-3,x0=-1,x1=-2,w2=-3")
    assert m["value"] == s["value"]
    g = s["gradient"]
    assert m["gradient"]["w"] == pytest.approx([g["w0"], g["w1"]], rel=1e-15)
    assert m["gradient"]["x"] == pytest.approx([g["x0"], g["x1"]], rel=1e-15)
    assert m["gradient"]["b"] == pytest.approx(g["w2"], rel=1e-15)


def test_mazur_matrix_and_scalar_twin_agree():
    m, s = _scalar_twin((MATRIX / "mazur_matrix.bp").read_text(), (SAMPLES / "two_layer_network.bp").read_text(),
                        "mazur_matrix.point.json", sample_point(SAMPLES / "two_layer_network.bp"))
    assert m["value"] == pytest.approx(s["value"], rel=1e-14)
    g = s["gradient"]
    assert _close_rel(m["gradient"]["W1"], [[g["w1"], g["w2"]], [g["w3"], g["w4"]]])
    assert _close_rel(m["gradient"]["W2"], [[g["w5"], g["w6"]], [g["w7"], g["w8"]]])
    assert m["gradient"]["b1"] == pytest.approx(g["b1"], rel=1e-12)
    assert m["gradient"]["t"] == pytest.approx([g["t1"], g["t2"]], rel=1e-12)


def test_lee_network_matrix_and_scalar_twin_agree():
    """The lecture's published activations, and the unrolled scalar program."""
    scalar = """
    a11 = sigmoid(w11*x1 + w12*x2 + c1); a12 = sigmoid(w21*x1 + w22*x2 + c2)
    a21 = sigmoid(2*a11 - a12); a22 = sigmoid(-2*a11 - a12)
    y1 = sigmoid(3*a21 - a22 - 2); y2 = sigmoid(-a21 + 4*a22 + 2)
    C = 0.5*((y1 - 1)^2 + (y2 - 0)^2)
    """
    m, s = _scalar_twin((MATRIX / "lee_network.bp").read_text(), scalar, "lee_network.point.json",
                        "x1=1,x2=-1,w11=1,w12=-2,w21=-1,w22=1,c1=1,c2=0")
    nodes = {n["label"]: n["value"] for n in m["nodes"]}
    assert [round(v, 2) for v in nodes["a1"]] == [0.98, 0.12]
    assert [round(v, 2) for v in nodes["a2"]] == [0.86, 0.11]
    assert [round(v, 2) for v in nodes["y"]] == [0.62, 0.83]
    assert m["value"] == pytest.approx(s["value"], rel=1e-14)
    g = s["gradient"]
    assert _close_rel(m["gradient"]["W1"], [[g["w11"], g["w12"]], [g["w21"], g["w22"]]])
    assert m["gradient"]["b1"] == pytest.approx([g["c1"], g["c2"]], rel=1e-12)
    assert m["gradient"]["x"] == pytest.approx([g["x1"], g["x2"]], rel=1e-12)


def test_dlfs_backward_is_the_books_formulas():
    """dY = (softmax(Y) - t)/N, dW = X^T dY, dX = dY W^T, db = sum of dY over
    the batch: written here with NumPy, independently of bpcalc's rules."""
    import json

    import numpy as np

    p = {k: np.array(v, dtype=float) for k, v in json.loads((MATRIX / "dlfs_affine_softmax.point.json").read_text()).items()}
    run = run_cli("grad", "-f", str(MATRIX / "dlfs_affine_softmax.bp"), "--at-file",
                  str(MATRIX / "dlfs_affine_softmax.point.json"), "--json", "--no-check")
    doc = run.json()
    Y = p["X"] @ p["W"] + p["b"]
    e = np.exp(Y - Y.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    dY = (softmax - p["t"]) / 2
    assert doc["value"] == pytest.approx(-np.sum(p["t"] * np.log(softmax)) / 2, rel=1e-14)
    nodes = {n["label"]: n for n in doc["nodes"]}
    assert np.allclose(nodes["Y"]["grad"], dY, rtol=1e-14, atol=1e-16)
    assert np.allclose(doc["gradient"]["W"], p["X"].T @ dY, rtol=1e-13, atol=1e-16)
    assert np.allclose(doc["gradient"]["X"], dY @ p["W"].T, rtol=1e-13, atol=1e-16)
    assert np.allclose(doc["gradient"]["b"], dY.sum(axis=0), rtol=1e-13, atol=1e-16)


# --- one step of gradient descent (issue 14 item 6) and the `# at:` header (item 7) ----


def test_mazur_updated_weights_after_one_step() -> None:
    """Mazur publishes the weights after one step with learning rate 0.5
    (w5+ = 0.35891648, …, w1+ = 0.149780716, …): bpcalc check judges them
    right, each to the digits he wrote, from the file's own `# at:` point."""
    path = SAMPLES / "two_layer_network.bp"
    lr = header(path, "lr")[0]
    published = header(path, "expect-updated")
    assert lr == "0.5" and len(pairs(published)) == 8
    run = run_cli("check", "-f", str(path), "--lr", lr, *(a for line in published for a in ("--expect-updated", line)),
                  "--json")
    assert run.code == 0, run.out + run.err
    doc = run.json()
    assert [c["ok"] for c in doc["claims"]] == [True] * 8
    assert doc["claims"][0]["judged"]["rule"] == "decimals" and doc["claims"][0]["judged"]["digits"] == 8
    # a wrong update (the gradient added, not subtracted) is wrong: 0.40 + 0.5·0.082167041
    wrong = run_cli("check", "-f", str(path), "--lr", "0.5", "--expect-updated", "w5=0.44108352")
    assert wrong.code == 1 and "✗" in wrong.out


def test_grad_json_updated_is_theta_minus_lr_times_gradient() -> None:
    run = run_cli("grad", "-f", str(SAMPLES / "two_layer_network.bp"), "--lr", "0.5", "--json", "--no-check")
    assert run.code == 0, run.err
    updated = run.json()["updated"]
    for name, want in pairs(header(SAMPLES / "two_layer_network.bp", "expect-updated")).items():
        assert math.isclose(updated[name], want, abs_tol=5e-9), (name, updated[name], want)
    table = run_cli("grad", "x*y", "--at", "x=1,y=2", "--lr", "0.1", "--no-check")
    assert "after step (lr=0.1)" in table.out and "x → 0.8" in table.out and "y → 1.9" in table.out


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_the_at_header_is_the_default_point(path: Path) -> None:
    """`bpcalc grad -f FILE` without --at: the `# at:` lines are the point."""
    run = run_cli("grad", "-f", str(path), "--json", "--no-check")
    assert run.code == 0, run.err
    assert math.isclose(run.json()["value"], float(header(path, "expect-value")[0]),
                        abs_tol=float((header(path, "tolerance") or ["1e-9"])[0]))


def test_at_overrides_single_names_of_the_header() -> None:
    run = run_cli("grad", "-f", str(SAMPLES / "cs231n_add_mul.bp"), "--at", "z=2", "--json", "--no-check")
    doc = run.json()
    assert doc["at"] == {"x": -2.0, "y": 5.0, "z": 2.0} and doc["value"] == 6.0  # (−2+5)·2 by hand
    bad = run_cli("grad", "x*y\n# at: x=1, y=\n")
    assert bad.code == 2 and "# at:" in bad.err and "no value after 'y='" in bad.err


def test_updated_tensors_are_arrays_and_class_indices_have_none() -> None:
    """Mazur in matrix form: W2 after one step with lr 0.5 is his published
    [[w5+, w6+], [w7+, w8+]]; cross_entropy's labels (data) get no update."""
    path = MATRIX / "mazur_matrix.bp"
    run = run_cli("grad", "-f", str(path), "--at-file", str(path.with_suffix(".point.json")), "--lr", "0.5",
                  "--json", "--no-check")
    assert run.code == 0, run.err
    updated = run.json()["updated"]
    assert _close_nested(updated["W2"], [[0.35891648, 0.408666186], [0.511301270, 0.561370121]], 5e-9)
    assert _close_nested(updated["W1"], [[0.149780716, 0.19956143], [0.24975114, 0.29950229]], 5e-9)
    path = MATRIX / "cs231n_two_layer.bp"
    run = run_cli("grad", "-f", str(path), "--at-file", str(path.with_suffix(".point.json")), "--lr", "0.1",
                  "--json", "--no-check")
    doc = run.json()
    assert "y" not in doc["updated"] and doc["gradient"]["y"] is None
    w = doc["at"]["b2"]
    assert _close_nested(doc["updated"]["b2"], [v - 0.1 * g for v, g in zip(w, doc["gradient"]["b2"])], 1e-15)
