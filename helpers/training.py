"""Training helpers for chapters 03 to 05: a callback that times a training run.

Only code that is too long to inline lives here. The models, the compile choices and the
training loops themselves are in the notebooks, where you read them. The curve plots live in
``helpers.plots`` (one ``plot_history`` for the whole course).
"""

from __future__ import annotations

import time

import keras


class TrainingTimer(keras.callbacks.Callback):
    """Measure a ``fit``: wall-clock seconds per epoch and in total, and the process's CPU seconds.

    ``timer.train_seconds`` is the wall time of training (validation included),
    ``timer.cpu_seconds`` the CPU time the process used (all threads): on a machine shared
    with other programs, CPU time varies much less than wall time.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch_seconds: list[float] = []
        self.train_seconds = 0.0
        self.cpu_seconds = 0.0

    def on_train_begin(self, logs=None) -> None:
        self.epoch_seconds = []
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._epoch0)
        self._update()

    def on_train_end(self, logs=None) -> None:
        self._update()

    def _update(self) -> None:
        self.train_seconds = time.perf_counter() - self._wall0
        self.cpu_seconds = time.process_time() - self._cpu0
