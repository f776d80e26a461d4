"""The explorer notebook runs in a real JupyterLab and its widgets render in a real browser.

JupyterLab + headless Chromium: open the notebook, choose the Python 3 kernel if asked, run
Kernel > Restart Kernel and Run All Cells, then check that no cell failed, that the nglview
WebGL canvas shows something, that a plotly chart has drawn traces, and that no widget failed
to load (a frontend "not registered", as with nglview 4 in JupyterLab 4.6, shows up here).

A small notebook written here (nglview benzene + a plotly FigureWidget bar chart) checks the
pinned widget stack on its own, so a broken stack and a broken explorer notebook fail apart.
Screenshots go to tests/browser/artifacts/ (git-ignored; CI keeps them there). Set
MUSE_EXPLORE_SCREENSHOT=docs/explorer.png to also save the explorer's screenshot there.
"""

import io
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
#: JupyterLab's own console messages that say nothing about the notebook or its widgets: the
#: debugger panel logs this when "Restart Kernel and Run All" cancels its pending request.
BENIGN_CONSOLE_ERRORS = ("Could not restore the debugger state: Canceled future for debug_request",)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots (git-ignored)
EXPLORER = "01_quickstart.ipynb"
STACK_CHECK = "_widget_stack_check.ipynb"  # written by lab_root, not a repository file

OPEN_TIMEOUT_MS = 90_000
RUN_TIMEOUT_MS = 240_000
RENDER_TIMEOUT_S = 90.0
WIDGET_FAILURES = (
    "is not registered",
    "Error displaying widget",
    "Failed to load model class",
    "Could not create a view",
)

STACK_CELLS = [
    "import ase.build\nimport nglview\n\nview = nglview.show_ase(ase.build.molecule('C6H6'))\nview",
    "import plotly.graph_objects as go\n\n"
    "fig = go.FigureWidget(go.Bar(x=['a', 'b', 'c'], y=[1.0, 3.0, 2.0]))\nfig",
]

# a run is over when the kernel is idle and either every code cell has a number in its prompt,
# or nothing is queued any more and a cell failed (Run All stops at the failing cell)
RUN_FINISHED_JS = r"""
(panel) => {
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!status || status.dataset.status !== 'idle') return false;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  if (prompts.length && prompts.every(p => /^\[\d+\]/.test(p))) return true;
  const queued = prompts.some(p => p.startsWith('[*]'));
  const failed = [...panel.querySelectorAll('.jp-OutputArea-output')]
    .some(o => o.textContent.includes('Traceback'));
  return failed && !queued;
}
"""


def _stack_notebook() -> dict:
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"cell-{i}",
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for i, source in enumerate(STACK_CELLS)
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture(scope="module")
def lab_root(tmp_path_factory):
    """A temporary copy of the repository's notebooks/ plus the stack-check notebook."""
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    if NOTEBOOKS.is_dir():
        shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    assert not (root / STACK_CHECK).exists(), f"notebooks/{STACK_CHECK} would be overwritten"
    (root / STACK_CHECK).write_text(json.dumps(_stack_notebook(), indent=1))
    return root


