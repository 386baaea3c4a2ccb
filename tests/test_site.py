"""The course website (``tools/site.py``) built from a smoke run of two chapters, checked in Chromium.

Chapters 00 and 06 (06 draws many figures and folds its answers) run in smoke mode
with the same ``tools.site.execute`` the build command uses; the site is built from them
and served on 127.0.0.1. Headless Debian Chromium (``executable_path``; ``playwright
install`` is never needed) then opens every page reachable from the home page and checks
that it loads, that every internal link resolves (file and ``#anchor``), that every image
loads and has alt text, that no page shows an error output, and runs axe-core (bundled in
PyPI's ``axe-playwright-python``) for images without alt text and for colour contrast.
The build's own refusals (errors, missing alt text, stand-ins and smoke runs in a
full-mode build) are tested without a browser.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import nbformat
import pytest

from tools import site

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHAPTERS = ["00", "06"]  # the two quickest chapters in smoke mode; 06 draws many figures
AXE_RULES = ["image-alt", "role-img-alt", "svg-img-alt", "input-image-alt", "color-contrast"]


# ------------------------------------------------------------------ the build's refusals (no browser)
def kept_run(folder: Path, edit) -> Path:
    """A fake kept run: chapter 00 from solutions/ with its setup output and ``edit`` applied."""
    folder.mkdir()
    nb = nbformat.read(ROOT / "solutions" / "00_start_here.ipynb", as_version=4)
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    setup.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Python 3.11 | CPU | mode: offline\n")]
    edit(nb)
    nbformat.write(nb, folder / "00_start_here.ipynb")
    return folder


def last_code_cell(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"][-1]


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def banner_output(name: str):
    text = f"NOTE - Using a stand-in for {name}: drawn shapes, not real photos\n  Why: no mirror"
    return nbformat.v4.new_output("display_data", data={"text/plain": text, "text/html": "<div>banner</div>"})


@pytest.mark.parametrize(
    ("edit", "full", "expected"),
    [
        (
            lambda nb: last_code_cell(nb).outputs.append(
                nbformat.v4.new_output("error", ename="ValueError", evalue="bad shape", traceback=[])
            ),
            False,
            "error output ValueError: bad shape",
        ),
        (
            lambda nb: last_code_cell(nb).outputs.append(
                nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
            ),
            False,
            "1 image(s) without alt text",
        ),
        (
            lambda nb: last_code_cell(nb).outputs.append(
                nbformat.v4.new_output("display_data", data={"text/html": '<p><img src="data:x"></p>'})
            ),
            False,
            "1 image(s) without alt text",
        ),
        (lambda nb: last_code_cell(nb).outputs.append(banner_output("mnist")), True, "stand-in banner"),
        (
            lambda nb: next(c for c in nb.cells if c.cell_type == "code").outputs[0].update(text="mode: smoke\n"),
            True,
            "this run is in smoke mode",
        ),
    ],
    ids=["error", "png-without-alt", "html-img-without-alt", "standin-in-full", "smoke-run-in-full"],
)
def test_build_refuses_what_a_reader_must_not_see(tmp_path, capsys, edit, full, expected):
    kept = kept_run(tmp_path / "kept", edit)
    argv = ["--from", str(kept), "--out", str(tmp_path / "site")] + (["--full"] if full else [])
    assert site.main(argv) == 1
    err = capsys.readouterr().err
    assert "The site was not built" in err and expected in err and "00_start_here.ipynb" in err
    assert not (tmp_path / "site").exists()


def test_allowed_standin_and_smoke_banner_pass_the_checks(tmp_path):
    nb = nbformat.read(
        kept_run(tmp_path / "kept", lambda nb: last_code_cell(nb).outputs.append(banner_output("mnist")))
        / "00_start_here.ipynb",
        as_version=4,
    )
    assert site.problems(nb, "00", full=True, allowed={"mnist"}) == []
    assert site.problems(nb, "00", full=False) == []  # smoke builds (the test below) show stand-ins
    assert site.problems(nb, "00", full=True, allowed={"cifar100"}) != []
    fashion = nbformat.read(
        kept_run(tmp_path / "kept2", lambda nb: last_code_cell(nb).outputs.append(banner_output("fashion_mnist")))
        / "00_start_here.ipynb",
        as_version=4,
    )
    assert site.problems(fashion, "00", full=True, allowed={"mnist"}) != []  # one name, one dataset


def test_the_figure_cells_of_every_chapter_have_alt_text_in_solutions():
    from tools import alt_text

    assert alt_text.apply(write=False) == []


# ------------------------------------------------------------------ the built site in Chromium
def browser_required() -> bool:
    flags = (os.environ.get("COURSE_REQUIRE_BROWSER", ""), os.environ.get("CI", ""))
    return any(flag.strip().lower() not in ("", "0", "false", "no") for flag in flags)


@pytest.fixture(scope="module")
def chromium():
    skip = os.environ.get("COURSE_SKIP_BROWSER", "").strip().lower() not in ("", "0", "false", "no")
    if skip and not browser_required():
        pytest.skip("site browser test skipped: COURSE_SKIP_BROWSER is set")
    if not CHROMIUM.exists():
        message = "/usr/bin/chromium is missing: `apt-get install -y chromium` (never `playwright install`)."
        if browser_required():
            pytest.fail(f"browser test required here (CI / COURSE_REQUIRE_BROWSER=1) but {message}", pytrace=False)
        pytest.skip(f"site browser test skipped: {message}")
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    """The site of a smoke run of CHAPTERS, served over HTTP on 127.0.0.1."""
    work = tmp_path_factory.mktemp("site")
    site.execute(CHAPTERS, work / "run")
    out = site.build(work / "run", work / "html")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", out
    finally:
        server.shutdown()


def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def test_every_page_loads_links_resolve_images_have_alt_and_pass_axe(chromium, served_site):
    base, out = served_site
    axe = axe_script()
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    remote = []
    page.route(  # nothing may come from another host: the site must work offline
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(base)
            else (remote.append(route.request.url), route.abort())
        ),
    )
    to_visit, seen, problems, anchors_wanted, visited = [base + "index.html"], set(), [], [], {}
    while to_visit:
        url = to_visit.pop()
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url, wait_until="load")
        name = url.removeprefix(base)
        if response is None or not response.ok:
            problems.append(f"{name}: does not load ({response and response.status})")
            continue
        found = page.evaluate(
            """() => ({
                ids: [...document.querySelectorAll('[id]')].map(e => e.id),
                links: [...document.querySelectorAll('a[href]')].map(a => a.href),
                images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0,
                                                        alt: (i.getAttribute('alt') || '').trim()})),
                errors: document.querySelectorAll('.output.error, .output.traceback, .cell_output .ansi-red-intense-fg').length,
                traceback: document.body.innerText.includes('Traceback (most recent call last)'),
            })"""
        )
        visited[name] = found
        for image in found["images"]:
            if not image["ok"]:
                problems.append(f"{name}: image does not load: {image['src'][-60:]}")
            if not image["alt"]:
                problems.append(f"{name}: image without alt text: {image['src'][-60:]}")
        if found["errors"] or found["traceback"]:
            problems.append(f"{name}: shows an error output")
        for link in found["links"]:
            target, fragment = urldefrag(link)
            if not target.startswith(base):
                continue
            path = out / urlparse(target).path.removeprefix(urlparse(base).path)
            if target.endswith("/"):
                path = path / "index.html"
            if not path.exists():
                problems.append(f"{name}: broken link {link.removeprefix(base)}")
            elif path.suffix == ".html":
                to_visit.append(target)
                if fragment:
                    anchors_wanted.append((name, target.removeprefix(base), fragment))
        page.evaluate(axe)
        result = page.evaluate("rules => axe.run(document, {runOnly: {type: 'rule', values: rules}})", AXE_RULES)
        for violation in result["violations"]:
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            problems.append(f"{name}: axe {violation['id']} ({len(violation['nodes'])}x): {targets}")
    for name, target, fragment in anchors_wanted:
        if target in visited and fragment not in visited[target]["ids"]:
            problems.append(f"{name}: link to {target}#{fragment}: no such anchor")
    context.close()
    assert remote == [], f"pages fetch from the network: {remote[:5]}"
    assert problems == [], "\n".join(problems)
    chapter_pages = sorted(name for name in visited if name.startswith("chapters/"))
    assert chapter_pages == ["chapters/00_start_here.html", "chapters/06_evaluation.html"]
    assert {"setup.html", "instructors.html", "feedback.html"} <= set(visited)
    assert sum(len(found["images"]) for found in visited.values()) >= 8  # chapter 06's figures are there


def test_chapter_page_has_run_it_row_and_folded_answers(chromium, served_site):
    base, out = served_site
    context = chromium.new_context()
    page = context.new_page()
    page.goto(base + "chapters/06_evaluation.html")
    row = page.locator("p", has_text="Run it:")
    hrefs = row.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    release = site.RELEASE
    assert any(h.startswith("https://colab.research.google.com/") and release in h for h in hrefs)
    assert any(h.startswith("https://kaggle.com/kernels/welcome?src=") and release in h for h in hrefs)
    download = next(h for h in hrefs if h.endswith("06_evaluation.ipynb") and not h.startswith("http"))
    learner = nbformat.reads(page.request.get(urljoin(page.url, download)).text(), as_version=4)
    assert all(not cell.get("outputs") for cell in learner.cells if cell.cell_type == "code")  # the learner copy
    assert any("..." in cell.source for cell in learner.cells if cell.cell_type == "code")  # answers cut
    answers = page.locator("details.above-input")  # answer cells folded, a click away
    assert answers.count() >= 3 and not answers.first.evaluate("d => d.open")
    assert "### BEGIN SOLUTION" not in page.locator("main").inner_text()
    answers.first.locator("summary").click()
    assert answers.first.evaluate("d => d.open")
    assert page.locator("p", has_text="Photo credit").count() == 0  # no flower photos in chapter 06
    context.close()


def test_photo_credit_only_where_real_flower_photos_show(tmp_path):
    source = nbformat.read(ROOT / "solutions" / "05_transfer_learning.ipynb", as_version=4)
    run = nbformat.read(ROOT / "solutions" / "05_transfer_learning.ipynb", as_version=4)
    figure = next(cell for cell in run.cells if site.image_alt(cell))  # the chapter loads the flowers
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    page = site.prepare(run, source, "05_transfer_learning.ipynb", tmp_path)
    assert "CC BY 2.0" in page.cells[-1].source and "creativecommons.org/licenses/by/2.0/" in page.cells[-1].source
    figure.outputs.insert(0, banner_output("tf_flowers"))  # drawn flowers: nothing to credit
    assert "CC BY 2.0" not in site.prepare(run, source, "05_transfer_learning.ipynb", tmp_path).cells[-1].source


def test_lint_finds_figure_cells_without_alt_text():
    from tools.alt_text import figure_cells, missing_alt

    cells = [
        nbformat.v4.new_code_cell("def show_photos(images):\n    plt.imshow(images[0])\n    plt.show()", id="def-only"),
        nbformat.v4.new_code_cell("show_photos(photos)", id="calls-it"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2])", id="direct"),
        nbformat.v4.new_code_cell("def card(p):\n    return f'<img src=\"{p}\">'", id="html-def"),
        nbformat.v4.new_code_cell("display(HTML(card(path)))", id="html-call"),
        nbformat.v4.new_code_cell("total = sum(values)\nprint(total)", id="no-figure"),
        nbformat.v4.new_code_cell("%%writefile worker.py\nimport sys", id="magic"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    assert figure_cells(nb) == ["calls-it", "direct", "html-call"]
    cells[2].metadata["mystnb"] = {"image": {"alt": "A line chart."}}
    problems = missing_alt(nb, "solutions/99_demo.ipynb")
    assert [p.split(":")[0] for p in problems] == [
        "solutions/99_demo.ipynb cell calls-it",
        "solutions/99_demo.ipynb cell html-call",
    ]
    assert all("tools/alt_text.py" in p for p in problems)


def test_out_must_be_a_new_folder_or_an_earlier_site(tmp_path, capsys):
    kept = kept_run(tmp_path / "kept", lambda nb: None)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    assert site.main(["--from", str(kept), "--out", str(tmp_path / "notes")]) == 1
    assert "give a new folder" in capsys.readouterr().err
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep me"
