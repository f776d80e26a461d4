"""Every notebook runs in a real JupyterLab and all its widgets render in a real browser.

JupyterLab + headless Chromium, for each notebook in notebooks/ (and a small stack check): open
it, choose the Python 3 kernel if asked, run Run > Run All Cells on that fresh kernel, then
check that no cell failed, that no widget failed to load (a frontend "not registered", as with
nglview 4 in JupyterLab 4.6, shows up here) and that the browser console shows no errors.

Then every widget is looked at where a user sees it: the widgets outside any ipywidgets Tab as
they are, and every tab of every Tab widget (the explorer dashboard is one) after clicking it.
Each nglview canvas that should be on screen must have a size, draw something (not one flat
colour) and draw it inside its frame; each plotly chart must have traces that draw. A view
created in a hidden tab used to stay blank (a 0x0 canvas) when its tab was shown: that is what
the tab visits catch. In the quickstart's explorer the test also drives the level menu, the σ
slider, the soft/hard switch and the scan's height slider, and checks that a linked legend or
chart follows.

A small notebook written here (nglview benzene + a plotly FigureWidget bar chart) checks the
pinned widget stack on its own, so a broken stack and a broken notebook fail apart.
Screenshots go to tests/browser/artifacts/ (git-ignored; CI keeps them there):
``<notebook>.png`` for the page after the run, ``<notebook>-<tab>.png`` for each visited tab.
Set MUSE_EXPLORE_SCREENSHOT=docs/explorer.png to also save the explorer's screenshot there.
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
#: debugger panel logs this when a kernel restart cancels its pending request.
BENIGN_CONSOLE_ERRORS = ("Could not restore the debugger state: Canceled future for debug_request",)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots (git-ignored)
EXPLORER = "01_quickstart.ipynb"
#: What each explorer tab must show once visited: (3D views, plotly charts).
EXPLORER_TABS = {"assignments": (1, 1), "scan": (1, 1), "influence": (2, 0)}
STACK_CHECK = "_widget_stack_check.ipynb"  # written by lab_root, not a repository file
#: every notebook of the repository, run one by one after the stack check
NOTEBOOK_FILES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))

OPEN_TIMEOUT_MS = 90_000
RUN_TIMEOUT_MS = 240_000
#: a run whose requests the kernel never got (kernel idle, every cell still queued) for this
#: long is sent once more
STALL_MS = 45_000
#: notebooks that take longer: 04 trains a small model for 12 epochs, about 5 min on two
#: busy CPU cores (its text says "a minute or two", on an idle machine)
RUN_TIMEOUT_MS_OF = {"04_train_your_own.ipynb": 600_000}
RENDER_TIMEOUT_S = 90.0
#: a driven control's linked legend or chart must follow within this time (a σ change
#: re-evaluates the model, about a second on one CPU thread)
FOLLOW_TIMEOUT_S = 60.0
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

# "finished" as above; "stalled" once the kernel has been idle with every cell queued (no cell
# run yet) for stallMs: requests lost between page and kernel, not a slow cell (the kernel
# would be busy)
RUN_STATE_JS = r"""
([panel, stallMs]) => {
  if ((RUN_FINISHED_JS)(panel)) return "finished";
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  const stuck = status && status.dataset.status === 'idle' && prompts.length > 0
    && prompts.every(p => p.startsWith('[*]'));
  if (!stuck) { panel.dataset.stuckSince = ''; return false; }
  if (!panel.dataset.stuckSince) panel.dataset.stuckSince = String(Date.now());
  return Date.now() - Number(panel.dataset.stuckSince) > stallMs ? "stalled" : false;
}
""".replace("RUN_FINISHED_JS", RUN_FINISHED_JS.strip())


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
        self.notebook = "page"  # set by open_with_a_kernel
        self.resent_runs = 0  # Run All sent again after a stall (see run_all)

    def widget_failures(self) -> list[str]:
        """Widget load failures shown in the page or logged to the browser console."""
        text = self.page.locator("body").inner_text()
        found = [m for m in WIDGET_FAILURES if m in text]
        return found + [line for line in self.console if any(m in line for m in WIDGET_FAILURES)]

    def wait(self, what, wait):
        """Run a Playwright wait; on its timeout fail with ``what`` and the logs that say why.

        ``what``: a message, or a function that gives it (for the state after the wait).
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            return wait()
        except PlaywrightTimeout:
            errors = [line[:500] for line in self.console if line.startswith("error")][-10:]
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / f"{Path(self.notebook).stem}-timeout.png"
            self.page.screenshot(path=str(shot))
            what = what() if callable(what) else what
            pytest.fail(
                f"{what} (screenshot: {shot})\nwidget failures: {self.widget_failures()}\n"
                f"browser console errors: {errors}\njupyter log:\n{self.server.log_tail(60)}",
                pytrace=False,
            )

    def open_with_a_kernel(self, notebook: str) -> None:
        """Open ``notebook``; answer the Select Kernel dialog (no kernelspec) with Python 3."""
        page, panel = self.page, self.panel
        self.notebook = notebook
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

    def run_all(self, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
        """Run > Run All Cells on the kernel just started, and wait for the run's end.

        On a fresh kernel this is the run a user gets from *Restart Kernel and Run All*, without
        a restart racing the kernel's start-up handshakes: in CI (2026-12-05) a restart issued
        right after the start left every cell queued for good while the kernel sat idle. Should
        the requests still be lost (the kernel idle and every cell queued for ``STALL_MS``), Run
        All is sent once more, as a user would, and the test says so in its output.
        """
        deadline = time.monotonic() + timeout_ms / 1000

        def remaining() -> float:
            return max(1000.0, 1000 * (deadline - time.monotonic()))

        def unfinished() -> str:
            return f"the notebook did not finish within {timeout_ms // 1000} s; prompts: " + str(
                self.prompts()
            )

        self._click_run_all()
        state = self.wait(
            unfinished,
            lambda: self.page.wait_for_function(
                RUN_STATE_JS, arg=[self.panel.element_handle(), STALL_MS],
                timeout=remaining(), polling=1000,
            ),
        ).json_value()  # fmt: skip
        if state == "stalled":
            self.resent_runs += 1
            print(f"{self.notebook}: kernel idle, every cell queued for {STALL_MS // 1000} s; "
                  "Run All sent again")  # fmt: skip
            self._click_run_all()
            self.wait(
                unfinished,
                lambda: self.page.wait_for_function(
                    RUN_FINISHED_JS, arg=self.panel.element_handle(), timeout=remaining()
                ),
            )

    def _click_run_all(self) -> float:
        """Run → Run All Cells; returns the clock just before the menu item is clicked."""
        menu = self.page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile("^Run$"))
        menu.click()
        clicked = time.monotonic()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        return clicked

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


