"""benchmarks/run_chapters.py lists where a kept run's minutes went, from the cells' own timestamps."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
spec = importlib.util.spec_from_file_location("run_chapters", ROOT / "benchmarks" / "run_chapters.py")
run_chapters = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_chapters)


def code(source: str, start: str | None = None, end: str | None = None) -> dict:
    metadata = {"execution": {"iopub.execute_input": start, "shell.execute_reply": end}} if start else {}
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": [], "execution_count": 1}


def write(folder: Path, name: str, cells: list[dict]) -> Path:
    path = folder / name
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_slow_cells_and_their_share(tmp_path):
    write(tmp_path, "03_building_cnns.ipynb", [
        {"cell_type": "markdown", "metadata": {}, "source": "# title"},
        code("keras.utils.set_random_seed(42)\nhistory = model.fit(\n    train_ds)", "2026-11-30T10:00:00.000Z", "2026-11-30T10:02:00.000Z"),
        code("print(1)", "2026-11-30T10:02:00.000Z", "2026-11-30T10:02:10.000Z"),
        code("# only a comment\n", "2026-11-30T10:02:10.000Z", "2026-11-30T10:02:30.000Z"),
        code("never_run()"),
    ])  # fmt: skip
    write(
        tmp_path,
        "05_transfer_learning.ipynb",
        [code(["x = 1\n", "y = 2"], "2026-11-30T11:00:00Z", "2026-11-30T11:00:40Z")],
    )
    rows = run_chapters.slow_cells(tmp_path / "03_building_cnns.ipynb", 15)
    assert [(r["cell"], r["seconds"], r["label"]) for r in rows] == [
        (1, 120.0, "history = model.fit("), (3, 20.0, "(comments only)")]  # fmt: skip
    table = run_chapters.cells_table(tmp_path, 30)
    assert "| 03 | 1 | 120 | `history = model.fit(` |" in table and "| 05 | 0 | 40 | `x = 1` |" in table
    assert "print(1)" not in table and "comments only" not in table
    assert "2 cells of at least 30 s: 2.7 min (84% of all 3.2 min of cell time)." in table


def test_cells_table_without_kept_notebooks(tmp_path):
    with pytest.raises(SystemExit, match="No executed chapter notebooks"):
        run_chapters.cells_table(tmp_path)


def test_a_broken_notebook_is_named(tmp_path):
    (tmp_path / "03_building_cnns.ipynb").write_text("{not json")
    with pytest.raises(SystemExit, match="03_building_cnns.ipynb is not a notebook file"):
        run_chapters.cells_table(tmp_path)


def test_tune_chapter03_keeps_each_cpus_ratios_apart_and_compares_bf16_with_float32(monkeypatch):
    """`tune_chapter03.py time ... --cpu NAME --record`: another CPU's ratios go beside, not over, the first's."""
    import argparse

    import report

    spec = importlib.util.spec_from_file_location("tune_chapter03", ROOT / "benchmarks" / "tune_chapter03.py")
    tune = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tune)
    recorded = {}
    monkeypatch.setattr(report, "record", lambda values, **_: recorded.update(values))
    rows = [("base", 1.0, 4.0), ("bf16", 1.0, 3.0), ("w16n48e192light", 1.0, 2.0), ("w16n48e192light_bf16", 1.0, 2.5)]

    tune.record_costs(rows, argparse.Namespace(images=2048, cpu="xeon"))
    assert recorded["ch03.ideas_xeon.bf16.cpu_cost_vs_base"] == 0.75
    assert recorded["ch03.ideas_xeon.w16n48e192light.cpu_cost_vs_tutorial"] == 2.0
    assert recorded["ch03.ideas_xeon.w16n48e192light_bf16.cpu_cost_vs_float32"] == 1.25
    assert not any(key.startswith("ch03.ideas.") for key in recorded)
    assert not any(key.endswith("cpu_cost_vs_float32") and "_bf16." not in key for key in recorded)

    recorded.clear()
    tune.record_costs(rows[2:], argparse.Namespace(images=2048, cpu=None))
    assert set(recorded) == {
        "ch03.ideas.w16n48e192light.cpu_cost_vs_tutorial",
        "ch03.ideas.w16n48e192light_bf16.cpu_cost_vs_tutorial",
        "ch03.ideas.w16n48e192light_bf16.cpu_cost_vs_float32",
    }


@pytest.mark.parametrize("name", ["", "Xeon", "my cpu", "../x", "xeon.2", "2xeon"])
def test_a_cpu_name_that_would_spoil_the_keys_is_refused_with_what_to_type(name):
    import argparse

    import report

    with pytest.raises(argparse.ArgumentTypeError, match="lowercase letters and digits, such as xeon"):
        report.cpu_name(name)
    assert report.cpu_name("xeon2") == "xeon2"


def test_record_figures_records_each_chapters_figures_under_its_keys(tmp_path, monkeypatch):
    """A run's RESULTS/NN.jsonl become results.json figures: 01's digits, 02's CNN, 08's tables, 09's accuracy, 10's timings."""
    import report

    def rows(chapter, **values):
        lines = [
            json.dumps({"chapter": chapter, "name": k, "value": v, "mode": "offline", "seconds": 1})
            for k, v in values.items()
        ]
        (tmp_path / "results" / f"{chapter[:2]}.jsonl").write_text("\n".join(lines) + "\n")

    (tmp_path / "results").mkdir()
    rows("01_datasets", digits_binary_accuracy=1.0, digits_multiclass_accuracy=0.9733, mnist_dense_test_accuracy=0.99)
    rows("02_convolution_from_scratch", cifar_cnn_val_accuracy=0.6029, conv2d_numpy_over_tf=1.6)
    rows("08_look_inside", temperature=1.0379, cifar_test_accuracy=0.8027)
    rows("09_your_own_classifier", test_accuracy=0.76)
    rows("10_training_at_scale", first_block_time_share=0.345, parallel_map_speedup=5.8, same_weights=True)
    figures = {
        f"chapters.{n}.minutes": {"value": 1.0, "unit": "min", "script": "s", "how": "h", "date": "d", "load": "l"}
        for n in ("01", "02", "08", "09", "10")
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(figures))
    monkeypatch.setattr(report, "RESULTS", path)
    monkeypatch.setitem(report.record.__kwdefaults__, "path", path)
    assert run_chapters.record_figures(tmp_path / "results", None, "idle") == 0
    recorded = {key: entry["value"] for key, entry in json.loads(path.read_text()).items()}
    assert recorded["ch01.digits.binary_accuracy"] == 100.0 and recorded["ch01.digits.multiclass_accuracy"] == 97.3
    assert "ch01.digits.multilabel_accuracy" not in recorded  # not in this run: nothing invented
    assert recorded["ch02.cifar_cnn_val_accuracy"] == 60.3
    assert recorded["ch08.temperature"] == 1.04 and recorded["ch08.cifar_test_accuracy"] == 80.3
    assert recorded["ch09.notebook.test_accuracy"] == 76.0
    assert recorded["ch10.first_block.time_share"] == 34.5 and recorded["ch10.parallel_map_speedup"] == 5.8
    assert "ch10.xla_speedup" not in recorded  # not recorded by that run
    assert not any(
        "mnist" in key for key in recorded
    )  # MNIST is not in the mirror: a stand-in figure is never recorded


def test_bench_transfer_speed_only_records_no_notebook_times():
    """`bench_transfer.py --speed-only --record` times the backbones; it must not write 0 s notebook times."""
    import bench_transfer

    speed = {"MobileNet": 1.0, "EfficientNetB0": 6.0, "ResNet50": 17.0}
    values, _, _ = bench_transfer.figures({}, 0.0, speed)
    assert not any(key.endswith(("seconds", "notebook_minutes")) for key in values)
    assert values["ch05.speed.EfficientNetB0_vs_mobilenet"] == 6
    run = {"cached_feature_seconds": 6.3, "cached_head_seconds": 7.6, "scratch_seconds": 83.0}
    values, _, _ = bench_transfer.figures(run, 216.0, None)
    assert values["ch05.cached.seconds"] == 14 and values["ch05.notebook_minutes"] == 3.6
