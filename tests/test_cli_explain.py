"""`bpcalc explain` from the installed command."""

from __future__ import annotations

import os

from conftest import ROOT, SAMPLES

CS231N = """\
bpcalc explain (x+y)*z
at x = -2, y = 5, z = -4

Forward pass: each node's value, inputs first
  x = -2
  y = 5
  z = -4
  %3 = x + y = (-2) + 5 = 3
  %4 = %3 * z = 3 * (-4) = -12  (the output, f)

Backward pass: ∂f/∂node, from the output (gradient 1) back to the inputs
  ∂f/∂%4 = 1  (the output: gradient 1)
  %3 = x + y
      ∂%4/∂%3 = z = -4  (local derivative)
      ∂f/∂%3 = ∂f/∂%4 · z = 1 · (-4) = -4  (upstream × local = downstream)
  z  (an input)
      ∂%4/∂z = %3 = 3
      ∂f/∂z = ∂f/∂%4 · %3 = 1 · 3 = 3
  y  (an input)
      ∂%3/∂y = 1
      ∂f/∂y = ∂f/∂%3 · 1 = (-4) · 1 = -4
  x  (an input)
      ∂%3/∂x = 1
      ∂f/∂x = ∂f/∂%3 · 1 = (-4) · 1 = -4

Gradient
  ∂f/∂x = -4
  ∂f/∂y = -4
  ∂f/∂z = 3
"""


def test_text_explanation(cli):
    run = cli("explain", "(x+y)*z", "--at", "x=-2,y=5,z=-4")
    assert run.code == 0, run.err
    assert run.out == CS231N


def test_markdown_sample_is_what_the_command_prints(cli):
    """samples/fan_out.explain.md is real output (BPCALC_REGENERATE=1 rewrites it)."""
    run = cli("explain", "-f", "samples/fan_out.bp", "--at", "a=0.5,w3=2,w4=-1,y=1", "--format", "markdown", cwd=ROOT)
    assert run.code == 0, run.err
    golden = SAMPLES / "fan_out.explain.md"
    if os.environ.get("BPCALC_REGENERATE"):
        golden.write_text(run.out)
    assert run.out == golden.read_text()
    assert ("  - $\\frac{\\partial C}{\\partial a} = \\frac{\\partial C}{\\partial z_{1}} \\cdot w_{3} + "
            "\\frac{\\partial C}{\\partial z_{2}} \\cdot w_{4}") in run.out


def test_latex_and_exact(cli):
    run = cli("explain", "-f", str(SAMPLES / "cs231n_neuron.bp"), "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
              "--format", "latex", "--exact")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("% bpcalc explain: # CS231n")
    assert "\\begin{align*}" in lines and lines[-2:] == ["\\end{align*}", "}"]
    assert ("\\frac{\\partial f}{\\partial w_{2}} &= \\frac{1}{e \\left(e^{-1} + 1\\right)^{2}} "
            "\\approx 0.196612") in lines


def test_exact_text(cli):
    run = cli("explain", "x*x", "--at", "x=1/3", "--exact")
    assert run.code == 0, run.err
    assert "      ∂f/∂x = ∂f/∂%1 · x + ∂f/∂%1 · x = 1 · (1/3) + 1 · (1/3) = 2/3 ≈ 0.666667\n" in run.out


def test_bad_input(cli):
    run = cli("explain", "x*", "--at", "x=1")
    assert run.code == 2 and run.err.startswith("error: line 1, column 2:")
    run = cli("explain", "x", "--at", "x=1", "--format", "docx")
    assert (run.code, run.err) == (2, "error: --format docx: the formats are text, markdown, latex, html\n")
    run = cli("explain", "+".join(f"x{k}" for k in range(10)), "--at", ",".join(f"x{k}=1" for k in range(10)),
              "--max-steps", "5")
    assert run.code == 2
    assert run.err == ("error: explain writes out every node, and this program has 19 (more than 5); "
                       "raise the limit with --max-steps, or use `bpcalc grad` for the table\n")


MATRIX = ROOT / "samples" / "matrix"


