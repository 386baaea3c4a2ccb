"""Build the course website: the executed chapters as a static site (Jupyter Book 1.x, offline).

    python tools/site.py --from KEPT_DIR --out DIR --full   # a full-mode run of solutions/ -> DIR/index.html
    python tools/site.py --run 00 04 --out DIR             # runs those chapters in smoke mode first (tests)

``--from`` is a folder of executed solution notebooks (``NN_*.ipynb``), e.g. the ``--keep``
folder of ``benchmarks/run_chapters.py``. The build takes the cell metadata (alt text) of
the current ``solutions/`` by cell id, so alt text added after the run still reaches the
site. Every chapter page gets a "run it" row (Colab, Kaggle, the learner copy to download),
its answer cells folded, its widgets replaced by a sentence (a static page cannot run
them), and the CC BY 2.0 credit when it shows flower photos. The home page holds what the
course is, the chapter table (from the README's), how to start and the instructor kit.

The build fails (exit status 1, one line per problem) when a page would show an error
output, an image without alt text or, with ``--full``, a stand-in banner or a smoke-mode
run; ``--allow-standin NAME`` accepts the stand-in for dataset NAME when the run's mirror
lacks it (the banner then stays on the page, saying so). Nothing is fetched: no remote
theme, fonts, MathJax, intersphinx or launch buttons.
"""

from __future__ import annotations

import argparse
import base64
import copy
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import __course__  # noqa: E402
from tools.setup_cell import RELEASE, colab_prefix  # noqa: E402
from tools.testing import without_test_markers  # noqa: E402

SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
TITLE = "Image Classification with TensorFlow"
FLOWER_CREDIT = (
    "The flower photos on this page come from the "
    "[TensorFlow flowers dataset](https://www.tensorflow.org/datasets/catalog/tf_flowers) (tf_flowers): "
    "Flickr photos under the [Creative Commons Attribution 2.0 licence (CC BY 2.0)]"
    "(https://creativecommons.org/licenses/by/2.0/), each credited to its author in the `LICENSE.txt` "
    "file of the `flower_photos` download."
)
KNOWN_STANDINS: dict[str, str] = {}
"""Stand-ins a full-mode page may show, with the reason (none today: every chapter's data is mirrored)."""
WIDGET_NOTE = "(A live widget appears here when you run the notebook: a control, or a progress bar.)"
BANNER = re.compile(r"^NOTE - (.+)$", re.MULTILINE)
SOLUTION = "### BEGIN SOLUTION"
REMOTE_STYLESHEET = re.compile(r"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>", re.IGNORECASE)


TEXT_COLOUR = re.compile(r"((?<![-\w])color:\s*)(#[0-9a-fA-F]{6})\b")