class Lab:
    """The notebook panel of a JupyterLab page, with the waits and steps the test takes."""

    def __init__(self, browser_page, server):
        self.page, self.console, self.server = browser_page.page, browser_page.console, server
        self.panel = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")

    def widget_failures(self) -> list[str]:
        """Widget load failures shown in the page or logged to the browser console."""
        text = self.page.locator("body").inner_text()
        found = [m for m in WIDGET_FAILURES if m in text]
        return found + [line for line in self.console if any(m in line for m in WIDGET_FAILURES)]

    def wait(self, what: str, wait):
        """Run a Playwright wait; on its timeout fail with ``what`` and the logs that say why."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            return wait()
        except PlaywrightTimeout:
            errors = [line[:500] for line in self.console if line.startswith("error")][-10:]
            pytest.fail(
                f"{what}\nwidget failures: {self.widget_failures()}\n"
                f"browser console errors: {errors}\njupyter log:\n{self.server.log_tail(20)}",
                pytrace=False,
            )

    def open_with_a_kernel(self, notebook: str) -> None:
        """Open ``notebook``; answer the Select Kernel dialog (no kernelspec) with Python 3."""
        page, panel = self.page, self.panel
        page.goto(self.server.url(notebook))
        self.wait(
            f"{notebook} did not open",
            lambda: panel.locator(".jp-CodeCell").first.wait_for(timeout=OPEN_TIMEOUT_MS),
        )
        self.wait(
            f"{notebook}: no kernel started and no Select Kernel dialog came",
            lambda: page.wait_for_function(
                """(panel) => document.querySelector('.jp-Dialog') || (
                     panel.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
                     && /Python/.test(panel.querySelector('.jp-KernelName')?.textContent || ''))""",
                arg=panel.element_handle(),
                timeout=OPEN_TIMEOUT_MS,
            ),
        )
        dialog = page.locator(".jp-Dialog")
        if dialog.count():
            header = dialog.locator(".jp-Dialog-header").inner_text().strip()
            assert header == "Select Kernel", f"unexpected dialog: {dialog.inner_text()}"
            python = dialog.locator("select option", has_text="Python 3").first
            dialog.locator("select").select_option(value=python.get_attribute("value"))
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()  # "Select"
            dialog.wait_for(state="detached")
            print("answered the Select Kernel dialog with Python 3")

    def restart_and_run_all(self) -> None:
        """Kernel > Restart Kernel and Run All Cells…, confirm, and wait for the run's end."""
        page = self.page
        menu = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile("^Kernel$"))
        menu.click()
        page.locator('.lm-Menu-item[data-command="runmenu:restart-and-run-all"]').click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for()
        assert dialog.locator(".jp-Dialog-header").inner_text().strip() == "Restart Kernel?"
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()  # "Restart"
        dialog.wait_for(state="detached")
        self.wait(
            f"the notebook did not finish within {RUN_TIMEOUT_MS // 1000} s; prompts: "
            f"{self.prompts()}",
            lambda: page.wait_for_function(
                RUN_FINISHED_JS, arg=self.panel.element_handle(), timeout=RUN_TIMEOUT_MS
            ),
        )

    def prompts(self) -> list[str]:
        """The input prompts of the code cells, ``[ ]:``, ``[*]:`` or ``[n]:``."""
        return [p.inner_text() for p in self.panel.locator(".jp-CodeCell .jp-InputPrompt").all()]

    def cell_errors(self) -> list[str]:
        """Tracebacks (and stderr naming an error) in the cells' outputs."""
        errors = []
        for out in self.panel.locator(".jp-OutputArea-output.jp-RenderedText").all():
            text = out.inner_text()
            stderr = out.get_attribute("data-mime-type") == "application/vnd.jupyter.stderr"
            if "Traceback" in text or (stderr and re.search(r"\b\w*Error\b", text)):
                errors.append(text[-2000:])
        return errors


def _canvas_is_drawn(colours: int, covered: float) -> bool:
    # a blank WebGL canvas is one flat colour; benzene in the stack check gives ~200 colours
    # over ~2% of the canvas
    return colours >= 16 and covered >= 0.002


