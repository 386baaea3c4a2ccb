"""The figures the README and the chapters quote agree with benchmarks/results.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "report.py")
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def test_every_figure_says_how_when_and_under_what_load():
    figures = report.load()
    assert figures, "results.json holds no figures"
    for key, entry in figures.items():
        assert (ROOT / entry["script"]).is_file(), f"{key}: {entry['script']} does not exist"
        assert entry["how"].strip() and entry["load"].strip(), key


def test_readme_and_chapters_quote_current_figures():
    assert report.quoted_everywhere(report.load()) == [], "run `python benchmarks/report.py --requote`"
    assert report.main(["--check"]) == 0


def test_a_changed_figure_is_caught(tmp_path, monkeypatch):
    figures = report.load()
    key = "ch03.classifier.test_accuracy"
    assert f"<!--fig:{key}" in report.README.read_text(encoding="utf-8")
    figures[key] = {**figures[key], "value": figures[key]["value"] - 3}
    assert any(key in problem for problem in report.quoted_everywhere(figures))
    path = tmp_path / "results.json"
    path.write_text(json.dumps(figures), encoding="utf-8")
    monkeypatch.setattr(report, "load", lambda p=path: json.loads(p.read_text(encoding="utf-8")))
    assert report.main(["--check"]) == 1


def test_record_updates_an_entry_and_refuses_a_new_one_without_unit(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(report.load()), encoding="utf-8")
    report.record(
        {"conv.numpy.median": 7.5}, script="benchmarks/bench_conv.py", how="test", machine_load="idle", path=path
    )
    entry = report.load(path)["conv.numpy.median"]
    assert entry["value"] == 7.5 and entry["unit"] == "ms" and entry["how"] == "test"
    with pytest.raises(ValueError, match="unit"):
        report.record({"brand.new": 1.0}, script="x", how="y", machine_load="z", path=path)


def test_unknown_placeholder_and_missing_fields_are_clear_errors(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"a": {"value": 1, "unit": "ms"}}), encoding="utf-8")
    with pytest.raises(ValueError, match="script"):
        report.load(path)
    assert report.show({"value": 80.43, "unit": "%", "format": ".1f"}) == "80.4%"
    assert report.show({"value": 2.1, "unit": "min"}) == "2.1 min"
    assert report.show({"value": 2.1, "unit": "min"}, bare=True) == "2.1"


def _bench_chapter03():
    spec = importlib.util.spec_from_file_location(
        "bench_chapter03_under_test", ROOT / "benchmarks" / "bench_chapter03.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("with_cpu", [True, False])
def test_chapter03_records_the_time_ratio_in_wall_and_processor_time(monkeypatch, with_cpu):
    """The ratio the chapter 03 goal is about: classifier training time over the tutorial CNN's, same run."""
    import types

    recorded = {}
    fake = types.SimpleNamespace(record=lambda values, **kwargs: recorded.update(values=values, **kwargs))
    monkeypatch.setitem(__import__("sys").modules, "report", fake)
    results = {
        "first_cnn_test_accuracy": 0.673,
        "first_cnn_train_seconds": 250.0,
        "test_accuracy": 0.804,
        "train_seconds": 600.0,
    }
    if with_cpu:
        results |= {"first_cnn_train_cpu_seconds": 400.0, "train_cpu_seconds": 900.0, "callbacks_val_accuracy": 0.5123}
    _bench_chapter03().record(results, notebook_seconds=1200, load_start="idle")
    values = recorded["values"]
    assert values["ch03.classifier.time_ratio"] == 2.4
    assert values["ch03.classifier.test_accuracy"] == 80.4
    assert recorded["formats"]["ch03.classifier.time_ratio"] == ".2f"
    if with_cpu:
        assert values["ch03.classifier.cpu_time_ratio"] == 2.25
        assert values["ch03.callbacks.val_accuracy"] == 51.2 and "ch03.gradient_tape.val_accuracy" not in values
    else:
        assert "ch03.classifier.cpu_time_ratio" not in values


def test_a_quoted_figure_must_match_its_marker():
    figures = {"a.acc": {"value": 80.04, "unit": "%", "format": ".1f"}, "a.min": {"value": 3.2, "unit": "min"}}
    good = "about **80.0%**<!--fig:a.acc--> (80%<!--fig:a.acc|.0f-->), in 3.2<!--fig:a.min|n--> minutes"
    assert report.quoted(good, figures, "x") == []
    wrong = report.quoted("about 81.0%<!--fig:a.acc--> in 3.2 min<!--fig:a.min-->", figures, "chapter 03")
    assert len(wrong) == 1 and "a.acc is 80.0% in results.json" in wrong[0] and "81.0%" in wrong[0]
    assert "names no figure" in report.quoted("5%<!--fig:no.such-->", figures, "x")[0]


def test_chapter_time_follows_the_rule_and_counts_optional_sections_apart(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Chapter\n" + "word " * 358),  # 360 words: 2 min
        nbformat.v4.new_code_cell("\n".join(f"x{i} = {i}" for i in range(30)) + "\n# a comment\nch01.q1.check(x1)"),
        nbformat.v4.new_markdown_cell("## More (optional)\n" + "word " * 900),
        nbformat.v4.new_code_cell("ch01.q2.check(x2)"),
        nbformat.v4.new_markdown_cell("## Key points\nshort"),
    ]
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(nb, path)
    parts = report.chapter_time(path, compute_minutes=4.0)
    # 2 + 31/15 (2.07) + 5 + 4 = 13.07 -> 15; the optional section: 903 words (5.0) + 1/15 + 5 = 10.07 -> 15
    assert parts["exercises"] == 5 and round(parts["code"], 2) == 2.07 and parts["total"] == 15
    assert parts["optional"] == 15
    assert report.optional_cells(json.loads(path.read_text())["cells"]) == [False, False, True, True, False]


def test_requote_puts_the_current_figure_before_each_marker():
    figures = {"a.acc": {"value": 80.04, "unit": "%", "format": ".1f"}, "a.min": {"value": 3.2, "unit": "min"}}
    stale = (
        "about **79.1%**<!--fig:a.acc--> (79%<!--fig:a.acc|.0f-->), in 12<!--fig:a.min|n--> or 4.5 min<!--fig:a.min-->"
    )
    fixed = report.requoted(stale, figures)
    assert (
        fixed
        == "about **80.0%**<!--fig:a.acc--> (80%<!--fig:a.acc|.0f-->), in 3.2<!--fig:a.min|n--> or 3.2 min<!--fig:a.min-->"
    )
    assert report.quoted(fixed, figures, "x") == [] and report.quoted(stale, figures, "x")
    assert (
        report.requoted("no number<!--fig:a.acc--> or <!--fig:gone-->", figures)
        == "no number<!--fig:a.acc--> or <!--fig:gone-->"
    )