#: The in-frame check of a 3D view (``_drawn_extent``, ``_frame_problem``). A pixel is "drawn"
#: when a channel differs from the background (the most common colour) by more than
#: DRAWN_TOLERANCE, so antialiasing and fog haze next to the background do not count. A
#: structure that the camera frames (nglview's autoView fits its bounding sphere into the
#: view) gives a box of drawn pixels well inside the canvas; what a lost or misplaced camera
#: gives instead is caught by three crude rules:
#: - the box spans at least MIN_EXTENT of the canvas's width and of its height (not a speck, a
#:   far-away structure, nor a sliver seen edge-on);
#: - it does not touch all four edges: a drawing that runs off every side is larger than the
#:   canvas (camera inside or far too close to the structure);
#: - at least MIN_INNER of the drawn pixels lie inside a band of BORDER along the edges (not a
#:   structure pushed off-centre so that only its rim shows along the border).
#: EDGE_CROP pixels are cut from each side first: the element screenshot of a canvas with a
#: fractional CSS width can take in a column of its neighbour.
DRAWN_TOLERANCE = 24
MIN_EXTENT = 0.10
BORDER = 0.05
MIN_INNER = 0.5
EDGE_CROP = 2


def _drawn_extent(png: bytes, background: tuple[int, int, int] | None = None) -> dict:
    """Where the pixels unlike ``background`` lie (see the in-frame rules above).

    ``background``: the view's background colour (NGL paints it as the canvas's CSS
    background); by default the most common colour, which a drawing that covers more of the
    canvas than the background takes over. Returns ``width`` and ``height`` of their bounding
    box as fractions of the image's, ``edges``: how many of the four image edges the box
    touches, ``inner``: the fraction of drawn pixels inside the BORDER band, and ``drawn``:
    the fraction of drawn pixels.
    """
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32)
    rgb = rgb[EDGE_CROP:-EDGE_CROP, EDGE_CROP:-EDGE_CROP]
    h, w, _ = rgb.shape
    if background is None:
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        values, counts = np.unique(packed, return_counts=True)
        top = int(values[counts.argmax()])
        background = (top >> 16, (top >> 8) & 0xFF, top & 0xFF)
    drawn = np.abs(rgb - np.array(background, dtype=np.int32)).max(axis=2) > DRAWN_TOLERANCE
    n = int(drawn.sum())
    if not n:
        return {"width": 0.0, "height": 0.0, "edges": 0, "inner": 0.0, "drawn": 0.0}
    ys, xs = np.nonzero(drawn)
    bx, by = max(1, round(BORDER * w)), max(1, round(BORDER * h))
    return {
        "width": (xs.max() - xs.min() + 1) / w,
        "height": (ys.max() - ys.min() + 1) / h,
        "edges": int(xs.min() == 0) + int(ys.min() == 0) + int(xs.max() == w - 1)
        + int(ys.max() == h - 1),
        "inner": float(drawn[by : h - by, bx : w - bx].sum()) / n,
        "drawn": n / (w * h),
    }  # fmt: skip