def contrast(colour: str, background: str = "#ffffff") -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21; 4.5 is the minimum for text)."""

    def luminance(value: str) -> float:
        channels = [int(value[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted([luminance(colour), luminance(background)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour: str) -> str:
    """``colour`` darkened just enough for text on the page's white and light-grey backgrounds (4.5:1).

    Output text colours chosen for a notebook (a check's green title, Keras's summary table)
    can be too light for small text; the site keeps their hue and darkens them.
    """
    factor = 1.0
    while True:
        shade = "#" + "".join(f"{int(int(colour[i : i + 2], 16) * factor):02x}" for i in (1, 3, 5))
        if min(contrast(shade), contrast(shade, "#f5f5f5")) >= 4.6 or factor <= 0:
            return shade
        factor -= 0.02


STYLE = re.compile(r'style="([^"]*)"')


def readable_style(match: re.Match) -> str:
    """A ``style="..."`` attribute with its text colour made readable (left alone when it sets a background)."""
    style = match.group(1)
    if "background" not in style:
        style = TEXT_COLOUR.sub(lambda m: m.group(1) + readable(m.group(2)), style)
    return f'style="{style}"'


class BuildError(Exception):
    """The site would show something a reader must not see (listed, one per line)."""


# ------------------------------------------------------------------ running chapters
def execute(chapters: list[str], dest: Path, env: dict[str, str] | None = None, timeout: int = 900) -> list[Path]:
    """Run ``solutions/NN_*.ipynb`` for each chapter NN, in order, in fresh kernels, into ``dest``.

    ``env`` is added to the kernels' environment (default: smoke + offline mode, a private
    models folder, no progress file), as ``benchmarks/run_chapters.py`` does for full mode.
    """
    from nbclient import NotebookClient

    dest.mkdir(parents=True, exist_ok=True)
    if env is None:
        env = {
            "COURSE_SMOKE": "1",
            "COURSE_OFFLINE": "1",
            "COURSE_PROGRESS": "0",
            "COURSE_MODELS_DIR": str(dest / "models"),
        }
    env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", **env}  # figures as outputs (the suite sets agg)
    written = []
    with mock.patch.dict(os.environ, env):  # the environment is restored afterwards, whatever happens
        for chapter in chapters:
            (source,) = sorted(SOLUTIONS.glob(f"{chapter}_*.ipynb")) or [None]
            if source is None:
                raise SystemExit(f"No chapter {chapter} in {SOLUTIONS}: give a two-digit number such as 04.")
            nb = nbformat.read(source, as_version=4)
            NotebookClient(
                nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(SOLUTIONS)}}
            ).execute()
            nbformat.write(nb, dest / source.name)
            written.append(dest / source.name)
    return written


# ------------------------------------------------------------------ checking a run
def image_alt(cell) -> str:
    """The alt text a cell's figures get on the site (cell metadata ``mystnb.image.alt``)."""
    return str(cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")).strip()


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def problems(nb, name: str, full: bool, allowed: set[str] = frozenset()) -> list[str]:
    """What page ``name`` must not show: errors, images without alt text, and (full mode) stand-ins."""
    found = []
    allowed = set(allowed) | set(KNOWN_STANDINS)
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        where = f"{name} cell {index} ({cell.get('id', '?')})"
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            data = output.get("data", {})
            if kind == "error":
                found.append(f"{where}: error output {output.get('ename')}: {output.get('evalue', '')[:120]}")
            elif kind == "stream" and output.get("name") == "stderr" and "Traceback" in _text(output.get("text")):
                found.append(f"{where}: a traceback on stderr")
            images = sum(1 for mime in data if mime.startswith("image/"))
            images += len(re.findall(r"<img\b(?![^>]*\balt=)", _text(data.get("text/html"))))
            if images and not image_alt(cell):
                found.append(f"{where}: {images} image(s) without alt text (set mystnb.image.alt: tools/alt_text.py)")
            if full:
                for title in BANNER.findall(_text(data.get("text/plain"))):
                    if not any(f"stand-in for {key}:" in title for key in allowed):
                        found.append(f"{where}: stand-in banner '{title}' in a full-mode build")
    if full and nb.cells:
        setup_output = "".join(_text(o.get("text")) for c in nb.cells[:4] for o in c.get("outputs", []))
        if "mode: smoke" in setup_output or "smoke" in setup_output.split("mode:")[-1].split("\n")[0]:
            found.append(f"{name}: this run is in smoke mode; --full needs a full-mode run")
    return found


# ------------------------------------------------------------------ preparing a page
INLINE_MATH = re.compile(r"(?<![\\$\w])\$([^$\n]+?)\$(?![\w$])")


def math_html(tex: str) -> str | None:
    """Simple inline TeX (letters, operators, ``\\log``, ``\\text{}``, subscripts) as HTML; None when not simple.

    The site loads no MathJax (it would come from a CDN), and the chapters' formulas are short.
    """
    text = re.sub(r"\\text\{([^{}]*)\}", r"\1", tex)
    text = re.sub(r"\\(log|exp|max|min|sum)\b\s*", r"\1 ", text)
    text = re.sub(r"(log|exp|max|min|sum) \(", r"\1(", text)
    if "\\" in text or "^" in text:
        return None
    text = html.escape(text)
    text = re.sub(r"_\{([^{}]*)\}", r"<sub>\1</sub>", text)
    text = re.sub(r"_(\w)", r"<sub>\1</sub>", text)
    if "{" in text or "}" in text:
        return None
    text = re.sub(r"(?<![\w<])([a-zA-Z])(?![\w>])", r"<i>\1</i>", text).replace("-", "−")
    return f'<span class="math-inline">{text}</span>'


def plain_math(markdown: str) -> str:
    return INLINE_MATH.sub(lambda m: math_html(m.group(1)) or m.group(0), markdown)


def _links(chapter_file: str) -> dict[str, str]:
    owner_repo = __course__.removeprefix("https://github.com/").strip("/")
    return {
        "colab": colab_prefix() + chapter_file,
        "kaggle": f"https://kaggle.com/kernels/welcome?src={__course__}/blob/{RELEASE}/notebooks/{chapter_file}",
        "github": f"{__course__}/blob/{RELEASE}/notebooks/{chapter_file}",
        "repo": owner_repo,
    }


def shows_flowers(nb) -> bool:
    """True when the page shows tf_flowers photos: it loads them and draws images, and no stand-in replaced them."""
    loads = any(cell.cell_type == "code" and "flower" in cell.source for cell in nb.cells)
    draws = any(
        mime.startswith("image/") or "<img" in _text(out.get("data", {}).get("text/html"))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        for mime in out.get("data", {})
    )
    standin = any(
        "stand-in for tf_flowers" in _text(out.get("data", {}).get("text/plain"))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    return loads and draws and not standin


def prepare(nb, source_nb, chapter_file: str, images_dir: Path) -> nbformat.NotebookNode:
    """The page of one chapter: alt text from ``source_nb`` (by cell id), run-it row, folds, credit."""
    nb = copy.deepcopy(nb)
    metadata_by_id = {cell.get("id"): cell.get("metadata", {}) for cell in source_nb.cells}
    stem = Path(chapter_file).stem
    for cell in nb.cells:
        fresh = metadata_by_id.get(cell.get("id"))
        if fresh is not None and "mystnb" in fresh:
            cell.metadata["mystnb"] = copy.deepcopy(fresh["mystnb"])
        if cell.cell_type == "markdown":
            for name, bundle in (cell.get("attachments") or {}).items():
                mime, payload = next(iter(bundle.items()))
                target = images_dir / f"{stem}-{name}"
                target.write_bytes(base64.b64decode(payload))
                cell.source = cell.source.replace(f"attachment:{name}", f"images/{target.name}")
            cell.pop("attachments", None)
            cell.source = plain_math(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        cell.source = without_test_markers(cell.source)  # "# NBVAL_..." lines are for the tests, not readers
        tags = cell.metadata.setdefault("tags", [])
        if (SOLUTION in cell.source or "course.setup(" in cell.source) and "hide-input" not in tags:
            tags.append("hide-input")  # answers (and the install cell) folded: one click shows them
        alt = image_alt(cell)
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                outputs.append(nbformat.v4.new_output("stream", name="stdout", text=WIDGET_NOTE + "\n"))
                continue
            if "text/html" in data:
                page = REMOTE_STYLESHEET.sub("", _text(data["text/html"]))  # the theme brings its own icons
                page = STYLE.sub(readable_style, page)
                if alt:
                    page = re.sub(r"<img\b(?![^>]*\balt=)", f'<img alt="{html.escape(alt)}"', page)
                data["text/html"] = page
            outputs.append(output)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    links = _links(chapter_file)
    run_it = (
        f"**Run it:** [open in Colab]({links['colab']}) · [open in Kaggle]({links['kaggle']}) · "
        f"{{download}}`download the notebook <../downloads/{chapter_file}>` "
        f"(the learner copy, to open in JupyterLab) · [on GitHub]({links['github']})"
    )
    title_cell = nb.cells[0]  # "# NN · Title", the Colab badge, objectives...: the badge becomes the row
    title, _, rest = title_cell.source.partition("\n")
    rest = re.sub(r"^\s*\[!\[Open in Colab\]\([^)]*\)\]\([^)]*\)\s*\n", "", rest, count=1)
    title_cell.source = f"{title}\n\n{run_it}\n\n{rest.lstrip()}"
    if shows_flowers(nb):
        nb.cells.append(
            nbformat.v4.new_markdown_cell(f"---\n\n**Photo credit.** {FLOWER_CREDIT}", id=f"site-credit-{stem[:2]}")
        )
    return nb


# ------------------------------------------------------------------ the home page
def chapter_rows(readme: str) -> list[dict[str, str]]:
    """The README's chapter table: number, file, title, what you learn, time."""
    block = readme.split("<!-- chapter-table -->", 1)[1].split("<!-- /chapter-table -->", 1)[0]
    rows = []
    for line in block.splitlines():
        match = re.match(r"\| (\d\d) \| \[([^\]]+)\]\(notebooks/([^)]+)\)( \(optional\))? \| (.*?) \| (.*?) \|", line)
        if match:
            number, title, file, optional, learn, time = match.groups()
            rows.append(
                {
                    "number": number,
                    "title": title + (optional or ""),
                    "file": file,
                    "learn": re.sub(r"<!--.*?-->", "", learn),
                    "time": re.sub(r"<!--.*?-->", "", time).replace(" ", "\u00a0"),
                }
            )
    return rows


def home_page(readme: str, built: set[str]) -> str:
    intro = readme.split("## Chapters", 1)[0].split("\n", 1)[1].strip()
    intro = re.sub(r"\]\(#", f"]({__course__}#", intro)  # the README's own sections stay on GitHub
    rows = "\n".join(
        f"| {r['number']} | "
        + (f"[{r['title']}](chapters/{Path(r['file']).stem}.ipynb)" if Path(r["file"]).stem in built else r["title"])
        + f" | {r['learn']} | {r['time']} |"
        for r in chapter_rows(readme)
    )
    links = _links("00_start_here.ipynb")
    return f"""# {TITLE}

{intro}

This site shows every chapter as it runs: the prose, the code, and the outputs and figures of
one full run on the real data, on a 2-core laptop without a GPU. To run the chapters
yourself, use the links below or the "Run it" row at the top of each chapter.

## Chapters

| # | Chapter | What you learn | Time |
|---|---|---|---:|
{rows}

Each chapter opens with its objectives and ends with key takeaways, exercises and review
questions. On this site the answers to the exercises are folded: click "Show code cell
source" above an exercise's output to see the reference answer, after you have tried.

## How to start

- **On your computer** (Python 3.10 to 3.13), in the course folder
  ([download it from GitHub]({__course__}/archive/refs/tags/{RELEASE}.zip) or `git clone {__course__}`):

  ```bash
  python3 run.py lab     # installs what the notebooks need into .venv, then opens the course in JupyterLab
  python3 run.py test    # installs that plus the test tools, then runs the whole test suite
  ```

  Step by step for Windows, macOS, Linux and conda: [setting up](setup.md).
- **On Colab:** [open chapter 00 in Colab]({links["colab"]}); every chapter page has its own link.
  The first cell installs the course's small `helpers` package and nothing else.
- **On Kaggle:** [open chapter 00 in Kaggle]({links["kaggle"]}) and switch "Internet" on in the
  notebook's settings.

## For instructors

The [instructor kit](instructors.md) has how to prepare a room (an offline mirror for bad
Wi-Fi, a smoke run on every machine), how long each chapter takes, three schedules, where
learners get stuck, and a [feedback form](feedback.md).

## Licence

Prose and figures: CC BY 4.0; code: Apache-2.0 ([the course on GitHub]({__course__}), release
{RELEASE}). The tf_flowers photos are Flickr photos under CC BY 2.0, credited on each page
that shows them.
"""


CONFIG = """\
title: "{title}"
author: "the course's contributors"
copyright: ""
only_build_toc_files: true
execute:
  execute_notebooks: "off"
parse:
  myst_enable_extensions: [colon_fence, deflist, linkify, substitution, tasklist]
html:
  use_repository_button: false
  use_issues_button: false
  use_edit_page_button: false
  use_multitoc_numbering: false
  extra_footer: ""
  home_page_in_navbar: true
launch_buttons:
  notebook_interface: "jupyterlab"
  binderhub_url: ""
  jupyterhub_url: ""
  thebe: false
  colab_url: ""
sphinx:
  config:
    html_show_copyright: false
    myst_heading_anchors: 3
    html_show_sphinx: false
    intersphinx_mapping: {{}}
    html_theme_options:
      use_download_button: false
      use_fullscreen_button: false
      search_bar_text: "Search the course..."
    nb_output_stderr: "show"
    nb_merge_streams: true
    suppress_warnings: ["mystnb.unknown_mime_type"]
"""


def write_book(kept: Path, book: Path, full: bool, allowed: set[str], chapters: list[str] | None) -> list[str]:
    """Write the Jupyter Book source into ``book``; returns the problems found (empty: fine)."""
    found: list[str] = []
    (book / "chapters" / "images").mkdir(parents=True)
    (book / "downloads").mkdir()
    executed = sorted(kept.glob("[0-9][0-9]_*.ipynb"))
    if chapters:
        executed = [path for path in executed if path.name[:2] in chapters]
    if not executed:
        raise SystemExit(f"No executed chapters (NN_*.ipynb) in {kept}: give the folder a run kept them in.")
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        source_path = SOLUTIONS / path.name
        if not source_path.exists():
            raise SystemExit(f"{path.name} is not a chapter of solutions/: was the run made from another version?")
        page = prepare(nb, nbformat.read(source_path, as_version=4), path.name, book / "chapters" / "images")
        found += problems(page, path.name, full, allowed)
        nbformat.write(page, book / "chapters" / path.name)
        shutil.copy(NOTEBOOKS / path.name, book / "downloads" / path.name)
    built = {path.stem for path in executed}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (book / "index.md").write_text(home_page(readme, built), encoding="utf-8")
    (book / "setup.md").write_text((ROOT / "docs" / "setup.md").read_text(encoding="utf-8"), encoding="utf-8")
    (book / "instructors.md").write_text(
        (ROOT / "instructors" / "README.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (book / "feedback.md").write_text(
        (ROOT / "instructors" / "feedback.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (book / "_config.yml").write_text(CONFIG.format(title=TITLE), encoding="utf-8")
    toc = ["format: jb-book", "root: index", "parts:", "  - caption: Chapters", "    chapters:"]
    toc += [f"      - file: chapters/{path.stem}" for path in executed]
    toc += ["  - caption: Setting up and teaching", "    chapters:", "      - file: setup", "      - file: instructors"]
    toc += ["      - file: feedback"]
    (book / "_toc.yml").write_text("\n".join(toc) + "\n", encoding="utf-8")
    return found


def build(
    kept: Path, out: Path, full: bool = False, allowed: set[str] = frozenset(), chapters: list[str] | None = None
) -> Path:
    """Build the site from the executed notebooks in ``kept`` into ``out`` (``out/index.html``)."""
    if out.exists() and any(out.iterdir()) and not (out / "index.html").exists():
        raise BuildError(f"--out {out} is a folder with other files in it: give a new folder (it is replaced).")
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        book = Path(tmp) / "book"
        found = write_book(kept, book, full, set(allowed), chapters)
        if found:
            raise BuildError("\n".join(found))
        env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", NO_COLOR="1")
        cli = "import sys; from jupyter_book.cli.main import main; sys.exit(main())"
        command = [sys.executable, "-c", cli, "build", str(book), "--path-output", tmp, "--keep-going"]
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise BuildError(f"jupyter-book failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        warnings = [line for line in (result.stdout + result.stderr).splitlines() if "WARNING" in line]
        if warnings:
            raise BuildError("Sphinx warnings (each is a broken page or link):\n" + "\n".join(warnings[:40]))
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(Path(tmp) / "_build" / "html", out)
    remote = remote_assets(out)
    if remote:
        raise BuildError("pages load files from the network:\n" + "\n".join(remote[:20]))
    return out


def remote_assets(site: Path) -> list[str]:
    """Scripts, stylesheets, fonts and images the pages would fetch from another host."""
    found = []
    pattern = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"((?:https?:)?//[^\"]+)\"", re.IGNORECASE)
    for page in site.rglob("*.html"):
        for match in pattern.finditer(page.read_text(encoding="utf-8")):
            tag = match.group(0).lower()
            if tag.startswith("<link") and "stylesheet" not in tag and "preload" not in tag:
                continue
            found.append(f"{page.relative_to(site)}: {match.group(1)}")
    for css in site.rglob("*.css"):
        for url in re.findall(r"url\((['\"]?)(https?://[^)'\"]+)", css.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{css.relative_to(site)}: {url[1]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="kept", type=Path, help="folder of executed solution notebooks (NN_*.ipynb)")
    source.add_argument("--run", nargs="+", metavar="NN", help="run these chapters in smoke mode first (a quick look)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the site into (replaced)")
    parser.add_argument("--full", action="store_true", help="a full-mode run: fail on stand-in banners and smoke mode")
    parser.add_argument("--chapters", nargs="+", metavar="NN", help="only these chapters of --from")
    parser.add_argument(
        "--allow-standin",
        action="append",
        default=[],
        metavar="NAME",
        help="accept the stand-in for dataset NAME (its banner stays on the page)",
    )
    args = parser.parse_args(argv)
    if args.kept is not None and not args.kept.is_dir():
        parser.error(f"--from {args.kept}: not a folder. Give the folder a run kept its executed notebooks in.")
    try:
        if args.run:
            with tempfile.TemporaryDirectory(prefix="course-site-run-") as tmp:
                execute(args.run, Path(tmp))
                site = build(Path(tmp), args.out, args.full, set(args.allow_standin))
        else:
            site = build(args.kept, args.out, args.full, set(args.allow_standin), args.chapters)
    except BuildError as error:
        print(f"The site was not built:\n{error}", file=sys.stderr)
        return 1
    pages = len(list(site.rglob("*.html")))
    print(f"Built {pages} pages into {site}; open {site / 'index.html'} or serve the folder with any static host.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
