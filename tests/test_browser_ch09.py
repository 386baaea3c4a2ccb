"""Chapter 09's upload app in a real browser: JupyterLab + headless Debian Chromium.

Runs the chapter 09 solutions notebook (smoke + offline, as the suite does) in JupyterLab,
plus one extra last cell that prints the kernel's own top class for scikit-learn's sample
photo ``china.jpg``. Then it uploads that same file through the app's FileUpload control
(a click on the control opens its hidden file input's chooser, which playwright fills in) and checks that the
top class the app renders is the kernel's prediction. Screenshots go to ``test-artifacts/``.

Reuses the JupyterLab fixture and Chromium settings of ``tests/test_browser.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from test_browser import ARTIFACTS, jupyterlab, notebook_page  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "09_your_own_classifier.ipynb"
MARK = "KERNEL-TOP:"


def china_jpg() -> Path:
    import sklearn.datasets

    path = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"
    if not path.is_file():
        pytest.skip(f"scikit-learn's sample photo is missing at {path}")
    return path


def write_notebook(folder: Path, photo: Path) -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(f'print("{MARK}", predict_photo(r"{photo}")[1][0]["class"])'),
    )
    nbformat.write(nb, folder / NOTEBOOK.name)
    return NOTEBOOK.name


def test_upload_app_shows_the_kernels_prediction(jupyterlab):  # noqa: F811 - the imported fixture
    photo = china_jpg()
    name = write_notebook(jupyterlab["work"], photo)
    with notebook_page(jupyterlab, name, timeout_ms=600_000) as page:  # the whole chapter runs first (smoke mode)
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