def _frame_problem(extent: dict) -> str | None:
    """Why the drawing of ``extent`` (:func:`_drawn_extent`) is not a framed structure, or None."""
    if extent["width"] < MIN_EXTENT or extent["height"] < MIN_EXTENT:
        return (
            f"the drawn box is {extent['width']:.0%} x {extent['height']:.0%} of the canvas "
            f"(< {MIN_EXTENT:.0%}: a speck or a sliver)"
        )
    if extent["edges"] == 4:
        return "the drawing runs off all four edges (larger than the canvas)"
    if extent["inner"] < MIN_INNER:
        return (
            f"only {extent['inner']:.0%} of the drawn pixels lie off the border band "
            f"(< {MIN_INNER:.0%}: the structure sits at the edge)"
        )
    return None


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_pixel_stats_tell_a_blank_canvas_from_a_drawn_one():
    from PIL import Image, ImageDraw

    blank = Image.new("RGB", (400, 200), "white")
    assert _pixel_stats(_png(blank)) == (1, 0.0)
    assert not _canvas_is_drawn(*_pixel_stats(_png(blank)))
    drawn = blank.copy()
    ImageDraw.Draw(drawn).ellipse((180, 80, 220, 120), fill="grey", outline="black", width=3)
    drawn = drawn.resize((800, 400), Image.Resampling.BILINEAR)  # antialiased edges
    assert _canvas_is_drawn(*_pixel_stats(_png(drawn)))


@pytest.mark.browser
def test_the_run_state_tells_a_finished_a_running_and_a_stalled_run_apart(browser_page):
    """RUN_STATE_JS on a panel built like JupyterLab's: "stalled" only when the kernel has been
    idle with every cell queued for the stall time; a busy kernel or a cell run is no stall."""
    page = browser_page.page

    def panel(status: str, prompts: list[str]) -> None:
        cells = "".join(
            f'<div class="jp-CodeCell"><div class="jp-InputPrompt">{p}</div></div>' for p in prompts
        )
        page.set_content(
            '<div id="panel"><div class="jp-Notebook-ExecutionIndicator" '
            f'data-status="{status}"></div>{cells}</div>'
        )

    def state(stall_ms: int):
        return page.evaluate(RUN_STATE_JS, [page.query_selector("#panel"), stall_ms])

    panel("idle", ["[1]:", "[2]:"])
    assert state(50) == "finished"
    panel("busy", ["[*]:", "[*]:"])  # a slow first cell: the kernel is busy
    assert state(50) is False
    time.sleep(0.2)
    assert state(50) is False
    panel("idle", ["[1]:", "[*]:"])  # between two cells
    assert state(50) is False
    time.sleep(0.2)
    assert state(50) is False
    panel("idle", ["[*]:", "[*]:", "[*]:"])  # queued, and the kernel never got them
    assert state(50) is False  # not yet: the stall starts now
    time.sleep(0.2)
    assert state(10_000) is False  # too short for a long stall time
    assert state(50) == "stalled"
    page.evaluate(
        "document.querySelector('.jp-Notebook-ExecutionIndicator').dataset.status = 'busy'"
    )
    assert state(50) is False  # the kernel got them after all: the stall clock resets
    page.evaluate(
        "document.querySelector('.jp-Notebook-ExecutionIndicator').dataset.status = 'idle'"
    )
    assert state(50) is False


def test_the_frame_check_tells_a_framed_structure_from_a_misplaced_one():
    from PIL import Image, ImageDraw

    def canvas(*shapes):
        image = Image.new("RGB", (600, 400), "white")
        draw = ImageDraw.Draw(image)
        for kind, box, fill in shapes:
            getattr(draw, kind)(box, fill=fill, outline="black", width=2)
        image = image.resize((1200, 800), Image.Resampling.BILINEAR)  # antialiased edges
        return _drawn_extent(_png(image), background=(255, 255, 255))

    # a molecule over a flake, in the middle: framed
    framed = canvas(("rectangle", (150, 200, 450, 260), "grey"),
                    ("ellipse", (260, 120, 340, 180), "#1f77b4"))  # fmt: skip
    assert _frame_problem(framed) is None, framed
    # nothing drawn, or a speck (a structure seen from far away)
    assert _frame_problem(canvas()) is not None
    speck = canvas(("ellipse", (295, 195, 305, 205), "grey"))
    assert "speck" in _frame_problem(speck), speck
    # a drawing that fills the canvas and runs off all four edges (camera inside it)
    huge = canvas(
        ("ellipse", (-200, -200, 800, 600), "grey"), ("rectangle", (250, 150, 350, 250), "red")
    )
    assert huge["edges"] == 4 and "four edges" in _frame_problem(huge), huge
    # only a rim along the border: the structure pushed out of the frame
    rim = canvas(
        ("rectangle", (300, 385, 650, 450), "grey"), ("rectangle", (585, 200, 650, 450), "grey")
    )
    assert rim["edges"] == 2 and "border" in _frame_problem(rim), rim
    # a fractional-width screenshot taking in a column of the neighbour does not count
    sliver = Image.new("RGB", (600, 400), "white")
    ImageDraw.Draw(sliver).rectangle((598, 0, 599, 399), fill="black")
    assert _drawn_extent(_png(sliver))["drawn"] == 0.0
    # without a given background the most common colour is taken: here the white
    assert _frame_problem(_drawn_extent(_png(Image.new("RGB", (60, 40), "white")))) is not None


