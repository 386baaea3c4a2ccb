"""The table of measured figures (``benchmarks/results.json``) and the texts that quote them.

Every measured figure lives once, in ``results.json``::

    "ch03.classifier.test_accuracy": {"value": 80.4, "unit": "%", "format": ".1f",
        "script": "benchmarks/bench_chapter03.py", "how": "...", "date": "2026-11-22", "load": "idle"}

The README and the chapters (markdown cells of ``solutions/``) quote figures in their text,
each followed by an invisible marker that names its key, e.g.
``about 80%<!--fig:ch03.classifier.test_accuracy|.0f-->``: after the key, ``|n`` asks for the
bare number and ``|.0f`` (any format spec) overrides the figure's own format. The keys
``time.NN`` and ``time.NN.optional`` are computed, not recorded: chapter NN's time by the rule
the README states (``chapter_time``).

    python benchmarks/report.py --check     # exit 1 when a quoted figure or a stated time is not current
    python benchmarks/report.py --requote   # put the current figures in front of every marker
    python benchmarks/report.py --times     # each chapter's counted time and its parts
    python benchmarks/report.py --list      # every figure with how, when and under what load

Benchmark scripts update their own entries through ``record(...)`` (their ``--record`` option);
then ``--requote``. ``tests/test_results.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
README = ROOT / "README.md"
REQUIRED = ("value", "unit", "script", "how", "date", "load")
TIGHT_UNITS = {"%", "×", "k", "M"}  # written without a space: 80.4%, 4×, 123k
MARKER = re.compile(r"<!--fig:([A-Za-z0-9_.\-]+)((?:\|[^|>]+)*)-->")
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE, MINUTES_PER_EXERCISE = 180, 15, 5


def load(path: Path = RESULTS) -> dict[str, dict]:
    """The figures of ``results.json``, each checked to carry value, unit, script, how, date and load."""
    figures = json.loads(Path(path).read_text(encoding="utf-8"))
    for key, entry in figures.items():
        missing = [field for field in REQUIRED if field not in entry]
        if missing:
            raise ValueError(f"{path}: the figure {key!r} has no {missing}; every figure needs {list(REQUIRED)}.")
    return figures


def save(figures: Mapping[str, dict], path: Path = RESULTS) -> None:
    text = json.dumps(dict(sorted(figures.items())), indent=1, ensure_ascii=False) + "\n"
    tmp = Path(path).with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def cpu_name(text: str) -> str:
    """An argparse type for ``--cpu NAME``: the short name that keeps one CPU's figures apart in results.json."""
    if not re.fullmatch(r"[a-z][a-z0-9]*", text):
        raise argparse.ArgumentTypeError(
            f"--cpu needs a short name of lowercase letters and digits, such as xeon or epyc (got {text!r}): "
            "it becomes part of the figures' keys, e.g. ch03.multiworker_xeon.cpu_ratio."
        )
    return text


def machine_load_note() -> str:
    """The machine's load, for the ``load`` field: 1-minute load average over the number of CPUs."""
    if not hasattr(os, "getloadavg"):
        return "load unknown"
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def record(
    values: Mapping[str, float],
    *,
    script: str,
    how: str,
    machine_load: str | None = None,
    units: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
    path: Path = RESULTS,
) -> None:
    """Update (or add) figures in ``results.json``; new keys need a unit, existing ones keep theirs.

    ``machine_load`` describes the machine during the measurement (default: its load average now).
    """
    machine_load = machine_load or machine_load_note()
    figures = load(path)
    today = _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    for key, value in values.items():
        entry = dict(figures.get(key, {}))
        if units and key in units:
            entry["unit"] = units[key]
        if formats and key in formats:
            entry["format"] = formats[key]
        if "unit" not in entry:
            raise ValueError(f"{key!r} is a new figure: pass its unit in units={{...}}.")
        entry.update(value=value, script=script, how=how, date=today, load=machine_load)
        figures[key] = entry
    save(figures, path)
    print(f"Recorded {len(values)} figures in {path}; run `python benchmarks/report.py --requote` to update the texts.")


