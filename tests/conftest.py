"""Shared fixtures of the unit tests: their own Keras cache, a non-interactive plot backend, figures closed,
and a fake network for Keras's downloads."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import urllib.request

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


@pytest.fixture
def network(monkeypatch, tmp_path):
    """Keras downloads through ``urllib.request.urlopen``: every URL it opens is recorded in
    ``network.urls``; a URL in ``network.files`` is served with those bytes, and
    ``network.answer(url)`` decides the rest (by default the test fails). ``file:`` URLs open as usual."""

    class Network:
        files: dict[str, bytes] = {}
        urls: list[str] = []

        @staticmethod
        def answer(url):
            raise AssertionError(f"tried to download {url if isinstance(url, str) else url.full_url}")

    real_urlopen = urllib.request.urlopen

    def urlopen(url, *args, **kwargs):
        text = url if isinstance(url, str) else url.full_url
        if text.startswith("file:"):
            return real_urlopen(url, *args, **kwargs)
        Network.urls.append(text)
        if text in Network.files:
            served = tmp_path / "served" / str(len(Network.urls))
            served.parent.mkdir(exist_ok=True)
            served.write_bytes(Network.files[text])
            return real_urlopen(served.as_uri())
        return Network.answer(url)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return Network
