"""Chapter 10 checks: right answers pass, typical wrong answers get their own teaching message."""

from __future__ import annotations

import json
import os

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


def _sets_the_environment(hosts, this_host):
    """Sets TF_CONFIG, as the chapter's script does, but returns nothing."""
    os.environ["CH10_TEST_TF_CONFIG"] = json.dumps(tf_config(hosts, this_host))
    os.environ.pop("CH10_TEST_TF_CONFIG")


def _chief_typed_as_worker(hosts, this_host):
    position = hosts.index(this_host)
    return _config(hosts[:1], hosts[1:], "worker", max(position - 1, 0))


# the chief's entry and worker 1's, as they appear in the message that shows the right TF_CONFIG
CHIEF = "'task': {'type': 'chief', 'index': 0}}, not {"
WORKER_1 = "'task': {'type': 'worker', 'index': 1}}, not {"


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        # the typical mistakes, each with its lesson
        (_all_workers, 'The cluster has two keys, "chief"'),
        (_not_renumbered, "An index counts within its own list"),
        (_chief_is_a_worker, "The chief is not also a worker"),
        (lambda hosts, this_host: {"worker": list(hosts)}, 'The cluster has two keys, "chief"'),
        (_changed(lambda c, h, me: c["cluster"].update(workers=c["cluster"].pop("worker"))), 'singular, as TensorFlow spells it'),
        (_changed(lambda c, h, me: c["cluster"].update(ps=[])), "'ps': []}"),
        # the rest: the general lesson, with the right TF_CONFIG beside theirs
        (_chief_typed_as_worker, CHIEF + "'cluster'"),
        (lambda hosts, this_host: _config(hosts[0], hosts[1:], "worker", 1), "not {'cluster': {'chief': '192.168.1.20:2222'"),
        (lambda hosts, this_host: _config(hosts[0], hosts[1:], "worker", 1), 'A role lists addresses, the chief too: "chief": [hosts[0]].'),
        (_changed(lambda c, h, me: c.update(tasks=c.pop("task"))), "Compare key by key. The chief is hosts[0]; this_host's place is hosts.index(this_host). For"),
        (_sets_the_environment, "Return the TF_CONFIG, a dict (or its JSON text); your function returned None."),
        (lambda hosts, this_host: _config(hosts[-1:], hosts[:-1], "worker", 1), "Compare key by key. The chief is hosts[0]"),
        (lambda hosts, this_host: _config(hosts[:1], [this_host], "worker", 0), "'worker': ['192.168.1.22:2222']}"),
        (lambda hosts, this_host: _config(hosts[:1], hosts[1:], "worker", 0), WORKER_1),
        (lambda hosts, this_host: _config(hosts[:1], hosts[1:], "worker", "1"), "'index': '1'}}."),
        (_changed(lambda c, h, me: c.pop("task")), "'192.168.1.22:2222']}}."),
        (_changed(lambda c, h, me: c["task"].update(address=me)), "'index': 1, 'address': '192.168.1.22:2222'}}."),
        (_changed(lambda c, h, me: c["task"].update(index=h.index(me) - 1)), CHIEF),
        (_changed(lambda c, h, me: c["task"].update(index=h.index(me) - 1)), "hosts.index(this_host)"),
        # what the shared code says
        (lambda hosts, this_host: "chief 0", "could not read your answer (JSONDecodeError"),
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
        (
            lambda n, workers, index: list(range(index - 1, n, workers)),
            "reads [1, 4, 7] from 10 examples, not [0, 3, 6, 9]",
        ),
        (
            lambda n, workers, index: list(range(0, n, index + 1)),
            "reads [1, 4, 7] from 10 examples, not [0, 2, 4, 6, 8]",
        ),
        (lambda n, workers, index: np.array_split(np.arange(n), workers)[index], "deals it out"),
        (
            lambda n, workers, index: list(range(index, n, 3)),
            "Worker 2 of 4 reads [2, 6, 10] from 11 examples, not [2, 5, 8]",
        ),
        (
            lambda n, workers, index: list(range(1, n, workers)),
            "Worker 2 of 4 reads [2, 6, 10] from 11 examples, not [1, 5, 9]",
        ),
        (lambda n, workers, index: 1 / 0, "ZeroDivisionError"),
        # stops before the last position (n - 1): worker 2 of 4 reads position 10 of 11
        (lambda n, workers, index: list(range(index, n - 1, workers)), "reads [2, 6, 10] from 11 examples, not [2, 6]"),
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
        (lambda losses, global_batch: np.sum(losses), "that is the sum, 128x too large"),
        # numbers typed in by hand pass the first set-up (4 x 32) and fail the second (3 x 20)
        (lambda losses, global_batch: np.sum(losses) / 128, "With 3 replicas of 20 examples (global batch 60)"),
        (lambda losses, global_batch: np.sum(losses) / (len(losses) * 4), "3 replicas of 20"),
        (lambda losses, global_batch: np.mean(losses) / 4, "3 replicas of 20"),
    ],
)
def test_q3_wrong(wrong, fragment):
    _says(ch10.q3, wrong, fragment)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda losses, global_batch: np.mean(losses) / 128,
        lambda losses, global_batch: losses / global_batch,  # one loss per example, not one number
        lambda losses, global_batch: np.sum(losses) / 128,
    ],
)
def test_q3_other_mistakes_show_the_right_loss_beside_theirs(wrong):
    calls = []

    def answer(losses, global_batch):
        calls.append((losses.copy(), global_batch, wrong(losses, global_batch)))
        return calls[-1][-1]

    verdict = ch10.q3.verdict(answer)
    losses, global_batch, theirs = calls[-1]
    message = verdict.message
    assert verdict.status == "incorrect", verdict
    assert f"give one number, {np.sum(losses) / global_batch:.4f}; yours gives" in message, message
    assert np.array2string(np.asarray(theirs), precision=4) in message, message


@pytest.mark.parametrize("question", [ch10.q1, ch10.q2, ch10.q3])
def test_not_attempted_yet(question):
    assert question.verdict(...).status == "not attempted"