def test_tensor_explanation_names_rules_shapes_and_numbers(cli):
    run = cli("explain", "-f", str(MATRIX / "dlfs_affine_softmax.bp"),
              "--at-file", str(MATRIX / "dlfs_affine_softmax.point.json"))
    assert run.code == 0, run.err
    out = run.out
    # forward: shape and value (Y = X @ W + b, by hand from the point file)
    assert "  Y = X @ W + b = [[0.05, -0.05, 0.265], [0.19, -0.38, 0.23]]  (2×3)" in out
    # backward: the op's rule with this program's names and shapes, and the numbers of expect.json
    assert ("  dW = X.T @ dn4  ((3×2)(2×3) → (3×3))\n"
            "      matmul's rule dW = X.T @ dn4\n"
            "      dW = [[0.0973657, 0.165565, -0.262931], [0.387659, -0.036557, -0.351102], "
            "[-0.294227, 0.0436323, 0.250595]]\n") in out
    assert ("  db = sum(dY, axis=0)  ((2×3) → (3))\n"
            "      b was added to each of the 2 rows of Y, so db sums dY over the rows\n"
            "      db = [-0.149162, 0.252358, -0.103195]\n") in out
    assert "comes to dL · (p − t)/2, p = softmax(Y)" in out
    assert "The backward steps as a bpcalc program (inputs: the forward values)\n  dL = 1\n" \
           "  dY = dL * (softmax(Y) - t) / 2\n" in out
    assert out.rstrip().endswith("✓ run through bpcalc, the 7 formula steps give the engine's gradients")


def test_tensor_explanation_markdown_and_latex_write_matrices_out(cli):
    args = ("-f", str(MATRIX / "cs231n_dwx.bp"), "--at-file", str(MATRIX / "cs231n_dwx.point.json"))
    md = cli("explain", *args, "--format", "markdown")
    assert md.code == 0
    # dW = C X^T by hand (cs231n_dwx.expect.json)
    assert "- $\\frac{\\partial f}{\\partial W} = \\begin{bmatrix}4 & -2 & -7 \\\\ -2 & 3 & 12.5\\end{bmatrix}$ (2×3)" \
        in md.out
    tex = cli("explain", *args, "--format", "latex")
    assert tex.code == 0 and "\\mathit{dW} &= \\mathit{dD} X^{\\top}" in tex.out and "\\begin{align*}" in tex.out


def test_wrt_keeps_only_the_paths_from_one_input(cli):
    at = ("--at", "i1=0.05,i2=0.10,w1=0.15,w2=0.20,w3=0.25,w4=0.30,b1=0.35",
          "--at", "w5=0.40,w6=0.45,w7=0.50,w8=0.55,b2=0.60,t1=0.01,t2=0.99")
    whole = cli("explain", "-f", str(ROOT / "samples" / "two_layer_network.bp"), *at)
    run = cli("explain", "-f", str(ROOT / "samples" / "two_layer_network.bp"), *at, "--wrt", "w5")
    assert run.code == 0
    assert len(run.out.splitlines()) < len(whole.out.splitlines()) / 3
    # Mazur's published dE/dw5 = 0.082167041
    assert "      ∂E/∂w5 = ∂E/∂%24 · out_h1 = 0.138499 · 0.59327 = 0.082167" in run.out
    assert run.out.rstrip().endswith("Gradient\n  ∂E/∂w5 = 0.082167")
    assert "w1" not in run.out.split("Backward pass")[1]
    tensor = cli("explain", "-f", str(MATRIX / "cs231n_two_layer.bp"), "--at-file",
                 str(MATRIX / "cs231n_two_layer.point.json"), "--wrt", "b2")
    assert tensor.code == 0 and "  db2 = sum(ds, axis=0)" in tensor.out and "dW1 =" not in tensor.out
    bad = cli("explain", "-f", str(ROOT / "samples" / "two_layer_network.bp"), *at, "--wrt", "w9")
    assert bad.code == 2 and bad.err.startswith("error: --wrt w9: the program has no input called that")


def test_output_file(cli, tmp_path):
    """-o FILE: what stdout would show (CS231n: df/dz = 3)."""
    for fmt, name in (("text", "e.txt"), ("markdown", "e.md"), ("latex", "e.tex")):
        out = tmp_path / name
        run = cli("explain", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--format", fmt, "-o", str(out))
        assert (run.code, run.out, run.err) == (0, "", "")
        if fmt != "text":
            assert out.read_text() == cli("explain", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--format", fmt).out
    assert "∂f/∂z = ∂f/∂%4 · %3 = 1 · 3 = 3" in (tmp_path / "e.txt").read_text()
    run = cli("explain", "x", "--at", "x=1", "-o", str(tmp_path))
    assert run.code == 2 and "names a folder" in run.err
