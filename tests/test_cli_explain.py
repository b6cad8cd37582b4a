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