#: Hides nglview's overlays (full-screen button, pick label, trajectory player, resize handles:
#: the siblings of the canvas's box) while a canvas is photographed, so that only what WebGL
#: drew is judged; a trajectory player alone would pass for a drawn view.
HIDE_NGL_OVERLAYS = (
    "div:has(> div > canvas):not(.js-plotly-plot *) > :not(:has(> canvas)) "
    "{ visibility: hidden !important; }"
)

#: Tags the widgets that should be on screen under ``root`` (no hidden tab panel, nothing with
#: display: none, between them and ``root``): ``data-muse-check`` = "<prefix>-<n>", and returns
#: what the DOM says of each. ``outside_tabs``: leave out everything inside a Tab widget.
SHOWN_WIDGETS_JS = r"""
([root, prefix, outsideTabs]) => {
  const shown = (el) => {
    for (let e = el; e && e !== root; e = e.parentElement) {
      if (e.classList.contains('lm-mod-hidden')) return false;
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden') return false;
    }
    return true;
  };
  const keep = (el) => shown(el) && !(outsideTabs && el.closest('.widget-tab'));
  const canvases = [...root.querySelectorAll('canvas')]
    .filter(c => !c.closest('.js-plotly-plot') && keep(c));
  const plots = [...root.querySelectorAll('.js-plotly-plot')].filter(keep);
  const out = {canvases: [], plots: []};
  canvases.forEach((c, i) => {
    c.dataset.museCheck = `${prefix}-canvas-${i}`;
    out.canvases.push({id: c.dataset.museCheck,
                       background: getComputedStyle(c).backgroundColor});
  });
  plots.forEach((p, i) => {
    p.dataset.museCheck = `${prefix}-plot-${i}`;
    out.plots.push({id: p.dataset.museCheck,
                    title: [...p.querySelectorAll('.gtitle, .annotation-text')]
                      .map(t => t.textContent.trim()).join(' | ')});
  });
  return out;
}
"""

#: What a plotly chart draws: its traces, and their paths (lines, bars, markers) and images
#: (a heatmap is one image) with some content.
PLOT_DRAWS_JS = r"""
(p) => ({
  traces: p.querySelectorAll('.overplot .trace, .overplot .hm').length,
  drawn: [...p.querySelectorAll('.overplot :is(.trace, .hm) :is(path[d], image)')]
    .filter(e => e.tagName === 'image' || e.getAttribute('d').length > 10).length,
})
"""

#: The Tab widgets under ``root`` in document order, tagged ``data-muse-tab`` = n, with their
#: tab titles and (for a Tab inside another) the outer Tab and the index of the tab holding it.
TABS_JS = r"""
(root) => {
  const tabs = [...root.querySelectorAll('.widget-tab')];
  tabs.forEach((t, i) => { t.dataset.museTab = String(i); });
  return tabs.map((t, i) => {
    const outer = t.parentElement.closest('.widget-tab');
    const inside = outer && root.contains(outer);
    const panels = inside ? [...outer.querySelector(':scope > .widget-tab-contents').children] : [];
    return {
      index: i,
      parent: inside ? Number(outer.dataset.museTab) : null,
      parentTab: inside ? panels.findIndex(p => p.contains(t)) : null,
      titles: [...t.querySelectorAll(':scope > .widget-tab-bar .lm-TabBar-tab')]
        .map(l => l.textContent.trim()),
    };
  });
}
"""


def _css_rgb(css: str) -> tuple[int, int, int] | None:
    """``(r, g, b)`` of a CSS ``rgb(...)``/``rgba(...)`` colour, None if transparent or other."""
    m = re.match(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css or "")
    if not m or (m.group(4) is not None and float(m.group(4)) == 0.0):
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _wait_until(predicate, timeout: float, interval: float = 0.5) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "tab"


