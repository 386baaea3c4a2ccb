"""The table of measured figures (``benchmarks/results.json``) and the README sections made from it.

Every figure the README quotes in its measured sections lives once, in ``results.json``::

    "ch03.classifier.test_accuracy": {"value": 80.4, "unit": "%", "format": ".1f",
        "script": "benchmarks/bench_chapter03.py", "how": "...", "date": "2026-11-22", "load": "idle"}

The README holds sections between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->``;
each is rendered from the template ``benchmarks/tables/NAME.md``, where ``{{key}}`` stands
for a figure with its unit (``80.4%``, ``2.1 min``) and ``{{key|n}}`` for the bare number.

    python benchmarks/report.py --write    # re-render the README's sections from results.json
    python benchmarks/report.py --check    # exit 1 when the README disagrees with results.json
    python benchmarks/report.py --list     # every figure with how, when and under what load

Benchmark scripts update their own entries through ``record(...)`` (their ``--record`` option);
to add a table: add its figures to results.json, a template to ``benchmarks/tables/`` and the
two marker lines to the README, then ``--write``. ``tests/test_results.py`` runs ``--check``.
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
TABLES = ROOT / "benchmarks" / "tables"
README = ROOT / "README.md"
REQUIRED = ("value", "unit", "script", "how", "date", "load")
TIGHT_UNITS = {"%", "×", "k", "M"}  # written without a space: 80.4%, 4×, 123k
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*(?:\|\s*(n))?\s*\}\}")
SECTION = re.compile(r"(<!-- results:([a-z0-9_\-]+) -->\n)(.*?)(<!-- /results:\2 -->)", re.S)


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
    machine_load: str,
    units: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
    path: Path = RESULTS,
) -> None:
    """Update (or add) figures in ``results.json``; new keys need a unit, existing ones keep theirs."""
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
    print(f"Recorded {len(values)} figures in {path}; run `python benchmarks/report.py --write` to update the README.")


def show(entry: Mapping, bare: bool = False) -> str:
    """A figure as the README writes it: its number (``format``, default general) and unit."""
    value = entry["value"]
    number = format(value, entry.get("format", "")) if isinstance(value, (int, float)) else str(value)
    unit = entry["unit"]
    if bare or not unit:
        return number
    return f"{number}{unit}" if unit in TIGHT_UNITS else f"{number} {unit}"


def render(template: str, figures: Mapping[str, dict], name: str = "template") -> str:
    def replace(match: re.Match) -> str:
        key = match.group(1)
        if key not in figures:
            raise KeyError(f"{name}: {{{{{key}}}}} is not in results.json; record it first.")
        return show(figures[key], bare=bool(match.group(2)))

    return PLACEHOLDER.sub(replace, template)


def rendered_readme(readme: str, figures: Mapping[str, dict], tables: Path = TABLES) -> str:
    """The README with every ``results:NAME`` section rendered from ``tables/NAME.md``."""

    def replace(match: re.Match) -> str:
        template = tables / f"{match.group(2)}.md"
        if not template.is_file():
            raise FileNotFoundError(f"The README has a section results:{match.group(2)} but {template} does not exist.")
        body = render(template.read_text(encoding="utf-8"), figures, template.name)
        return match.group(1) + body.rstrip("\n") + "\n" + match.group(4)

    return SECTION.sub(replace, readme)


def sections(readme: str) -> dict[str, str]:
    return {match.group(2): match.group(3) for match in SECTION.finditer(readme)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="re-render the README's measured sections")
    action.add_argument("--check", action="store_true", help="exit 1 when the README disagrees with results.json")
    action.add_argument("--list", action="store_true", help="print every figure with its provenance")
    args = parser.parse_args(argv)
    figures = load()
    if args.list:
        for key, entry in figures.items():
            print(f"{key:55} {show(entry):>14}  {entry['date']}  {entry['load']}  ({entry['script']}: {entry['how']})")
        return 0
    readme = README.read_text(encoding="utf-8")
    new = rendered_readme(readme, figures)
    if args.write:
        if new != readme:
            README.write_text(new, encoding="utf-8")
            print(f"README.md: {len(sections(new))} measured sections re-rendered from results.json.")
        else:
            print("README.md already agrees with results.json.")
        return 0
    old_sections, new_sections = sections(readme), sections(new)
    stale = [name for name in new_sections if old_sections[name] != new_sections[name]]
    if stale:
        print(f"README.md disagrees with results.json in {stale}: run `python benchmarks/report.py --write`.")
        return 1
    print(f"README.md agrees with results.json ({len(new_sections)} sections).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
