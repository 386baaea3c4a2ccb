"""Chapter 08's cleaning tool in a real browser: JupyterLab + headless Debian Chromium.

Opens a small notebook that shows ``CleaningTool`` over three generated images, picks a
new label in the drop-down, clicks "relabel" and checks that the CSV file on disk gets the
row; then clicks "undo" and checks the row is gone. Reuses the JupyterLab fixture of
``test_browser.py`` (and is skipped the same way when Chromium or playwright is missing).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from test_browser import ARTIFACTS, jupyterlab, notebook_page  # noqa: F401 - the shared fixture

from helpers import cleaning

CLASSES = ["daisy", "roses", "tulips"]


def write_notebook(folder: Path, csv_path: Path) -> str:
    source = f"""import numpy as np
from helpers import cleaning

log = cleaning.DecisionLog({str(csv_path)!r}, {CLASSES!r})
tool = cleaning.CleaningTool(
    log,
    ["roses/1.jpg", "daisy/2.jpg", "tulips/3.jpg"],
    ["roses", "daisy", "tulips"],
    lambda i: np.full((64, 64, 3), 60 * i + 40, dtype="uint8"),
)
tool.widget"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, folder / "cleaning_test.ipynb")
    return "cleaning_test.ipynb"


def wait_for(condition, timeout: float = 60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("the condition did not become true within the timeout")


def test_relabel_click_writes_the_csv_and_undo_takes_it_back(jupyterlab):  # noqa: F811 - the imported fixture
    csv_path = jupyterlab["work"] / "decisions" / "flowers.csv"
    name = write_notebook(jupyterlab["work"], csv_path)
    with notebook_page(jupyterlab, name) as page:
        info = page.locator(".widget-html-content").filter(has_text="1 / 3")
        info.wait_for()
        assert "roses/1.jpg" in info.inner_text() and "not decided yet" in info.inner_text()
        assert not csv_path.exists()

        page.locator(".widget-dropdown select").select_option("tulips")
        page.locator("button.widget-button", has_text="relabel").click()
        wait_for(lambda: csv_path.exists() and "roses/1.jpg" in cleaning.read_decisions(csv_path))
        assert cleaning.read_decisions(csv_path, CLASSES)["roses/1.jpg"] == cleaning.Decision(
            "roses/1.jpg", "relabel", "tulips"
        )
        page.locator(".widget-html-content").filter(has_text="saved: roses/1.jpg").wait_for()
        page.locator(".widget-html-content").filter(has_text="2 / 3").wait_for()  # moved on to the next image
        page.screenshot(path=str(ARTIFACTS / "browser_cleaning_tool.png"), full_page=True)

        page.locator("button.widget-button", has_text="undo").click()
        wait_for(lambda: "roses/1.jpg" not in cleaning.read_decisions(csv_path))
        page.locator(".widget-html-content").filter(has_text="undone: roses/1.jpg").wait_for()
