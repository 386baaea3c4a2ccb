"""Tests of ``tools/prefetch.py`` (``python -m helpers prefetch``) and the dataset side of ``helpers.offline`` (no network).

Keras's loaders are replaced by small arrays (``keras.datasets.<name>.load_data`` is public), and
Keras's own downloads (``keras.utils.get_file``) are answered by a fake ``urllib.request.urlopen``.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from helpers import course, datasets, offline
from tools import prefetch

KERAS_HOME = Path(os.environ["KERAS_HOME"])  # Keras's own cache, read once when Keras is imported (conftest.py)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    for sub in ("datasets", "models"):
        shutil.rmtree(KERAS_HOME / sub, ignore_errors=True)  # Keras's own cache (conftest.py)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setattr(course, "_state", {**course._state, "banners": set()})
    yield
    for sub in ("datasets", "models"):
        shutil.rmtree(KERAS_HOME / sub, ignore_errors=True)


def tiny_cifar10(seed: int = 0):
    """Arrays shaped and typed like keras.datasets.cifar10.load_data(), 20 + 4 images."""
    rng = np.random.default_rng(seed)
    x_train, x_test = (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in (20, 4))
    y_train, y_test = (rng.integers(0, 10, (n, 1)).astype(np.uint8) for n in (20, 4))
    return (x_train, y_train), (x_test, y_test)


CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


@pytest.fixture
def cifar10_loader(monkeypatch, network):
    """keras.datasets.cifar10.load_data() as with an empty Keras cache: it downloads (a fake
    archive), then returns tiny arrays. Returns the downloads made, as a list of URLs."""
    network.files[CIFAR10_URL] = b"archive"

    def load_data():
        urllib.request.urlopen(CIFAR10_URL)
        return tiny_cifar10()

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", load_data)
    return network.urls


def flowers_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in datasets.FLOWER_CLASSES:
            jpeg = io.BytesIO()
            Image.new("RGB", (8, 8), (200, 50, 50)).save(jpeg, "JPEG")
            info = tarfile.TarInfo(f"flower_photos/{name}/one.jpg")
            info.size = len(jpeg.getvalue())
            tar.addfile(info, io.BytesIO(jpeg.getvalue()))
        info = tarfile.TarInfo("flower_photos/LICENSE.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"cc!"))
    return buffer.getvalue()


def leftovers(folder):
    """Anything but finished files: temporary files and work folders."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part") or p.name.startswith("."))


def read_only(folder):
    """Make ``folder`` read-only; returns its listing with times (root ignores the bits: compare after)."""
    for path in [*folder.rglob("*"), folder]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return snapshot(folder)


def snapshot(folder):
    return {path: path.stat().st_mtime_ns for path in [folder, *folder.rglob("*")]}


def writable(folder):
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


# ----------------------------------------------------------------------------- tests
def test_success_writes_what_load_returns_from_a_read_only_mirror(monkeypatch, tmp_path, capsys, cifar10_loader):
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    assert "[OK]   cifar10" in capsys.readouterr().out
    assert (mirror / "datasets" / "cifar10.npz").is_file()
    assert leftovers(mirror) == []
    before = read_only(mirror)  # a USB stick or a hub's shared folder
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))  # online: the mirror still comes before a download
    try:
        (x_train, y_train), (x_test, y_test) = datasets.load("cifar10")
        assert snapshot(mirror) == before
    finally:
        writable(mirror)
    expected = tiny_cifar10()
    np.testing.assert_array_equal(x_train, expected[0][0])
    np.testing.assert_array_equal(y_train, expected[0][1])
    np.testing.assert_array_equal(x_test, expected[1][0])
    assert y_train.dtype == np.uint8 and y_train.shape == (20, 1)
    assert "stand-in" not in capsys.readouterr().out
    assert cifar10_loader == [CIFAR10_URL]  # prefetch downloaded; loading from the mirror did not


def test_rerun_keeps_a_complete_mirror(tmp_path, cifar10_loader):
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    assert cifar10_loader == [CIFAR10_URL]


