"""bpcalc/render/static/step.js in a real browser: Debian's Chromium,
headless, driven by Playwright. Loads the CS231n neuron's page, steps with
the keyboard, and checks the marked node, the numbers shown and the address.

Skips when Chromium is absent, except in CI (BPCALC_REQUIRE_BROWSER=1),
where it must run. Screenshots go to $BPCALC_SCREENSHOTS when set.
Reference numbers: the sample's published answers (cs231n_neuron.bp:
f = 0.731, w0 = -0.197, x0 = 0.393, w1 = -0.393, x1 = -0.590, w2 = 0.197)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLES, run_cli

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and os.path.exists(p)), None)
REQUIRED = bool(os.environ.get("BPCALC_REQUIRE_BROWSER"))
pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or shutil.which("dot") is None) and not REQUIRED,
    reason="needs Chromium (apt-get install chromium) and Graphviz",
)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PUBLISHED = {"w0": -0.197, "x0": 0.393, "w1": -0.393, "x1": -0.590, "w2": 0.197}
NEURON_AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api") if not REQUIRED else __import__(
        "playwright.sync_api", fromlist=["sync_playwright"])
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM or "/usr/bin/chromium", args=FLAGS)
        yield b
        b.close()


def write_page(folder: Path, *args: str) -> Path:
    out = folder / "page.html"
    run = run_cli("explain", *args, "--format", "html", "-o", str(out))
    assert run.code == 0, run.err
    return out


@pytest.fixture(scope="module")
def neuron_page(tmp_path_factory) -> Path:
    return write_page(tmp_path_factory.mktemp("neuron"), "-f", str(SAMPLES / "cs231n_neuron.bp"), "--at", NEURON_AT)


def screenshot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name))
    folder = os.environ.get("BPCALC_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def state(page) -> dict:
    """What the reader sees: the counter, the current step's node and text,
    and the node marked on the picture."""
    return page.evaluate("""() => {
        const li = document.querySelector('li.step.current');
        const marked = document.querySelector('#picture g.node.bp-current title');
        const users = [...document.querySelectorAll('#picture g.node.bp-user title')].map(t => t.textContent);
        return {counter: document.getElementById('counter').textContent, label: li.dataset.label,
                node: li.dataset.node, text: li.innerText, marked: marked ? marked.textContent : null,
                users: users, hash: location.hash,
                visible: [...document.querySelectorAll('li.step')].filter(s => s.offsetParent !== null).length,
                marks: document.querySelectorAll('#picture rect.bp-mark.bp-current').length};
    }""")


def last_number(text: str) -> float:
    return float(re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)[-1])


def test_keyboard_walks_forward_then_backward_marking_each_node(browser, neuron_page, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(neuron_page.as_uri())
    first = state(page)
    assert first["counter"].startswith("step 1 of ") and first["label"] == "w0"
    assert first["marked"] == f"n{first['node']}" and first["marks"] == 1 and first["visible"] == 1
    total = int(first["counter"].split()[-1])
    seen = {}
    for k in range(2, total + 1):
        page.keyboard.press("ArrowRight")
        s = state(page)
        assert s["counter"] == f"step {k} of {total}" and s["hash"] == f"#step={k}"
        assert s["visible"] == k
        if s["node"]:
            assert s["marked"] == f"n{s['node']}" and s["marks"] == 1
        seen[(k, s["label"])] = s
        if k == 7:
            screenshot(page, tmp_path, "neuron-forward.png")
    forward_out = next(s for (k, label), s in seen.items() if "(the output, f)" in s["text"])
    assert abs(last_number(forward_out["text"].split("(the output")[0]) - 0.731) < 5e-4
    backward = {label: s for (k, label), s in seen.items() if label in PUBLISHED and "∂f/∂" in s["text"]}
    assert set(backward) == set(PUBLISHED)
    for name, s in backward.items():
        final = [line for line in s["text"].splitlines() if line.strip().startswith(f"∂f/∂{name} =")][-1]
        assert abs(last_number(final) - PUBLISHED[name]) < 5e-4, final
        assert s["users"], name  # the node its gradient comes from is marked too
    page.keyboard.press("End")
    assert state(page)["counter"] == f"step {total} of {total}"
    page.keyboard.press("ArrowRight")  # stays on the last step
    assert state(page)["hash"] == f"#step={total}"
    page.keyboard.press("Home")
    assert state(page)["hash"] == "#step=1"
    page.close()


def test_a_backward_step_as_a_teacher_links_to_it(browser, neuron_page, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(neuron_page.as_uri() + "#step=19")
    s = state(page)
    assert s["counter"].startswith("step 19 of ")
    assert s["marked"] == f"n{s['node']}" and s["users"]
    assert "upstream" not in s["text"] or "∂f/∂" in s["text"]
    screenshot(page, tmp_path, "neuron-backward.png")
    page.keyboard.press("ArrowLeft")
    assert state(page)["hash"] == "#step=18"
    page.click("#next")
    page.click("#next")
    assert state(page)["hash"] == "#step=20"
    page.evaluate("location.hash = '#step=3'")
    page.wait_for_function("document.getElementById('counter').textContent.startsWith('step 3 ')")
    assert state(page)["label"] == "w1"
    page.close()


def test_phone_width_and_print(browser, neuron_page, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(neuron_page.as_uri() + "#step=20")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page.is_visible("#next") and page.is_visible("li.step.current")
    screenshot(page, tmp_path, "neuron-phone.png")
    page.emulate_media(media="print")
    hidden = page.evaluate("[...document.querySelectorAll('li.step')].filter(s => s.offsetParent === null).length")
    assert hidden == 0 and not page.is_visible("#next")
    titles = page.evaluate("[...document.querySelectorAll('.phase')].filter(t => t.offsetParent !== null)"
                           ".map(t => t.textContent.split(':')[0])")
    assert titles == ["Forward pass", "Backward pass", "Gradient"]  # once per section, on paper
    page.close()


def test_a_script_in_the_program_does_not_run(browser, tmp_path):
    program = tmp_path / "evil.bp"
    program.write_text("# </script><script>window.pwned = 1</script>\nq = x + y  # <img src=x onerror='window.pwned=2'>\nf = q*z\n")
    page = browser.new_page()
    page.goto(write_page(tmp_path, "-f", str(program), "--at", "x=-2,y=5,z=-4").as_uri())
    assert page.evaluate("window.pwned === undefined")
    page.keyboard.press("ArrowRight")
    assert state(page)["counter"] == "step 2 of 11"
    page.close()


def test_the_notebook_view_steps_inside_its_frame(browser, tmp_path):
    """bpcalc.explain(...)._repr_html_(): the page in an iframe (srcdoc), as a
    notebook shows it; it steps there too (the address is the notebook's)."""
    import bpcalc

    cell = bpcalc.explain((SAMPLES / "cs231n_add_mul.bp").read_text(), at={"x": -2, "y": 5, "z": -4})._repr_html_()
    notebook = tmp_path / "cell.html"
    notebook.write_text(f"<!DOCTYPE html><html><body><p>a notebook cell</p>{cell}</body></html>")
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(notebook.as_uri())
    frame = page.frame_locator("iframe.bpcalc-explain")
    frame.locator("#next").click()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert frame.locator("#counter").inner_text() == "step 8 of 11"
    current = frame.locator("li.step.current")
    assert current.get_attribute("data-label") == "z"
    assert "∂f/∂z = ∂f/∂f · q = 1 · 3 = 3" in current.inner_text()  # CS231n: dz = 3
    assert frame.locator("#picture g.node.bp-current title").text_content() == f"n{current.get_attribute('data-node')}"
    screenshot(page, tmp_path, "notebook-cell.png")
    page.close()


def test_a_matrix_program_steps_through_its_rules(browser, tmp_path):
    """DLFS Affine + Softmax-with-Loss: the backward step for W marks W and its
    user X @ W, and shows dW = X.T @ dn4 with the numbers of the sample's
    PyTorch reference (dlfs_affine_softmax.expect.json: dW[0, 0] = 0.0973657)."""
    matrix = SAMPLES / "matrix"
    out = write_page(tmp_path, "-f", str(matrix / "dlfs_affine_softmax.bp"), "--at-file",
                     str(matrix / "dlfs_affine_softmax.point.json"))
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(out.as_uri())
    steps = page.evaluate("() => [...document.querySelectorAll('li.step')].map(s => s.dataset.label)")
    k = steps.index("W", steps.index("L", 6) + 1) + 1  # W's backward step (1-based)
    for _ in range(k - 1):
        page.keyboard.press("ArrowRight")
    s = state(page)
    assert s["hash"] == f"#step={k}" and s["label"] == "W" and s["marked"] == "n1" and s["users"] == ["n4"]
    assert "dW = X.T @ dn4" in s["text"] and "0.0973657" in s["text"] and "(3×2)(2×3) → (3×3)" in s["text"]
    screenshot(page, tmp_path, "matrix-step.png")
    page.close()


def test_the_chinese_page_shows_chinese_buttons_and_counts_in_chinese(browser, tmp_path):
    """--lang zh: the buttons, the hint and the counter step.js writes are Chinese."""
    out = tmp_path / "page.html"
    run = run_cli("explain", "-f", str(SAMPLES / "cs231n_neuron.bp"), "--at", NEURON_AT, "--format", "html",
                  "-o", str(out), env={"BPCALC_LANG": "zh"})
    assert run.code == 0, run.err
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(out.as_uri())
    buttons = page.evaluate("[...document.querySelectorAll('.controls button')].map(b => b.innerText)")
    assert buttons == ["« 首步", "◀ 上一步", "下一步 ▶", "末步 »"]
    assert page.inner_text("h1") == "反向传播，逐步演示"
    total = len(page.query_selector_all("li.step"))
    assert state(page)["counter"] == f"第 1 步，共 {total} 步"
    page.click("#next")
    page.keyboard.press("ArrowRight")
    s = state(page)
    assert s["counter"] == f"第 3 步，共 {total} 步" and s["hash"] == "#step=3" and s["marked"] == f"n{s['node']}"
    page.keyboard.press("End")
    assert state(page)["counter"] == f"第 {total} 步，共 {total} 步"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    screenshot(page, tmp_path, "neuron-zh.png")
    page.close()
