"""Chapter 10's launcher, `run_workers` as the notebook writes it, on a stand-in worker script:
every worker gets the cluster and its own index, a failing worker stops the others and its log
says why, and a timeout stops every worker. (The notebook itself runs the real two-worker
TensorFlow cluster in the suite.)"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tools import testing

ROOT = Path(__file__).resolve().parent.parent
chapter = testing.notebook_functions(ROOT / "solutions" / "10_training_at_scale.ipynb", "run_workers")

FAKE_WORKER = """
import argparse, json, os, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--out")
parser.add_argument("--mode")
args = parser.parse_args()
config = json.loads(os.environ.get("TF_CONFIG") or "{}")
index = config.get("task", {}).get("index", 0)
with open(os.path.join(args.out, f"pid-{index}"), "w") as file:
    file.write(str(os.getpid()))
if args.mode == "fail" and index == 1:
    sys.exit("worker 1 cannot reach worker 0")
if args.mode in ("fail", "hang"):
    time.sleep(600)
with open(os.path.join(args.out, f"report-{index}.json"), "w") as file:
    json.dump({"worker": index, "cluster": config.get("cluster", {}).get("worker")}, file)
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "fake_worker.py"
    path.write_text(FAKE_WORKER)
    return path


def alive(out: Path, index: int) -> bool:
    try:
        os.kill(int((out / f"pid-{index}").read_text()), 0)
    except ProcessLookupError:
        return False
    return True


def test_every_worker_gets_the_cluster_and_its_own_index(script, tmp_path):
    reports = chapter.run_workers(script, tmp_path / "out", ["--mode", "ok"], workers=2, timeout=60)
    assert [report["worker"] for report in reports] == [0, 1]
    cluster = reports[0]["cluster"]
    assert cluster == reports[1]["cluster"] and len(set(cluster)) == 2
    assert all(address.startswith("127.0.0.1:") for address in cluster)


def test_a_single_process_gets_no_tf_config(script, tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}')
    assert chapter.run_workers(script, tmp_path / "out", ["--mode", "ok"], workers=1) == [
        {"worker": 0, "cluster": None}
    ]


def test_a_failing_worker_stops_the_other_and_its_log_says_why(script, tmp_path):
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"(?s)worker 1 failed \(1\).*cannot reach worker 0"):
        chapter.run_workers(script, tmp_path / "out", ["--mode", "fail"], workers=2, timeout=120)
    assert time.monotonic() - started < 60, "run_workers waited for the worker that waits for the failed one"
    assert not alive(tmp_path / "out", 0), "a worker outlived run_workers"


def test_a_timeout_stops_every_worker(script, tmp_path):
    with pytest.raises(RuntimeError, match=r"worker 0 was stopped \(timeout, or another worker failed\)"):
        chapter.run_workers(script, tmp_path / "out", ["--mode", "hang"], workers=2, timeout=3)
    assert not alive(tmp_path / "out", 0) and not alive(tmp_path / "out", 1)