def show(entry: Mapping, bare: bool = False) -> str:
    """A figure as the README writes it: its number (``format``, default general) and unit."""
    value = entry["value"]
    number = format(value, entry.get("format", "")) if isinstance(value, (int, float)) else str(value)
    unit = entry["unit"]
    if bare or not unit:
        return number
    return f"{number}{unit}" if unit in TIGHT_UNITS else f"{number} {unit}"


def optional_cells(cells: list[dict]) -> list[bool]:
    """For each cell, whether it lies in an optional section: from a heading that says "(optional)"
    up to the next heading of the same or a higher level."""
    flags, level = [], None
    for cell in cells:
        source = "".join(cell["source"]).lstrip()
        heading = re.match(r"(#{1,6})\s", source) if cell["cell_type"] == "markdown" else None
        if heading:
            depth = len(heading.group(1))
            if level is not None and depth <= level:
                level = None
            if level is None and "(optional)" in source.splitlines()[0].lower():
                level = depth
        flags.append(level is not None)
    return flags


def chapter_time(notebook: Path, compute_minutes: float) -> dict[str, float]:
    """Minutes for a chapter: reading, code, exercises and compute, by the README's rule.

    Markdown words / 180 per minute + code lines / 15 per minute + 5 minutes per exercise
    (each ``chNN.qK``) + the full-mode compute; the total is rounded up to 5 minutes. Sections
    whose heading says "(optional)" are counted apart, as ``optional`` (also rounded up to 5),
    and their compute is assumed to be part of ``compute_minutes``' share of the chapter's core.
    """
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    flags = optional_cells(cells)

    def count(selected: list[dict]) -> dict[str, float]:
        text = {
            k: "\n".join("".join(c["source"]) for c in selected if c["cell_type"] == k) for k in ("markdown", "code")
        }
        code_lines = sum(1 for line in text["code"].splitlines() if line.strip() and not line.strip().startswith("#"))
        return {
            "reading": len(MARKER.sub("", text["markdown"]).split()) / WORDS_PER_MINUTE,
            "code": code_lines / CODE_LINES_PER_MINUTE,
            "exercises": len(set(re.findall(r"\bch\d\d\.(q\d+)\.check\(", text["code"]))) * MINUTES_PER_EXERCISE,
        }

    parts = count([c for c, optional in zip(cells, flags) if not optional])
    parts["compute"] = compute_minutes
    parts["total"] = 5 * -(-sum(parts.values()) // 5)
    parts["optional"] = 5 * -(-sum(count([c for c, optional in zip(cells, flags) if optional]).values()) // 5)
    return parts


def chapter_times(figures: Mapping[str, dict], notebooks: Path = NOTEBOOKS) -> dict[str, dict[str, float]]:
    """``chapter_time`` of every learner copy, with its compute from ``chapters.NN.minutes`` (0 if not recorded)."""
    times = {}
    for notebook in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        chapter = notebook.name[:2]
        compute = figures.get(f"chapters.{chapter}.minutes", {}).get("value", 0.0)
        times[chapter] = chapter_time(notebook, compute)
    return times


def with_times(figures: Mapping[str, dict], notebooks: Path = NOTEBOOKS) -> dict[str, dict]:
    """The figures plus the computed ``time.NN`` keys."""
    out = dict(figures)
    for chapter, parts in chapter_times(figures, notebooks).items():
        split = (".exercises", parts["exercises"]), (".teaching", parts["total"] - parts["exercises"])
        for name, value in (("", parts["total"]), (".optional", parts["optional"]), *split):
            out[f"time.{chapter}{name}"] = {"value": int(value), "unit": "min", "script": "benchmarks/report.py",
                                            "how": "chapter_time", "date": "computed", "load": "not a timing"}  # fmt: skip
    return out


def quoted(text: str, figures: Mapping[str, dict], where: str) -> list[str]:
    """Problems with the ``<!--fig:KEY-->`` markers of a text: unknown keys, or a figure not as quoted."""
    problems = []
    for match in MARKER.finditer(text):
        marked = _marked(match, figures)
        if marked is None:
            problems.append(f"{where}: <!--fig:{match.group(1)}--> names no figure in results.json")
            continue
        key, entry, bare = marked
        expected = show(entry, bare=bare)
        before = text[: match.start()].rstrip("*_` ")
        if not before.endswith(expected):
            found = before[-len(expected) - 12 :].replace("\n", " ")
            problems.append(f"{where}: {key} is {expected} in results.json, but the text says ...{found!r}")
    return problems


NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?"


def _marked(match: re.Match, figures: Mapping[str, dict]) -> tuple[str, dict, bool] | None:
    """The key of a marker, its entry with the marker's format applied, and whether it asks for the bare number."""
    key, options = match.group(1), [o for o in match.group(2).split("|") if o]
    if key not in figures:
        return None
    entry = dict(figures[key])
    if any(o != "n" for o in options):
        entry["format"] = next(o for o in options if o != "n")
    return key, entry, "n" in options


def requoted(text: str, figures: Mapping[str, dict]) -> str:
    """The text with the figure in front of every known marker replaced by the one results.json gives."""
    for match in reversed(list(MARKER.finditer(text))):
        marked = _marked(match, figures)
        if marked is None:
            continue
        _, entry, bare = marked
        end = len(text[: match.start()].rstrip("*_` "))
        unit = "" if bare or not entry["unit"] else entry["unit"]
        unit_pattern = "" if not unit else (re.escape(unit) if unit in TIGHT_UNITS else r"\s" + re.escape(unit))
        old = re.search(f"({NUMBER}){unit_pattern}$", text[:end])
        if old:
            text = text[: old.start()] + show(entry, bare=bare) + text[end:]
    return text


def texts(root: Path = ROOT) -> list[Path]:
    """The markdown files that quote figures: the README, the setup page and the instructor kit."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "instructors").glob("*.md"))]


def requote_everywhere(figures: Mapping[str, dict], root: Path = ROOT) -> list[Path]:
    """Apply ``requoted`` to the README and the markdown cells of ``solutions/``; the files it changed."""
    import nbformat

    figures = with_times(figures, root / "notebooks")
    changed = []
    for page in texts(root):
        text = page.read_text(encoding="utf-8")
        if (new := requoted(text, figures)) != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    for path in sorted((root / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        touched = False
        for cell in nb.cells:
            if cell.cell_type == "markdown" and (new := requoted(cell.source, figures)) != cell.source:
                cell.source, touched = new, True
        if touched:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def quoted_everywhere(figures: Mapping[str, dict], root: Path = ROOT) -> list[str]:
    """Marker problems in the README and in the markdown cells of every chapter in ``solutions/``."""
    figures = with_times(figures, root / "notebooks")
    problems = []
    for page in texts(root):
        problems += quoted(page.read_text(encoding="utf-8"), figures, page.relative_to(root).as_posix())
    for notebook in sorted((root / "solutions").glob("*.ipynb")):
        for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "markdown":
                where = f"solutions/{notebook.name} cell {index + 1}"
                problems += quoted("".join(cell["source"]), figures, where)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 1 when a quoted figure or stated time is stale")
    action.add_argument("--list", action="store_true", help="print every figure with its provenance")
    action.add_argument(
        "--requote", action="store_true", help="put each marked figure's current value in the README and the chapters"
    )
    action.add_argument("--times", action="store_true", help="print each chapter's time by the README's rule")
    args = parser.parse_args(argv)
    figures = load()
    if args.requote:
        changed = requote_everywhere(figures)
        print("\n".join(f"requoted {path.relative_to(ROOT)}" for path in changed) or "Every marked figure is current.")
        if any(path.parent.name == "solutions" for path in changed):
            print("Now run `python tools/notebooks.py --write` to regenerate the learner copies.")
        return 0
    if args.times:
        print("| chapter | reading | code | exercises | compute | total (min) | optional sections |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for chapter, p in chapter_times(figures).items():
            print(f"| {chapter} | {p['reading']:.0f} | {p['code']:.0f} | {p['exercises']:.0f} | {p['compute']:.1f} "
                  f"| {p['total']:.0f} | {p['optional']:.0f} |")  # fmt: skip
        return 0
    if args.list:
        for key, entry in figures.items():
            print(f"{key:55} {show(entry):>14}  {entry['date']}  {entry['load']}  ({entry['script']}: {entry['how']})")
        return 0
    problems = quoted_everywhere(figures)
    if problems:
        print("\n".join(problems))
        print("Quote the figure as results.json gives it (or record the new one with its benchmark script).")
        return 1
    print("README.md and the chapters agree with results.json.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
