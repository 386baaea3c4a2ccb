"""Shared fixtures of the unit tests: their own Keras cache, a non-interactive plot backend, figures closed."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Keras reads KERAS_HOME once, when it is imported: give the unit tests a cache of their own.
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="pytest-keras-home-")
atexit.register(shutil.rmtree, os.environ["KERAS_HOME"], True)

import matplotlib  # noqa: E402

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
