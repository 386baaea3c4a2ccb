"""The CNN Architecture Explorer in a real browser: JupyterLab + headless Debian Chromium.

Starts JupyterLab on 127.0.0.1 (a free port, a random token, every Jupyter folder in a
temp dir), opens a small notebook that shows ``explorer()``, runs it, moves the "conv
blocks" slider with the keyboard and checks that the totals shown are the ones
``architecture_report`` computes and that the block diagram redraws with one block per layer. A screenshot is kept in ``test-artifacts/``.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and PyPI ``playwright``
(driven with ``executable_path``; ``playwright install`` is never needed).
"""

from __future__ import annotations

import contextlib
import json
import os
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

from helpers.explorer import architecture_report

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


def write_notebook(folder: Path) -> str:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("from helpers.explorer import explorer\n\nexplorer()")],
    )
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, folder / "explorer_test.ipynb")
    return "explorer_test.ipynb"


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1, stopped (with its kernels) by SIGTERM afterwards."""
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


def totals(report) -> str:
    """The part of the totals line the page must show, e.g. 'Total parameters: 111,050'."""
    return report.totals_line().split(" (")[0]


@contextlib.contextmanager
def notebook_page(jupyterlab, name: str, timeout_ms: int = 120_000):
    """A headless Chromium page with notebook ``name`` open in JupyterLab, all its cells started."""
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(timeout_ms)
            page.goto(f"{jupyterlab['base']}/lab/tree/{name}?token={jupyterlab['token']}")
            page.wait_for_selector("#jp-main-statusbar >> text=Idle")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            yield page
        finally:
            browser.close()


def diagram_shapes(page) -> list[str]:
    """The shapes the block diagram on the page shows, one per block, left to right."""
    return page.eval_on_selector_all(".explorer-diagram rect.block", "blocks => blocks.map(b => b.dataset.shape)")


def expected_shapes(report) -> list[str]:
    return ["×".join(str(v) for v in layer.shape) for layer in report.layers]


def test_explorer_renders_and_responds_in_jupyterlab(jupyterlab):
    name = write_notebook(jupyterlab["work"])
    with notebook_page(jupyterlab, name) as page:
        report = page.locator(".widget-html-content").filter(has_text="Total parameters")
        report.wait_for()
        assert totals(architecture_report()) in report.inner_text()  # the defaults: 3 blocks
        three_blocks = diagram_shapes(page)
        assert three_blocks == expected_shapes(architecture_report())

        slider = page.locator(".widget-slider").filter(has_text="conv blocks")
        # ipywidgets 8 draws sliders with noUiSlider; older versions used jQuery UI.
        slider.locator(".noUi-handle, .ui-slider-handle").first.click()
        page.keyboard.press("ArrowRight")  # 3 -> 4 blocks
        four_blocks = totals(architecture_report(blocks=4))
        shown = page.locator(".widget-html-content").filter(has_text=four_blocks)
        shown.wait_for()
        assert "layers.Conv2D(256, 3" in shown.inner_text()  # the generated code follows the controls
        four_blocks_diagram = diagram_shapes(page)  # the diagram follows too: one more conv and pool
        assert four_blocks_diagram == expected_shapes(architecture_report(blocks=4))
        assert len(four_blocks_diagram) == len(three_blocks) + 2 and "4×4×256" in four_blocks_diagram
        page.screenshot(path=str(ARTIFACTS / "browser_explorer.png"), full_page=True)

        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")  # 6 blocks: 32 -> 16 -> 8 -> 4 -> 2 -> 1 -> 0 is impossible
        expected_error = architecture_report(blocks=6).error
        assert expected_error and "0x0" in expected_error
        message = page.locator(".widget-html-content").filter(has_text="Cannot build this model")
        message.wait_for()
        assert expected_error.split(":")[0] in message.inner_text()
        assert diagram_shapes(page) == []  # no diagram of a model that cannot be built
        page.screenshot(path=str(ARTIFACTS / "browser_explorer_impossible.png"), full_page=True)