class Checks:
    """The widget checks of one notebook: what was seen (``report``) and what is wrong."""

    def __init__(self, lab: Lab, notebook: str):
        self.lab, self.page, self.notebook = lab, lab.page, notebook
        self.stem = Path(notebook).stem
        self.report: list[str] = []
        self.problems: list[str] = []
        self.shots: set[str] = set()

    def fail(self, where: str, message: str, shot: Path | None = None) -> None:
        self.problems.append(
            f"{self.notebook} [{where}]: {message}" + (f" (screenshot: {shot})" if shot else "")
        )

    def shot_path(self, name: str) -> Path:
        """``artifacts/<notebook>-<name>.png``, numbered if that name was taken already."""
        base = f"{self.stem}-{_safe(name)}"
        stem, n = base, 1
        while stem in self.shots:
            n += 1
            stem = f"{base}-{n}"
        self.shots.add(stem)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return ARTIFACTS / f"{stem}.png"

    # ------------------------------------------------------------------ a region
    def region(self, root, where: str, *, outside_tabs: bool = False, shot: Path | None = None):
        """Check every nglview canvas and plotly chart on screen under ``root``."""
        found = self.page.evaluate(
            f"(args) => ({SHOWN_WIDGETS_JS.strip()})(args)",
            [root.element_handle(), _safe(where), outside_tabs],
        )
        for k, info in enumerate(found["canvases"]):
            self.canvas(info, f"{where} view {k + 1}/{len(found['canvases'])}", shot)
        for k, info in enumerate(found["plots"]):
            self.plot(info, f"{where} chart {k + 1}/{len(found['plots'])}", shot)
        return found

    def canvas(self, info: dict, where: str, shot: Path | None) -> dict:
        """Wait until the canvas has a size and draws a framed structure; report what it shows."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        canvas = self.page.locator(f'[data-muse-check="{info["id"]}"]')
        background = _css_rgb(info["background"])
        state: dict = {"colours": 0, "covered": 0.0, "extent": None, "size": None}

        def good() -> bool:
            size = canvas.evaluate(
                "c => [c.width, c.height, Math.round(c.getBoundingClientRect().width),"
                " Math.round(c.getBoundingClientRect().height)]"
            )
            state["size"] = size
            if min(size) <= 0:
                return False  # 0x0: a view sized while hidden and never resized
            try:
                png = canvas.screenshot(style=HIDE_NGL_OVERLAYS, timeout=10_000)
            except PlaywrightTimeout:  # sized but not visible (covered, not laid out yet)
                return False
            state["colours"], state["covered"] = _pixel_stats(png)
            state["extent"] = _drawn_extent(png, background)
            return _canvas_is_drawn(state["colours"], state["covered"]) and (
                _frame_problem(state["extent"]) is None
            )

        ok = _wait_until(good, RENDER_TIMEOUT_S, interval=1.0)
        size, extent = state["size"], state["extent"]
        facts = f"buffer {size[0]}x{size[1]}, on screen {size[2]}x{size[3]} px"
        if extent is None:
            stats = "no pixels" + (" (0x0)" if min(size) <= 0 else ": no screenshot, not visible")
        else:
            stats = (
                f"{state['colours']} colours, {state['covered']:.1%} drawn, box "
                f"{extent['width']:.0%} x {extent['height']:.0%}, {extent['edges']} edge(s), "
                f"{extent['inner']:.0%} inside"
            )
        self.report.append(f"  {where}: {'ok' if ok else 'FAILED'}: {stats}; {facts}")
        if not ok:
            if min(size) <= 0:
                why = "the nglview canvas is 0x0"
            elif extent is None:
                why = "the nglview canvas has a size but cannot be seen"
            elif not _canvas_is_drawn(state["colours"], state["covered"]):
                why = "the nglview canvas is blank"
            else:
                why = f"the nglview view is not framed: {_frame_problem(extent)}"
            self.fail(where, f"{why} after {RENDER_TIMEOUT_S:.0f} s: {stats}; {facts}", shot)
        return state

    def plot(self, info: dict, where: str, shot: Path | None) -> None:
        """Wait until the plotly chart has traces that draw."""
        plot = self.page.locator(f'[data-muse-check="{info["id"]}"]')
        state = {}

        def good() -> bool:
            state.update(plot.evaluate(PLOT_DRAWS_JS.strip()))
            return state["traces"] > 0 and state["drawn"] > 0

        ok = _wait_until(good, RENDER_TIMEOUT_S)
        title = f" {info['title']!r}" if info["title"] else ""
        stats = f"{state['traces']} trace(s), {state['drawn']} drawn path(s)/image(s)"
        self.report.append(f"  {where}{title}: {'ok' if ok else 'FAILED'}: {stats}")
        if not ok:
            # what the page said about widgets: a chart that never got a view (no layout, no
            # traces) has left no other trace so far (seen once, 05_folding, 2026-12-02)
            said = [
                line[:300]
                for line in self.lab.console
                if line.startswith(("error", "warning", "pageerror")) or "anywidget" in line.lower()
            ][-8:]
            self.fail(
                where,
                f"the plotly chart{title} draws nothing: {stats}; browser console: {said}",
                shot,
            )

    # ------------------------------------------------------------------ tabs
    def expect(self, root, where: str, canvases: int, plots: int, shot: Path) -> None:
        """Wait until ``root`` shows at least this many 3D views and charts.

        A tab whose widgets are created on its first visit shows them only once the kernel
        has built them: without this wait, an empty tab would pass as one without widgets.
        """
        found: dict = {}

        def enough() -> bool:
            found.update(
                self.page.evaluate(
                    f"(args) => ({SHOWN_WIDGETS_JS.strip()})(args)",
                    [root.element_handle(), _safe(where), False],
                )
            )
            return len(found["canvases"]) >= canvases and len(found["plots"]) >= plots

        if not _wait_until(enough, RENDER_TIMEOUT_S):
            self.fail(
                where, f"expected {canvases} 3D view(s) and {plots} chart(s), found "
                f"{len(found['canvases'])} and {len(found['plots'])}", shot,
            )  # fmt: skip

    def tabs(self, drive=None, expect: dict | None = None) -> list[str]:
        """Click every tab of every Tab widget and check what it shows; returns the tab names.

        ``drive(name, panel)``: called on each tab after its checks (the explorer's controls).
        ``expect``: tab name -> (3D views, charts) that tab must show.
        """
        tabs = self.page.evaluate(
            f"(root) => ({TABS_JS.strip()})(root)", self.lab.panel.element_handle()
        )
        visited: list[str] = []

        def visit(tab: dict, prefix: str) -> None:
            widget = self.lab.panel.locator(f'[data-muse-tab="{tab["index"]}"]')
            headers = widget.locator(":scope > .widget-tab-bar .lm-TabBar-tab")
            panels = widget.locator(":scope > .widget-tab-contents > *")
            for i, title in enumerate(tab["titles"]):
                name = f"{prefix}{title}"
                headers.nth(i).click()
                shown = _wait_until(
                    lambda i=i: (
                        headers.nth(i).get_attribute("aria-selected") == "true"
                        and "lm-mod-hidden" not in (panels.nth(i).get_attribute("class") or "")
                    ),
                    10.0,
                )
                shot = self.shot_path(name)
                self.report.append(f" tab {name!r}:")
                if not shown:
                    self.fail(name, "clicking the tab did not show it")
                if expect and name in expect:
                    self.expect(panels.nth(i), name, *expect[name], shot)
                found = self.region(panels.nth(i), name, shot=shot)
                if not found["canvases"] and not found["plots"]:
                    self.report.append("  (no 3D view or chart)")
                if drive is not None:
                    drive(name, panels.nth(i), shot)
                widget.scroll_into_view_if_needed()
                widget.screenshot(path=str(shot))
                visited.append(name)
                for inner in tabs:
                    if inner["parent"] == tab["index"] and inner["parentTab"] == i:
                        visit(inner, f"{name}-")

        for tab in tabs:
            if tab["parent"] is None:
                visit(tab, "")
        return visited


class ExplorerControls:
    """Drives the quickstart explorer's controls, one interaction each, and checks what follows.

    Each step changes one control the way a user does (the menu, the slider's value box, the
    keyboard on a slider handle, a toggle button) and waits for the linked legend or chart.
    """

    def __init__(self, checks: Checks):
        self.checks, self.page = checks, checks.page
        self.seconds = 0.0  # spent driving
        self.driven: list[str] = []

    def __call__(self, name: str, panel, shot: Path) -> None:
        steps = {"assignments": self.assignments, "scan": self.scan}.get(name)
        if steps is not None:
            t0 = time.monotonic()
            steps(panel, shot)
            self.seconds += time.monotonic() - t0
            self.driven.append(name)

    def control(self, panel, kind: str, label: str):
        """The ipywidgets control of class ``kind`` whose description is ``label``."""
        exact = self.page.locator(
            "label.widget-label", has_text=re.compile(f"^{re.escape(label)}$")
        )
        return panel.locator(f".{kind}", has=exact).first

    def follows(self, name: str, what: str, predicate, shot: Path, detail) -> bool:
        ok = _wait_until(predicate, FOLLOW_TIMEOUT_S)
        self.checks.report.append(f"  drive {what}: {'ok' if ok else 'FAILED'}: {detail()}")
        if not ok:
            self.checks.fail(
                name, f"{what}: nothing followed within {FOLLOW_TIMEOUT_S:.0f} s: {detail()}", shot
            )
        return ok

    def assignments(self, panel, shot: Path) -> None:
        name = "assignments"
        legend = panel.locator(".widget-html-content", has_text=re.compile(r"^level \d+:")).first
        nodes_title = panel.locator(
            ".js-plotly-plot :is(.gtitle, .annotation-text)", has_text="energy per node"
        ).first
        canvas = panel.locator("canvas:not(.js-plotly-plot canvas)").first
        sigma = self.control(panel, "widget-hslider", "σ (Å)")
        sigma_box = sigma.locator(".widget-readout")

        def legend_head() -> str:
            return legend.inner_text().split("\n")[0]

        # the level menu: the legend, the per-node chart, the σ slider and the 3D view follow
        select = self.control(panel, "widget-dropdown", "level").locator("select")
        values = [o.get_attribute("value") for o in select.locator("option").all()]
        level = next(v for v in values if v != select.input_value())
        sigma_before, picture = sigma_box.inner_text(), canvas.screenshot(style=HIDE_NGL_OVERLAYS)
        select.select_option(value=level)
        self.follows(
            name, f"level menu -> {level!r} (legend, 'energy per node' title, 3D colours)",
            lambda: legend_head().startswith(f"{level}:")
            and nodes_title.text_content().strip().endswith(level)
            and canvas.screenshot(style=HIDE_NGL_OVERLAYS) != picture,
            shot, lambda: f"legend {legend_head()!r}, chart title {nodes_title.text_content()!r}",
        )  # fmt: skip
        self.follows(
            name, "level menu -> σ slider shows that level's σ",
            lambda: sigma_box.inner_text() != sigma_before,
            shot, lambda: f"σ {sigma_before} -> {sigma_box.inner_text()}",
        )  # fmt: skip
        self.checks.canvas(
            {"id": canvas.evaluate("c => c.dataset.museCheck"),
             "background": canvas.evaluate("c => getComputedStyle(c).backgroundColor")},
            f"{name} view after the level change", shot,
        )  # fmt: skip

        # the σ slider, typed into its value box (a drag on the track depends on its pixel
        # width; the box takes the value exactly): the legend's node table follows
        old = float(sigma_box.inner_text())
        top = float(sigma.locator(".noUi-handle").get_attribute("aria-valuemax"))
        new = old + 0.5 if old + 0.5 <= top else old - 0.5
        table = legend.inner_text()
        sigma_box.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(f"{new:.2f}")
        self.page.keyboard.press("Enter")
        self.follows(
            name, f"σ slider {old:.2f} -> {new:.2f} (legend's node table)",
            lambda: sigma_box.inner_text() == f"{new:.2f}" and legend.inner_text() != table,
            shot, lambda: f"σ box {sigma_box.inner_text()}, legend {legend_head()!r}",
        )  # fmt: skip

        # soft/hard: the legend's node masses follow (whole atoms when hard)
        toggle = self.control(panel, "widget-toggle-buttons", "assignment")
        other = toggle.locator(".widget-toggle-button:not(.mod-active)").first
        choice, table = other.inner_text().strip(), legend.inner_text()
        other.click()
        self.follows(
            name, f"soft/hard -> {choice!r} (legend's node table)",
            lambda: toggle.locator(".mod-active").inner_text().strip() == choice
            and legend.inner_text() != table,
            shot, lambda: f"active {toggle.locator('.mod-active').inner_text().strip()!r}",
        )  # fmt: skip

    def scan(self, panel, shot: Path) -> None:
        # the height slider, by keyboard on its handle (noUiSlider's arrow keys; a drag would
        # depend on the track's pixel width): the "current" marker on E_int(d) follows
        slider = self.control(panel, "widget-hslider", "height (Å)")
        handle, box = slider.locator(".noUi-handle"), slider.locator(".widget-readout")
        marker = panel.locator(".js-plotly-plot .scatterlayer .trace").last.locator("path.point")

        def where() -> str:
            return f"height {box.inner_text()}, marker at {marker.first.get_attribute('transform')}"

        before, place = box.inner_text(), marker.first.get_attribute("transform")
        at_top = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        for _ in range(5):
            self.page.keyboard.press("ArrowLeft" if at_top else "ArrowRight")
        self.follows(
            "scan", f"height slider {before} -> 5 steps (the 'current' marker on E_int(d))",
            lambda: box.inner_text() != before
            and marker.first.get_attribute("transform") != place,
            shot, where,
        )  # fmt: skip


# every code cell numbered above ``done`` (a re-run finished) and the kernel idle
RERUN_FINISHED_JS = r"""
([panel, done]) => {
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!status || status.dataset.status !== 'idle') return false;
  const numbers = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => parseInt((p.textContent.match(/\[(\d+)\]/) || [])[1] || '0'));
  return numbers.length > 0 && numbers.every(n => n > done);
}
"""


def _warm_run_all(lab: Lab) -> tuple[float, float]:
    """Seconds from *Run All Cells* on the warm kernel until the run has finished (every cell
    numbered again, the kernel idle) and until the first 3D view is drawn again.

    The explorer issue's target is 5 s; it is printed, not asserted (timings vary with load).
    """
    done = max(int(m) for p in lab.prompts() for m in re.findall(r"\[(\d+)\]", p))
    t0 = lab._click_run_all()
    lab.wait(
        "the warm re-run did not finish",
        lambda: lab.page.wait_for_function(
            RERUN_FINISHED_JS, arg=[lab.panel.element_handle(), done], timeout=RUN_TIMEOUT_MS
        ),
    )
    finished = time.monotonic() - t0
    canvas = lab.panel.locator(".jp-OutputArea-output canvas:not(.js-plotly-plot canvas)").first
    canvas.wait_for(state="visible", timeout=RENDER_TIMEOUT_S * 1000)
    _wait_until(lambda: _canvas_is_drawn(*_pixel_stats(canvas.screenshot())), RENDER_TIMEOUT_S, 0.1)
    return finished, time.monotonic() - t0


@pytest.mark.browser
@pytest.mark.parametrize("notebook", [STACK_CHECK, *NOTEBOOK_FILES])
def test_notebook_runs_and_its_widgets_render_in_jupyterlab(notebook, lab_server, browser_page):
    lab = Lab(browser_page, lab_server)
    start = time.monotonic()
    lab.open_with_a_kernel(notebook)
    opened = time.monotonic()
    lab.run_all(RUN_TIMEOUT_MS_OF.get(notebook, RUN_TIMEOUT_MS))
    ran = time.monotonic()

    errors = lab.cell_errors()
    assert not errors, f"{notebook}: a cell failed:\n" + "\n---\n".join(errors)
    prompts = lab.prompts()
    assert all(re.match(r"\[\d+\]", p) for p in prompts), f"cells not run: {prompts}"
    assert not lab.widget_failures(), f"widgets failed to load: {lab.widget_failures()}"
    lab.wait(
        f"widgets still loading after {RENDER_TIMEOUT_S:.0f} s",
        lambda: lab.page.wait_for_function(
            "(panel) => !panel.textContent.includes('Loading widget')",
            arg=lab.panel.element_handle(), timeout=RENDER_TIMEOUT_S * 1000,
        ),
    )  # fmt: skip
    lab.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()  # fold

    checks = Checks(lab, notebook)
    # the page as it is after the run (the docs' explorer screenshot): the first view on top
    shot = ARTIFACTS / f"{Path(notebook).stem}.png"
    checks.shots.add(shot.stem)
    checks.report.append(" outside any Tab widget:")
    found = checks.region(lab.panel, "notebook", outside_tabs=True, shot=shot)
    if not found["canvases"] and not found["plots"]:
        checks.report.append("  (no 3D view or chart)")
    first = lab.panel.locator(".jp-OutputArea-output canvas:not(.js-plotly-plot canvas)").first
    if first.count():
        first.evaluate("e => e.scrollIntoView({block: 'start'})")  # the charts fit below it
        time.sleep(1.0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lab.page.screenshot(path=str(shot), full_page=True)
    target = os.environ.get("MUSE_EXPLORE_SCREENSHOT")
    if target and notebook == EXPLORER:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
        print(f"screenshot: {target}")

    # every tab; in the explorer, each tab's controls are driven after its checks
    controls = ExplorerControls(checks) if notebook == EXPLORER else None
    visited = checks.tabs(drive=controls, expect=EXPLORER_TABS if controls else None)
    rendered = time.monotonic() - (controls.seconds if controls else 0.0)
    if controls is not None:
        assert {"assignments", "scan", "influence"} <= set(visited), (
            f"the explorer's tabs were not all found: {visited}"
        )
        assert controls.driven == ["assignments", "scan"], f"controls driven: {controls.driven}"

    warm = _warm_run_all(lab) if notebook == EXPLORER else None

    resent = f" (Run All sent {1 + lab.resent_runs} times)" if lab.resent_runs else ""
    print(f"\n{notebook}: opened {opened - start:.1f} s, ran {ran - opened:.1f} s{resent}, "
          f"widgets drawn {rendered - ran:.1f} s"
          + (f" (+ driving the controls {controls.seconds:.1f} s)" if controls else "")
          + f"; tabs visited: {visited or 'none'}")  # fmt: skip
    if warm is not None:
        print(f"warm kernel, Run All -> run finished {warm[0]:.1f} s, "
              f"dashboard drawn again {warm[1]:.1f} s")  # fmt: skip
    print("\n".join(checks.report))
    print(f"screenshots: {ARTIFACTS}/{Path(notebook).stem}*.png")
    assert not checks.problems, "widgets that do not show what they should:\n" + "\n".join(
        checks.problems
    )
    assert not lab.widget_failures(), f"widgets failed to load: {lab.widget_failures()}"
    console_errors = [
        line for line in lab.console
        if line.startswith("error") and not any(b in line for b in BENIGN_CONSOLE_ERRORS)
    ]  # fmt: skip
    assert not console_errors, f"the browser console shows errors: {console_errors[:10]}"
