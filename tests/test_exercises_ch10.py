"""Chapter 10 checks: right answers pass, typical wrong answers get their own teaching message."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.exercises import ch10


def _says(question, answer, fragment):
    verdict = question.verdict(answer)
    assert verdict.status == "incorrect", verdict
    assert fragment in verdict.message, verdict.message


# ------------------------------------------------------------------ q1: TF_CONFIG with a chief
def tf_config(hosts, this_host):
    position = hosts.index(this_host)
    task = {"type": "chief", "index": 0} if position == 0 else {"type": "worker", "index": position - 1}
    return {"cluster": {"chief": [hosts[0]], "worker": list(hosts[1:])}, "task": task}


def _config(chief, workers, task_type, index):
    return {"cluster": {"chief": chief, "worker": workers}, "task": {"type": task_type, "index": index}}


def test_q1_right_as_a_dict_and_as_json_text():
    assert ch10.q1.verdict(tf_config).ok
    assert ch10.q1.verdict(lambda hosts, this_host: json.dumps(tf_config(hosts, this_host))).ok
    assert ch10.q1.verdict(lambda hosts, this_host: tf_config(tuple(hosts), this_host)).ok


def _all_workers(hosts, this_host):  # the chapter's cluster, without a chief
    return {"cluster": {"worker": list(hosts)}, "task": {"type": "worker", "index": hosts.index(this_host)}}


def _not_renumbered(hosts, this_host):
    position = hosts.index(this_host)
    return _config(hosts[:1], hosts[1:], "chief" if position == 0 else "worker", position)


def _chief_is_a_worker(hosts, this_host):
    position = hosts.index(this_host)
    return _config(hosts[:1], list(hosts), "chief" if position == 0 else "worker", position)


def _changed(change):
    """The right answer with one thing changed by `change(config, hosts, this_host)`."""

    def answer(hosts, this_host):
        config = tf_config(hosts, this_host)
        change(config, hosts, this_host)
        return config

    return answer


def _chief_typed_as_worker(hosts, this_host):
    position = hosts.index(this_host)
    return _config(hosts[:1], hosts[1:], "worker", max(position - 1, 0))


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (_all_workers, 'the cluster has two keys, "chief"'),
        (_not_renumbered, "an index counts within its own list"),
        (_chief_is_a_worker, "the chief is not also a worker"),
        (_chief_typed_as_worker, "the task should be {'type': 'chief', 'index': 0}"),
        (lambda hosts, this_host: _config(hosts[0], hosts[1:], "worker", 1), "a list with one address"),
        (lambda hosts, this_host: _config(hosts[-1:], hosts[:-1], "worker", 1), "The chief is the first address"),
        (lambda hosts, this_host: _config(hosts[:1], [this_host], "worker", 0), "the same on every machine"),
        (lambda hosts, this_host: _config(hosts[:1], hosts[1:], "worker", 0), "the task should be"),
        (lambda hosts, this_host: _config(hosts[:1], hosts[1:], "worker", "1"), "a number, not text"),
        (lambda hosts, this_host: {"worker": list(hosts)}, 'return a dict with a "cluster" and a "task"'),
        (lambda hosts, this_host: "chief 0", "not JSON"),
        (_changed(lambda c, h, me: c["cluster"].update(workers=c["cluster"].pop("worker"))), 'singular, as TensorFlow spells it'),
        (_changed(lambda c, h, me: c["cluster"].update(ps=[])), 'the cluster has two keys'),
        (_changed(lambda c, h, me: c.pop("task")), 'needs a "task"'),
        (_changed(lambda c, h, me: c["task"].update(address=me)), 'two keys, "type" and "index"'),
        (_changed(lambda c, h, me: c["task"].update(index=h.index(me) - 1)), "the chief is chief 0"),
        (lambda hosts: tf_config(hosts, hosts[0]), "should take two arguments"),
    ],
)  # fmt: skip
def test_q1_wrong(wrong, fragment):
    _says(ch10.q1, wrong, fragment)


# ------------------------------------------------------------------ q2: a worker's shard
def test_q2_right_as_a_list_or_an_array():
    assert ch10.q2.verdict(lambda n, workers, index: list(range(index, n, workers))).ok
    assert ch10.q2.verdict(lambda n, workers, index: np.arange(n)[index::workers]).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda n, workers, index: list(range(index * (n // workers), (index + 1) * (n // workers))), "deals it out"),
        (lambda n, workers, index: list(range(index - 1, n, workers)), "That is worker 0's shard"),
        (
            lambda n, workers, index: list(range(0, n, index + 1)),
            "worker 1 reads [1, 4, 7]; your function gives [0, 2, 4, 6, 8]",
        ),
        (lambda n, workers, index: np.array_split(np.arange(n), workers)[index], "deals it out"),
        (lambda n, workers, index: list(range(index, n, 3)), "worker 3 reads [3, 7]"),
        (lambda n, workers, index: list(range(1, n, workers)), "not numbers of your own"),
        (lambda n, workers, index: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_q2_wrong(wrong, fragment):
    _says(ch10.q2, wrong, fragment)


# ------------------------------------------------------------------ q3: one replica's loss
def test_q3_right_in_numpy_and_in_tensorflow():
    import tensorflow as tf

    assert ch10.q3.verdict(lambda losses, global_batch: np.sum(losses) / global_batch).ok
    assert ch10.q3.verdict(
        lambda losses, global_batch: tf.nn.compute_average_loss(losses, global_batch_size=global_batch)
    ).ok


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda losses, global_batch: np.mean(losses), "4x too large"),
        (lambda losses, global_batch: np.sum(losses), "128x too large"),
        (lambda losses, global_batch: np.mean(losses) / 128, "expect"),
        (lambda losses, global_batch: losses / global_batch, "Return one number"),
        # numbers typed in by hand pass the first set-up (4 x 32) and fail the second (3 x 20)
        (lambda losses, global_batch: np.sum(losses) / 128, "do not type in 128"),
        (lambda losses, global_batch: np.sum(losses) / (len(losses) * 4), "3 replicas of 20"),
        (lambda losses, global_batch: np.mean(losses) / 4, "3 replicas of 20"),
    ],
)
def test_q3_wrong(wrong, fragment):
    _says(ch10.q3, wrong, fragment)


@pytest.mark.parametrize("question", [ch10.q1, ch10.q2, ch10.q3])
def test_not_attempted_yet(question):
    assert question.verdict(...).status == "not attempted"
