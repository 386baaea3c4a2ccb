"""The course's widgets in a real browser: JupyterLab + headless Debian Chromium.

One JupyterLab server on 127.0.0.1 (a free port, a random token, every Jupyter folder in a
temp dir) and one Chromium serve the three tests of this module, each in its own notebook
and browser context:

- the CNN Architecture Explorer (chapter 02): a small notebook of the chapter's own explorer
  cells (its imports, ``output_size``, ``build_cnn``, ``architecture_report`` and the
  ``interactive`` controls); the test moves the "blocks" slider with the keyboard and checks
  that the report below it shows the totals worked out by hand, the new Keras code, and the
  chapter's message once the image is too small for the blocks;
- chapter 08's cleaning tool: the chapter's own cells that define ``CleaningTool``, run over
  three generated JPEGs; a new label picked in the drop-down and a click on "relabel" must
  write the row to the CSV file on disk, and "undo" must take it out again;
- chapter 09's upload app: the chapter 09 solutions notebook (smoke + offline, as the suite
  does) plus one extra last cell that prints the kernel's own top class for scikit-learn's
  sample photo ``china.jpg``; the test uploads that same file through the app's FileUpload
  control (a click on the control opens its hidden file input's chooser, which playwright
  fills in) and checks that the top class the app renders is the kernel's prediction; then a
  5 MB phone-sized JPEG goes through the same control (ipywidgets 8 must hand it over whole).

Screenshots are kept in ``test-artifacts/``. Needs Debian's ``chromium`` (``apt-get install
-y chromium``) and PyPI ``playwright`` (driven with ``executable_path``; ``playwright
install`` is never needed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_required() -> bool:
    """In CI (``CI`` or ``COURSE_REQUIRE_BROWSER`` set, as ``.ci/run`` does) a missing browser is a failure."""
    flags = (os.environ.get("COURSE_REQUIRE_BROWSER", ""), os.environ.get("CI", ""))
    return any(flag.strip().lower() not in ("", "0", "false", "no") for flag in flags)


if os.environ.get("COURSE_SKIP_BROWSER", "").strip().lower() not in ("", "0", "false", "no") and not browser_required():
    # `run.py compat` sets it: stacks with ipywidgets 7, which JupyterLab 4 cannot draw before 7.8
    pytest.skip("browser test skipped: COURSE_SKIP_BROWSER is set", allow_module_level=True)

if not CHROMIUM.exists():
    message = (
        "/usr/bin/chromium is missing. Enable it with `apt-get install -y chromium` "
        "(Debian's package; never `playwright install`)."
    )
    if browser_required():
        pytest.fail(f"browser test required here (CI / COURSE_REQUIRE_BROWSER=1) but {message}", pytrace=False)
    pytest.skip(f"browser test skipped: {message}", allow_module_level=True)

from playwright import sync_api as playwright_sync  # noqa: E402  (requirements-test.txt: a missing one must fail)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_settings(settings: Path) -> None:
    """Keep every cell in the DOM, start the kernel without asking, and no news pop-up."""
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


CH02_NOTEBOOK = ROOT / "solutions" / "02_convolution_from_scratch.ipynb"
EXPLORER_CELLS = ("cell-004", "cell-029", "ch02-explorer-build", "ch02-explorer-report", "cell-061")


def write_explorer_notebook(folder: Path) -> str:
    """Chapter 02's explorer cells as they stand in the chapter (imports, output_size, the explorer)."""
    chapter = {cell.id: cell for cell in nbformat.read(CH02_NOTEBOOK, as_version=4).cells}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(chapter[i].source) for i in EXPLORER_CELLS])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, folder / "explorer_test.ipynb")
    return "explorer_test.ipynb"


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 for this module's tests, stopped (with its kernels) by SIGTERM afterwards."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    work = tmp_path / "work"
    work.mkdir()
    write_settings(tmp_path / "settings")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    )
    log = open(tmp_path / "jupyterlab.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.root_dir={work}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {server.returncode}:\n{_tail(tmp_path / 'jupyterlab.log')}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within 120 s:\n{_tail(tmp_path / 'jupyterlab.log')}")
            time.sleep(0.5)
        yield {"base": base, "token": token, "work": work, "log": tmp_path / "jupyterlab.log"}
    finally:
        server.send_signal(signal.SIGTERM)  # lets the server shut its kernels down
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for this module's tests (each test opens its own context)."""
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def notebook_page(jupyterlab, chromium, name: str, timeout_ms: int = 120_000):
    """A fresh browser context with notebook ``name`` open in JupyterLab, all its cells started."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        # ?reset: a clean workspace, so only this notebook is open (the server serves every test)
        page.goto(f"{jupyterlab['base']}/lab/tree/{name}?reset&token={jupyterlab['token']}")
        page.wait_for_selector("#jp-main-statusbar >> text=Idle")
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        yield page
    finally:
        context.close()


# ---------------------------------------------------------------- chapter 02: the explorer
def test_explorer_renders_and_responds_in_jupyterlab(jupyterlab, chromium):
    name = write_explorer_notebook(jupyterlab["work"])
    with notebook_page(jupyterlab, chromium, name) as page:
        report = page.locator(".widget-output").filter(has_text="total")
        report.wait_for()
        # the defaults, by hand: Conv2D 3->32 896, 32->64 18,496, 64->128 73,856; Dense 128->128 16,512, 128->10 1,290
        assert re.search(r"total\s+111,050\s", report.inner_text()), report.inner_text()

        slider = page.locator(".widget-slider").filter(has_text="blocks")
        # ipywidgets 8 draws sliders with noUiSlider; older versions used jQuery UI.
        slider.locator(".noUi-handle, .ui-slider-handle").first.click()
        page.keyboard.press("ArrowRight")  # 4 blocks: + Conv2D 128->256 295,168, and Dense 256->128 32,896
        shown = page.locator(".widget-output").filter(has_text=re.compile(r"total\s+422,602\s"))
        shown.wait_for()
        assert "layers.Conv2D(filters=256, kernel_size=(3, 3)" in shown.inner_text()  # the code follows too
        page.screenshot(path=str(ARTIFACTS / "browser_explorer.png"), full_page=True)

        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")  # 6 blocks: 32 -> 16 -> 8 -> 4 -> 2 -> 1, and block 6 cannot pool 1x1
        message = page.locator(".widget-output").filter(has_text="Cannot build this model")
        message.wait_for()
        assert "block 6: the feature map is 1x1 before the 2x2 pooling" in message.inner_text()
        assert "total" not in message.inner_text()  # the old report is gone
        page.screenshot(path=str(ARTIFACTS / "browser_explorer_impossible.png"), full_page=True)


# ---------------------------------------------------------------- chapter 08: the cleaning tool
CH08_NOTEBOOK = ROOT / "solutions" / "08_look_inside.ipynb"
CH08_TOOL_CELLS = ["cell-004", "ch08-decisions-csv", "ch08-cleaning-tool"]  # imports, then the tool
CLASSES = ["daisy", "roses", "tulips"]


def write_cleaning_notebook(folder: Path, csv_path: Path) -> str:
    """Chapter 08's own cells that define the cleaning tool, then one cell that shows it on three JPEGs."""
    from PIL import Image

    files = ["roses/1.jpg", "daisy/2.jpg", "tulips/3.jpg"]
    for i, file in enumerate(files):
        (folder / "photos" / file).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 64), (60 * i + 40,) * 3).save(folder / "photos" / file)
    chapter = {cell.get("id"): cell.source for cell in nbformat.read(CH08_NOTEBOOK, as_version=4).cells}
    show = f"""tool = CleaningTool(Path({str(csv_path)!r}), {CLASSES!r}, Path({str(folder / "photos")!r}), {files!r}, ["roses", "daisy", "tulips"], ["", "", ""])
tool.widget"""
    cells = [nbformat.v4.new_code_cell(chapter[cell_id]) for cell_id in CH08_TOOL_CELLS]
    nb = nbformat.v4.new_notebook(cells=[*cells, nbformat.v4.new_code_cell(show)])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, folder / "cleaning_test.ipynb")
    return "cleaning_test.ipynb"


