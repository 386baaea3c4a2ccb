"""Chapter 10 (Training faster and at scale): a worker's TF_CONFIG, its shard, one replica's loss."""

from __future__ import annotations

import json

import numpy as np

from helpers.exercises.question import Question, as_array

HOSTS = ["192.168.1.20:2222", "192.168.1.21:2222", "192.168.1.22:2222"]


class WorkerConfig(Question):
    chapter, number = "ch10", 1
    title = "The TF_CONFIG of one worker"
    hints = [
        "Every worker gets the same 'cluster' (all the addresses) and its own 'task'.",
        'The task is {"type": "worker", "index": i}; indexes count from 0, in the order of the address list.',
        'return {"cluster": {"worker": list(hosts)}, "task": {"type": "worker", "index": index}}',
    ]
    correct_message = "Set it with os.environ['TF_CONFIG'] = json.dumps(...) on that machine, before TensorFlow starts."

    def _check(self, tf_config):
        for index in (2, 0):  # the last worker, then the first: the index must come from the argument
            self._judge(self.call(tf_config, list(HOSTS), index, signature="tf_config(hosts, index)"), index)

    def _judge(self, got, index):
        if isinstance(got, str):  # json.dumps(...) of the dict is fine too
            try:
                got = json.loads(got)
            except json.JSONDecodeError:
                self.fail(f"Your function returned text that is not JSON: {got!r}. Return the dict itself.")
        if not isinstance(got, dict) or not isinstance(got.get("cluster"), dict):
            self.fail(
                f'Return a dict with a "cluster" and a "task"; for 3 hosts and index {index} you returned {got!r}.'
            )
        if set(got["cluster"]) != {"worker"}:
            self.fail(
                f'"cluster" has one key, "worker" (singular), for the list of addresses; you gave {got["cluster"]!r}.'
            )
        workers = got["cluster"]["worker"]
        if not isinstance(workers, (list, tuple)) or list(workers) != HOSTS:
            self.fail(
                f'"cluster" must list EVERY worker, the same on each machine: {{"worker": {HOSTS}}}; '
                f"you gave {got['cluster']!r}. A worker must know all the others to exchange gradients with them."
            )
        task = got.get("task") or {}
        if task.get("type") != "worker":
            self.fail(f'The task type of a worker is "worker"; you gave {task!r}.')
        if task.get("index") == index + 1:
            self.fail(
                f"Indexes count from 0: address number {index + 1} of the list is index {index}, as in Python lists."
            )
        if isinstance(task.get("index"), str) and task["index"].strip() == str(index):
            self.fail(f'The index is a number, not text: "index": {index}, not "index": {task["index"]!r}.')
        if task.get("index") != index:
            self.fail(
                f'For index {index} the task should be {{"type": "worker", "index": {index}}}; you gave {task!r}. '
                "Take the index from the function's argument."
            )


class WorkerShard(Question):
    chapter, number = "ch10", 2
    title = "Which examples ds.shard(num_workers, index) gives a worker"
    hints = [
        "Run tf.data.Dataset.range(10).shard(3, 1) and list it: what do you see?",
        "shard keeps every num_workers-th element, starting at element index.",
        "return list(range(index, n, num_workers))",
    ]

    mistakes = {
        (3, 4, 5): "shard does not cut the data into blocks: it deals it out like cards, every 3rd element.",
        (0, 3, 6, 9): "That is worker 0's shard: worker 1 starts at element 1 (indexes count from 0).",
    }

    def _check(self, worker_shard):
        got = self.call(worker_shard, 10, 3, 1, signature="worker_shard(n, num_workers, index)")
        got = tuple(as_array(self, got, "The shard").ravel().tolist())
        if got != (1, 4, 7):
            if len(got) > 1 and all(b - a == 1 for a, b in zip(got, got[1:])):  # a block of neighbours
                self.fail(self.mistakes[(3, 4, 5)])
            self.fail(
                self.mistakes.get(got, f"Of 10 examples shared by 3 workers, worker 1 reads [1, 4, 7]; not {got}.")
            )
        got = self.call(worker_shard, 11, 4, 3, signature="worker_shard(n, num_workers, index)")  # another cluster
        got = tuple(as_array(self, got, "The shard").ravel().tolist())
        if got != (3, 7):
            self.fail(
                f"Of 11 examples shared by 4 workers, worker 3 reads [3, 7]; your function gives {list(got)}. "
                "Use num_workers and index from the arguments, not the numbers of the first example."
            )


class ReplicaLoss(Question):
    chapter, number = "ch10", 3
    title = "One replica's share of the loss"
    hints = [
        "The gradients of all replicas are added up. What must each replica divide by so that the sum is a mean?",
        "Divide the sum of this replica's losses by the GLOBAL batch size, not by its own batch size.",
        "return np.sum(per_example_losses) / global_batch_size",
    ]

    def _check(self, replica_loss):
        for replicas, per_replica in ((4, 32), (3, 20)):  # two set-ups: nothing may be typed in by hand
            losses = np.random.default_rng(10 + replicas).uniform(0.5, 2.5, per_replica).astype("float32")
            batch = replicas * per_replica
            got = as_array(
                self, self.call(replica_loss, losses, batch, signature=f"replica_loss(losses, {batch})"), "The loss"
            )
            if got.size != 1:
                self.fail(
                    f"Return one number, the replica's loss; you returned {got.size} numbers of shape {got.shape}."
                )
            got = float(got.ravel()[0])
            where = f"{replicas} replicas of {per_replica} examples (global batch {batch})"
            if np.isclose(got, losses.mean()):
                self.fail(f"With {where}, that is the mean over this replica's {per_replica} examples: "
                          f"summed over {replicas} replicas it is {replicas}x too large.")  # fmt: skip
            if np.isclose(got, losses.sum()):
                self.fail(
                    f"Divide the sum by the global batch size ({batch}), or the summed gradients are {batch}x too large."
                )
            if not np.isclose(got, losses.sum() / batch, rtol=1e-5):
                self.fail(
                    f"With {where}: {per_replica} losses summing to {losses.sum():.3f}, expect "
                    f"{losses.sum() / batch:.4f}, not {got:.4f}. Use the global_batch_size you are given; "
                    "do not type in 128 or 4 replicas."
                )


q1, q2, q3 = WorkerConfig(), WorkerShard(), ReplicaLoss()
