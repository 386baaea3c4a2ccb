"""Chapter 10 (Training faster and at scale): a machine's TF_CONFIG with a chief, a worker's shard, one replica's loss."""

from __future__ import annotations

import json

import numpy as np

from helpers.exercises.question import Question, as_array, explain_difference

HOSTS = ["192.168.1.20:2222", "192.168.1.21:2222", "192.168.1.22:2222"]
OTHER_HOSTS = ["10.0.0.7:12345", "10.0.0.9:12345"]


class WorkerConfig(Question):
    chapter, number = "ch10", 1

    def _check(self, tf_config):
        cases = [(HOSTS, 2), (HOSTS, 0), (HOSTS, 1), (OTHER_HOSTS, 1)]  # worker, chief, worker, another cluster
        for hosts, position in cases:
            got = self.call(tf_config, list(hosts), hosts[position], signature="tf_config(hosts, this_host)")
            self._judge(got, hosts, position)

    def _judge(self, got, hosts, position):
        where = f"For {len(hosts)} hosts and this_host={hosts[position]!r}"
        if isinstance(got, str):  # json.dumps(...) of the dict is fine too
            try:
                got = json.loads(got)
            except json.JSONDecodeError:
                self.fail(f"Your function returned text that is not JSON: {got!r}. Return the dict itself.")
        if not isinstance(got, dict) or not isinstance(got.get("cluster"), dict):
            self.fail(f'{where}, return a dict with a "cluster" and a "task"; you returned {got!r}.')
        cluster, task = got["cluster"], got.get("task")
        chief, workers = cluster.get("chief"), cluster.get("worker")
        if set(cluster) != {"chief", "worker"}:
            self.fail(
                f'{where}, the cluster has two keys, "chief" (the first address) and "worker" (the others; singular, '
                f"as TensorFlow spells it), not {sorted(cluster)}."
            )
        if isinstance(chief, str) or list(chief) != hosts[:1]:
            self.fail(
                f'The chief is the first address, and "chief" is a list with one address, [{hosts[0]!r}]; '
                f"you gave {chief!r}."
            )
        if not isinstance(workers, (list, tuple)) or list(workers) != hosts[1:]:
            self.fail(
                f'{where}, "worker" should be {hosts[1:]}: the other machines, without the chief (the chief is not '
                "also a worker), the same on every machine (each must know all the others to exchange gradients "
                f"with them); you gave {workers!r}."
            )
        expected = {"type": "chief", "index": 0} if position == 0 else {"type": "worker", "index": position - 1}
        if task == expected:
            return
        if not isinstance(task, dict) or set(task) != {"type", "index"}:
            self.fail(
                f'{where}, the dict needs a "task" beside the cluster, with two keys, "type" and "index", to say '
                f"which machine this is; you returned {got!r}."
            )
        if isinstance(task["index"], str):
            self.fail(f'The index is a number, not text: "index": {expected["index"]}, not {task["index"]!r}.')
        self.fail(
            f"{where}, the task should be {expected}; you gave {task!r}. The first address is "
            "the chief, the others are workers, and an index counts within its own list: the chief is chief 0 and, "
            'as the chief is not in the "worker" list, the second address is worker 0. Find this_host\'s place with '
            "hosts.index(this_host) rather than typing a number."
        )


class WorkerShard(Question):
    chapter, number = "ch10", 2

    def _check(self, worker_shard):
        for n, workers, index in ((10, 3, 1), (11, 4, 3)):  # two clusters: nothing may be typed in by hand
            got = self.call(worker_shard, n, workers, index, signature="worker_shard(n, num_workers, index)")
            got, right = as_array(self, got, "The shard").ravel().tolist(), list(range(index, n, workers))
            if got == right:
                continue
            if len(got) > 1 and all(b - a == 1 for a, b in zip(got, got[1:])):  # a block of neighbours
                self.fail(
                    "shard does not cut the data into blocks: it deals it out like cards, one to each worker in turn."
                )
            if got == list(range(index - 1, n, workers)):
                self.fail(
                    f"That is worker {index - 1}'s shard: worker {index} starts at element {index} (indexes count from 0)."
                )
            self.fail(
                f"Of {n} examples shared by {workers} workers, worker {index} reads {right}; your function gives {got}. "
                "Use num_workers and index from the arguments, not numbers of your own."
            )


class ReplicaLoss(Question):
    chapter, number = "ch10", 3

    def _check(self, replica_loss):
        for replicas, per_replica in ((4, 32), (3, 20)):  # two set-ups: nothing may be typed in by hand
            losses = np.random.default_rng(10 + replicas).uniform(0.5, 2.5, per_replica).astype("float32")
            batch = replicas * per_replica
            got = self.call(replica_loss, losses, batch, signature=f"replica_loss(losses, {batch})")
            got = as_array(self, got, "The loss")
            if got.size != 1:
                self.fail(
                    f"Return one number, the replica's loss; you returned {got.size} numbers of shape {got.shape}."
                )
            got, right = float(got.ravel()[0]), losses.sum() / batch
            where = f"{replicas} replicas of {per_replica} examples (global batch {batch})"
            mistakes = {
                f"With {where}, that is the mean over this replica's {per_replica} examples: summed over {replicas} "
                f"replicas it is {replicas}x too large.": losses.mean(),
                f"Divide the sum by the global batch size ({batch}), or the summed gradients are {batch}x too large.": losses.sum(),
            }
            explain_difference(
                self, got, right, mistakes, f"With {where}: {per_replica} losses summing to {losses.sum():.3f}, expect "
                f"{right:.4f}, not {got:.4f}. Use the global_batch_size you are given; do not type in 128 or 4 replicas.",
            )  # fmt: skip


q1, q2, q3 = WorkerConfig(), WorkerShard(), ReplicaLoss()