def decisions_on_disk(csv_path: Path) -> dict[str, tuple[str, str]]:
    """The CSV file as the kernel wrote it: {file: (decision, label)}; {} before the first decision."""
    if not csv_path.exists():
        return {}
    import pandas as pd

    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return {row.file: (row.decision, row.label) for row in table.itertuples()}


def wait_for(condition, timeout: float = 60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("the condition did not become true within the timeout")


def test_relabel_click_writes_the_csv_and_undo_takes_it_back(jupyterlab, chromium):
    csv_path = jupyterlab["work"] / "decisions" / "flowers.csv"
    name = write_cleaning_notebook(jupyterlab["work"], csv_path)
    with notebook_page(jupyterlab, chromium, name) as page:
        info = page.locator(".widget-html-content").filter(has_text="1 / 3")
        info.wait_for()
        assert "roses/1.jpg" in info.inner_text() and "not decided yet" in info.inner_text()
        assert not csv_path.exists()

        page.locator(".widget-dropdown select").select_option("tulips")
        page.locator("button.widget-button", has_text="relabel").click()
        wait_for(lambda: "roses/1.jpg" in decisions_on_disk(csv_path))
        assert decisions_on_disk(csv_path) == {"roses/1.jpg": ("relabel", "tulips")}
        page.locator(".widget-html-content").filter(has_text="saved: roses/1.jpg").wait_for()
        page.locator(".widget-html-content").filter(has_text="2 / 3").wait_for()  # moved on to the next image
        page.screenshot(path=str(ARTIFACTS / "browser_cleaning_tool.png"), full_page=True)

        page.locator("button.widget-button", has_text="undo").click()
        wait_for(lambda: "roses/1.jpg" not in decisions_on_disk(csv_path))
        page.locator(".widget-html-content").filter(has_text="undone: roses/1.jpg").wait_for()


# ---------------------------------------------------------------- chapter 09: the upload app
CH09_NOTEBOOK = ROOT / "solutions" / "09_your_own_classifier.ipynb"
MARK = "KERNEL-TOP:"


def china_jpg() -> Path:
    import sklearn.datasets

    path = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"
    if not path.is_file():
        pytest.skip(f"scikit-learn's sample photo is missing at {path}")
    return path


def big_photo(folder: Path, megabytes: float = 5.0) -> Path:
    """A JPEG of more than `megabytes` MB (noise barely compresses), the size of a phone photo."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    path = folder / "IMG_5MB.JPG"
    side = 1400
    while not path.exists() or path.stat().st_size <= megabytes * 1e6:
        side += 200
        Image.fromarray(rng.integers(0, 255, (side * 3 // 4, side, 3), dtype=np.uint8)).save(path, quality=95)
    return path


def write_ch09_notebook(folder: Path, photo: Path) -> str:
    nb = nbformat.read(CH09_NOTEBOOK, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(f'print("{MARK}", predict_photo(r"{photo}")[1][0]["class"])'),
    )
    nbformat.write(nb, folder / CH09_NOTEBOOK.name)
    return CH09_NOTEBOOK.name


def test_upload_app_shows_the_kernels_prediction(jupyterlab, chromium):
    photo = china_jpg()
    name = write_ch09_notebook(jupyterlab["work"], photo)
    # the whole chapter runs first (smoke mode)
    with notebook_page(jupyterlab, chromium, name, timeout_ms=600_000) as page:
        printed = page.locator(".jp-OutputArea-output").filter(has_text=MARK)
        printed.wait_for()
        kernel_top = re.search(rf"{MARK}\s*(\S+)", printed.inner_text()).group(1)

        upload = page.locator(".widget-upload")
        upload.wait_for()
        # The control's <input type=file> is hidden (and, in ipywidgets 8, not inside the button):
        # a click opens the file chooser, which playwright fills in as a user picking the file would.
        with page.expect_file_chooser() as chooser:
            upload.click()
        chooser.value.set_files(str(photo))
        shown = page.locator(".widget-html-content .prediction").filter(has_text="china.jpg")
        shown.wait_for()
        rendered = shown.locator(".top-class").all_inner_texts()
        page.screenshot(path=str(ARTIFACTS / "browser_ch09_upload.png"), full_page=False)
        assert len(rendered) == 3, rendered  # the top 3 as bars
        assert rendered[0].strip() == kernel_top, (rendered, kernel_top)

        big = big_photo(jupyterlab["work"])
        with page.expect_file_chooser() as chooser:
            upload.click()
        chooser.value.set_files(str(big))
        shown = page.locator(".widget-html-content .prediction").filter(has_text=big.name)
        shown.wait_for(timeout=120_000)
        assert len(shown.locator(".top-class").all_inner_texts()) == 3  # read whole and predicted, not dropped
        page.screenshot(path=str(ARTIFACTS / "browser_ch09_upload_5mb.png"), full_page=False)
