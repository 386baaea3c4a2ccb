"""Chapter 10 (Training faster and at scale): a machine's TF_CONFIG with a chief, a worker's shard, one replica's loss."""

import json

import numpy as np

from helpers.exercises.question import Question, as_array, explain_difference

HOSTS = ["192.168.1.20:2222", "192.168.1.21:2222", "192.168.1.22:2222"]  # the check tries each of them
OTHER_HOSTS = ["10.0.0.7:12345", "10.0.0.9:12345"]  # and one machine of another cluster


class WorkerConfig(Question):
    chapter, number = "ch10", 1

    def _check(self, tf_config):
        for hosts, position in ((HOSTS, 2), (HOSTS, 0), (HOSTS, 1), (OTHER_HOSTS, 1)):
            got = self.call(tf_config, list(hosts), hosts[position], signature="tf_config(hosts, this_host)")
            got = json.loads(got if isinstance(got, str) else json.dumps(got))  # the JSON text is fine too
            if not isinstance(got, dict):  # e.g. None from a function that sets os.environ and returns nothing
                self.fail(f"Return the TF_CONFIG, a dict (or its JSON text); your function returned {got!r:.60}.")
            task = {"type": "chief", "index": 0} if position == 0 else {"type": "worker", "index": position - 1}
            expected = {"cluster": {"chief": hosts[:1], "worker": hosts[1:]}, "task": task}
            cluster = got.get("cluster", {})
            lessons = {  # the typical mistakes, each with its lesson, then the general one
                'The cluster has two keys, "chief" (the first address) and "worker" (the others; singular, as '
                "TensorFlow spells it).": set(cluster) != {"chief", "worker"},
                'The chief is not also a worker: "worker" lists the other addresses.': cluster.get("worker") == hosts,
                'A role lists addresses, the chief too: "chief": [hosts[0]].': isinstance(cluster.get("chief"), str),
                'An index counts within its own list: as the chief is not in the "worker" list, the second address '
                "is worker 0.": position and got.get("task") == {"type": "worker", "index": position},
                "Compare key by key. The chief is hosts[0]; this_host's place is hosts.index(this_host).": True,
            }
            if got != expected:
                lesson = next(lesson for lesson, wrong in lessons.items() if wrong)
                self.fail(f"{lesson} For this_host={hosts[position]!r}, TF_CONFIG is {expected}, not {got}.")


class WorkerShard(Question):
    chapter, number = "ch10", 2

    def _check(self, worker_shard):
        for n, workers, index in ((10, 3, 1), (11, 4, 2)):  # two clusters: nothing may be typed in by hand
            got = self.call(worker_shard, n, workers, index, signature="worker_shard(n, num_workers, index)")
            got, right = as_array(self, got, "The shard").ravel().tolist(), list(range(index, n, workers))
            if got == right:
                continue
            if len(got) > 1 and all(b - a == 1 for a, b in zip(got, got[1:])):  # a block of neighbours
                self.fail("shard does not cut the data into blocks: it deals it out like cards, one to each worker.")
            self.fail(f"Worker {index} of {workers} reads {right} from {n} examples, not {got}: count from 0.")


class ReplicaLoss(Question):
    chapter, number = "ch10", 3

    def _check(self, replica_loss):
        for replicas, per_replica in ((4, 32), (3, 20)):  # two set-ups: nothing may be typed in by hand
            losses = np.random.default_rng(10 + replicas).uniform(0.5, 2.5, per_replica).astype("float32")
            batch = replicas * per_replica
            got = self.call(replica_loss, losses, batch, signature=f"replica_loss(losses, {batch})")
            got, right = as_array(self, got, "The loss"), losses.sum() / batch
            where = f"With {replicas} replicas of {per_replica} examples (global batch {batch})"
            mean = f"{where}, that is one replica's mean: summed over {replicas} replicas it is {replicas}x too large."
            unscaled = f"{where}, that is the sum, {batch}x too large: divide it by the global batch size."
            otherwise = (
                f"{where}, {per_replica} losses summing to {losses.sum():.3f} give one number, {right:.4f}; yours "
                f"gives {np.array2string(got, precision=4)}. Divide by the global_batch_size you are given."
            )
            explain_difference(self, got, right, {mean: losses.mean(), unscaled: losses.sum()}, otherwise)


q1, q2, q3 = WorkerConfig(), WorkerShard(), ReplicaLoss()