def test_a_damaged_mirror_file_is_fetched_again(tmp_path, cifar10_loader):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "cifar10.npz").write_bytes(b"PK half an npz")
    assert prefetch.prefetch_main(tmp_path, ["cifar10"]) == 0
    assert cifar10_loader == [CIFAR10_URL]
    offline.load_npz(tmp_path / "datasets" / "cifar10.npz")


def test_a_failed_keras_download_is_reported_and_leaves_nothing(monkeypatch, tmp_path, capsys):
    def unreachable():
        raise Exception("URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz: None -- refused")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", unreachable)
    assert prefetch.prefetch_main(tmp_path / "mirror", ["cifar10"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] cifar10: Exception: URL fetch failure on https://www.cs.toronto.edu" in out and "re-run" in out
    assert list((tmp_path / "mirror").rglob("*")) == []


def test_a_weight_file_with_the_wrong_hash_is_refused_by_keras(monkeypatch, tmp_path, capsys, network):
    url = "https://storage.example/w.h5"
    network.files[url] = b"not what was published"
    monkeypatch.setitem(prefetch.WEIGHT_FILES, "w.h5", url)
    monkeypatch.setitem(offline.WEIGHT_HASHES, "w.h5", hashlib.sha256(b"weights").hexdigest())
    assert prefetch.prefetch_main(tmp_path, ["w.h5"]) == 1
    assert "[FAIL] w.h5: ValueError: Incomplete or corrupted file detected" in capsys.readouterr().out
    assert not (tmp_path / "weights" / "w.h5").exists() and leftovers(tmp_path) == []


def test_hash_matches_detects_md5_and_sha256(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    assert prefetch.hash_matches(path, "900150983cd24fb0d6963f7d28e17f72")
    assert prefetch.hash_matches(path, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert not prefetch.hash_matches(path, "0" * 32)
    assert prefetch.hash_matches(path, None)


def test_rerun_after_interruption(monkeypatch, tmp_path, cifar10_loader):
    mirror = tmp_path / "mirror"
    with monkeypatch.context() as patch:

        def interrupted(file, **arrays):
            file.write(b"PK half an npz")
            raise KeyboardInterrupt  # Ctrl-C while writing

        patch.setattr(prefetch.np, "savez", interrupted)
        with pytest.raises(KeyboardInterrupt):
            prefetch.prefetch(mirror, ["cifar10"])
    assert list((mirror / "datasets").iterdir()) == []  # no temp file, no work folder, no npz
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    (x_train, _), _ = offline.load_npz(mirror / "datasets" / "cifar10.npz")
    np.testing.assert_array_equal(x_train, tiny_cifar10()[0][0])


def test_full_disk_while_saving_the_mirror_file(monkeypatch, tmp_path, capsys, cifar10_loader):
    def no_space(file, **arrays):
        file.write(b"PK half an npz")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(prefetch.np, "savez", no_space)
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 1
    assert "The disk is full while writing" in capsys.readouterr().out
    assert list((mirror / "datasets").iterdir()) == []


def test_flowers_and_weights_land_in_the_mirror_layout(monkeypatch, tmp_path, network):
    network.files[offline.FLOWERS_URL] = flowers_archive()
    url = "https://storage.example/w.h5"
    network.files[url] = b"weights"
    monkeypatch.setitem(prefetch.WEIGHT_FILES, "w.h5", url)  # read by prefetch like the real list
    monkeypatch.setitem(offline.WEIGHT_HASHES, "w.h5", hashlib.sha256(b"weights").hexdigest())
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["flowers", "w.h5"]) == 0
    assert sorted(p.name for p in (mirror / "datasets" / "flowers").iterdir() if p.is_dir()) == datasets.FLOWER_CLASSES
    assert (mirror / "weights" / "w.h5").read_bytes() == b"weights"
    assert leftovers(mirror) == []
    assert prefetch.prefetch_main(mirror, ["flowers", "w.h5"]) == 0  # re-run: nothing downloaded again
    assert sorted(network.urls) == sorted([offline.FLOWERS_URL, url])
    before = read_only(mirror)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    try:
        assert datasets.flowers_dir() == mirror / "datasets" / "flowers"
        assert snapshot(mirror) == before
    finally:
        writable(mirror)


def test_prefetch_offers_every_dataset_and_weight_file(tmp_path, capsys):
    assert prefetch.prefetch_main(tmp_path, ["nothing-like-this"]) == 2
    err = capsys.readouterr().err
    for name in [*prefetch.DATASETS, *prefetch.WEIGHT_FILES]:
        assert name in err
    assert set(prefetch.DATASETS) == {*datasets.SHAPES, "flowers"}


def test_unwritable_folder_is_reported(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert prefetch.prefetch_main(blocker / "mirror", ["mnist"]) == 2
    assert "Cannot write to" in capsys.readouterr().err


def test_unknown_name_and_offline_mode(monkeypatch, tmp_path, capsys):
    assert prefetch.prefetch_main(tmp_path, ["imagenet"]) == 2
    assert "Choose from: mnist" in capsys.readouterr().err
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert prefetch.prefetch_main(tmp_path, ["mnist"]) == 2
    assert "COURSE_OFFLINE=1" in capsys.readouterr().err


def test_offline_fallback_shows_one_banner(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    (x_train, y_train), _ = datasets.load("cifar10")
    (again, _), _ = datasets.load("cifar10")
    out = capsys.readouterr().out
    assert out.count("Using a stand-in for cifar10") == 1
    assert "python -m helpers prefetch" in out
    assert x_train.shape[1:] == (32, 32, 3) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, again)


def test_failed_download_falls_back_with_banner(capsys, network):
    def no_network(url):
        raise urllib.error.URLError("network unreachable")

    network.answer = no_network
    (x_train, _), _ = datasets.load("mnist")  # the real Keras loader: nothing cached, so it downloads
    out = capsys.readouterr().out
    assert "the download failed (Exception: URL fetch failure" in out and "network unreachable" in out
    assert "Keras cache" not in out  # an empty cache is not a damaged one
    assert len(network.urls) == 1 and network.urls[0].endswith("mnist.npz")  # one download, not one per look
    assert x_train.shape[1:] == (28, 28)


def test_a_bug_while_loading_surfaces_instead_of_a_stand_in(monkeypatch, tmp_path, capsys):
    """A NameError or KeyError inside the loading code is a bug: it shows, no stand-in banner hides it."""

    def buggy():
        raise KeyError("x_train")

    monkeypatch.setattr(offline, "_keras_loader", lambda name: buggy)
    with pytest.raises(KeyError):
        datasets.load("mnist")
    (tmp_path / "keras_home" / "datasets" / "mnist.npz").parent.mkdir(parents=True)
    (tmp_path / "keras_home" / "datasets" / "mnist.npz").write_bytes(b"cached")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(KeyError):  # the Keras-cache path too
        datasets.load("mnist")
    assert "stand-in" not in capsys.readouterr().out


def test_a_damaged_keras_cache_is_named_in_the_banner(monkeypatch, tmp_path, capsys):
    def damaged():
        raise EOFError("Compressed file ended before the end-of-stream marker was reached")

    monkeypatch.setattr(offline, "_keras_loader", lambda name: damaged)
    (tmp_path / "keras_home" / "datasets").mkdir(parents=True)
    (tmp_path / "keras_home" / "datasets" / "mnist.npz").write_bytes(b"half")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    datasets.load("mnist")
    out = capsys.readouterr().out
    assert "the copy in the Keras cache could not be read (EOFError: Compressed file ended" in out
    assert "COURSE_OFFLINE=1 is set" in out


def test_command_line_runs_prefetch(tmp_path, capsys):
    from helpers.__main__ import main

    assert main(["prefetch", "--to", str(tmp_path), "nothing-like-this"]) == 2
    assert "Unknown name(s) nothing-like-this" in capsys.readouterr().err


def test_command_line_outside_a_copy_of_the_repository_says_where_to_run_it(monkeypatch, tmp_path, capsys):
    from helpers import __main__ as cli

    monkeypatch.setattr(cli, "TOOLS", tmp_path / "no-tools-here")  # an installed wheel has no tools/
    assert cli.main(["prefetch", "--to", str(tmp_path)]) == 2
    assert "runs tools/prefetch.py from a copy of the course repository: `git clone https://" in capsys.readouterr().err