def _pixel_stats(png: bytes) -> tuple[int, float]:
    """Distinct colours and the fraction of pixels unlike the most common (background) one."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = image.getcolors(maxcolors=image.width * image.height)
    background = max(counts)[0]
    return len(counts), 1.0 - background / (image.width * image.height)


def _wait_for_a_drawn_canvas(canvas) -> tuple[int, float]:
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while True:
        canvas.scroll_into_view_if_needed()
        colours, covered = _pixel_stats(canvas.screenshot())
        if _canvas_is_drawn(colours, covered) or time.monotonic() > deadline:
            return colours, covered
        time.sleep(1.0)


def test_pixel_stats_tell_a_blank_canvas_from_a_drawn_one():
    from PIL import Image, ImageDraw

    def png(image):
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()

    blank = Image.new("RGB", (400, 200), "white")
    assert _pixel_stats(png(blank)) == (1, 0.0)
    assert not _canvas_is_drawn(*_pixel_stats(png(blank)))
    drawn = blank.copy()
    ImageDraw.Draw(drawn).ellipse((180, 80, 220, 120), fill="grey", outline="black", width=3)
    drawn = drawn.resize((800, 400), Image.Resampling.BILINEAR)  # antialiased edges
    assert _canvas_is_drawn(*_pixel_stats(png(drawn)))


@pytest.mark.browser
@pytest.mark.parametrize("notebook", [STACK_CHECK, EXPLORER])
def test_notebook_runs_and_its_widgets_render_in_jupyterlab(
    notebook, lab_server, browser_page, tmp_path
):
    if notebook != STACK_CHECK:
        assert (NOTEBOOKS / notebook).is_file(), f"notebooks/{notebook} is missing"
    lab = Lab(browser_page, lab_server)
    start = time.monotonic()
    lab.open_with_a_kernel(notebook)
    opened = time.monotonic()
    lab.restart_and_run_all()
    ran = time.monotonic()

    errors = lab.cell_errors()
    assert not errors, f"{notebook}: a cell failed:\n" + "\n---\n".join(errors)
    prompts = lab.prompts()
    assert all(re.match(r"\[\d+\]", p) for p in prompts), f"cells not run: {prompts}"
    assert not lab.widget_failures(), f"widgets failed to load: {lab.widget_failures()}"

    plot = ".js-plotly-plot :is(.barlayer, .scatterlayer) .trace"
    lab.wait(
        f"no plotly chart with traces within {RENDER_TIMEOUT_S:.0f} s",
        lambda: lab.panel.locator(plot).first.wait_for(
            state="attached", timeout=RENDER_TIMEOUT_S * 1000
        ),
    )
    paths = [p.get_attribute("d") for p in lab.panel.locator(f"{plot} path[d]").all()]
    assert any(len(d) > 10 for d in paths), f"the plotly traces draw nothing: {paths}"

    canvas = lab.panel.locator(".jp-OutputArea-output canvas:not(.js-plotly-plot canvas)").first
    lab.wait(
        f"no nglview canvas within {RENDER_TIMEOUT_S:.0f} s (no WebGL in the browser?)",
        lambda: canvas.wait_for(state="visible", timeout=RENDER_TIMEOUT_S * 1000),
    )
    colours, covered = _wait_for_a_drawn_canvas(canvas)
    assert _canvas_is_drawn(colours, covered), (
        f"the nglview canvas is blank: {colours} colour(s), {covered:.2%} of it drawn"
    )
    rendered = time.monotonic()
    assert not lab.widget_failures(), f"widgets failed to load: {lab.widget_failures()}"
    console_errors = [
        line for line in lab.console
        if line.startswith("error") and not any(b in line for b in BENIGN_CONSOLE_ERRORS)
    ]  # fmt: skip
    assert not console_errors, f"the browser console shows errors: {console_errors[:10]}"

    # the explorer's screenshot: file browser folded away, the 3D view in sight
    lab.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    canvas.evaluate("e => e.scrollIntoView({block: 'start'})")  # the charts fit below it
    time.sleep(1.0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{Path(notebook).stem}.png"
    lab.page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    target = os.environ.get("MUSE_EXPLORE_SCREENSHOT")
    if target and notebook == EXPLORER:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
        print(f"screenshot: {target}")
    print(
        f"{notebook}: opened {opened - start:.1f} s, ran {ran - opened:.1f} s, "
        f"widgets drawn {rendered - ran:.1f} s; canvas {colours} colours, {covered:.1%} drawn"
    )
