"""helpers.multiworker: two real worker processes under MultiWorkerMirroredStrategy, and clean failures."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import multiworker


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_workers_train_one_model_on_different_shards(tmp_path):
    run = multiworker.launch(2, epochs=1, examples=128, batch_size=32, timeout=600, out=tmp_path)
    assert run.ok, str(run)
    first, second = (w.report for w in run.workers)
    for report in (first, second):
        assert report["strategy"] == "MultiWorkerMirroredStrategy" and report["replicas_in_sync"] == 2
        assert report["workers"] == 2 and report["examples"] == 64
    seen = [np.load(tmp_path / f"worker-{i}-indices.npy") for i in (0, 1)]
    assert not set(seen[0]) & set(seen[1]), "both workers read the same images"
    assert sorted(np.concatenate(seen)) == list(range(128))
    # The gradients were all-reduced: both ended with the same weights, bit for bit.
    weights = [np.load(tmp_path / f"worker-{i}-weights.npz") for i in (0, 1)]
    assert len(weights[0].files) > 4
    for name in weights[0].files:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])
    assert run.weights_identical() and "identical on every worker" in str(run)
    # ...and training changed them (the digests are of trained, not initial, weights).
    assert np.isfinite(first["loss"]) and first["loss"] == second["loss"]


def test_a_failing_worker_stops_the_other_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv(multiworker.FAIL_ENV, "1")
    started = time.perf_counter()
    run = multiworker.launch(2, examples=64, batch_size=32, timeout=300, out=tmp_path)
    assert time.perf_counter() - started < 120, "the launcher waited for the stuck worker"
    assert not run.ok
    failed = run.workers[1]
    assert not failed.ok and "RuntimeError: worker 1 was told to fail" in failed.error
    assert not run.workers[0].ok and "stopped by the launcher" in run.workers[0].error
    assert run.summary().startswith("FAILED: worker 1: RuntimeError: worker 1 was told to fail")
    assert "stopped worker(s) 0" in run.summary()
    assert not any(alive(w.pid) for w in run.workers), "a worker outlived the launcher"


def test_timeout_stops_every_worker(tmp_path):
    run = multiworker.launch(2, examples=64, batch_size=32, timeout=1, out=tmp_path)
    assert not run.ok and "timed out after 1 s" in run.error
    assert not any(alive(w.pid) for w in run.workers), "a worker outlived the launcher"
    assert "stopped by the launcher" in run.workers[0].error


def fake_run(digests, replicas=2):
    workers = [
        multiworker.WorkerResult(
            index=i,
            ok=True,
            returncode=0,
            log=Path(f"worker-{i}.log"),
            report=dict(
                replicas_in_sync=replicas,
                weights_sha256=digest,
                steps_per_epoch=4,
                global_batch=32,
                train_cpu_seconds=2.0,
                train_seconds=1.5,
            ),
        )
        for i, digest in enumerate(digests)
    ]
    return multiworker.Run(workers=workers, seconds=3.0, out=Path("runs"))


def test_compare_reports_the_cost_of_workers_in_sync():
    text = multiworker.compare(fake_run(["aa", "aa"]), fake_run(["bb"], replicas=1))
    assert "4 steps of 32 images" in text and "(2.0x the computation)" in text


@pytest.mark.parametrize(
    "digests, replicas, reason",
    [(["aa", "ab"], 2, "DIFFERENT between workers"), (["aa", "aa"], 1, "replicas in sync: [1]")],
)
def test_compare_refuses_workers_that_did_not_train_one_model(digests, replicas, reason):
    with pytest.raises(RuntimeError, match="did not train as one model") as error:
        multiworker.compare(fake_run(digests, replicas), fake_run(["bb"], replicas=1))
    assert reason in str(error.value)


def test_tf_config_names_the_cluster_and_the_task():
    import json

    config = json.loads(multiworker.tf_config(["127.0.0.1:1", "127.0.0.1:2"], 1))
    assert config == {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 1}}


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="workers"):
        multiworker.launch(0)
