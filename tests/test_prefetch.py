"""Tests of ``helpers.offline.prefetch`` and ``helpers.offline.downloads`` against a local HTTP server (no network)."""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.server
import io
import pickle
import socket
import tarfile
import threading

import numpy as np
import pytest
from PIL import Image

from helpers import course, datasets
from helpers.offline import downloads, prefetch, weights
from helpers.offline import mirror as offline_mirror
from helpers.offline.prefetch import Source


# ----------------------------------------------------------------------------- server
class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    hits: dict[str, int] = {}

    def do_GET(self):  # noqa: N802 - the http.server API
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path.startswith("/truncated/"):
            body = self.files[self.path.removeprefix("/truncated")]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.path not in self.files:
            self.send_error(404)
            return
        body = self.files[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local HTTP server; put bytes into ``server.files['/name']``."""
    handler = type("Handler", (_Handler,), {"files": {}, "hits": {}})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.files, httpd.hits = handler.files, handler.hits
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setattr(course, "_state", {**course._state, "banners": set()})
    monkeypatch.setattr(prefetch, "PREFETCH_TIMEOUT", 5.0)


# ----------------------------------------------------------------------------- archives
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cifar10_archive(n: int = 4) -> tuple[bytes, tuple]:
    """A tiny archive in the real CIFAR-10 layout, and the arrays Keras would return."""
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    xs, ys = [], []
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            labels = rng.integers(0, 10, n).tolist()
            blob = pickle.dumps({b"data": data, b"labels": labels, b"batch_label": b"x"}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
            xs.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            ys.append(np.array(labels, dtype=np.uint8).reshape(-1, 1))
    expected = (np.concatenate(xs[:5]), np.concatenate(ys[:5])), (xs[5], ys[5])
    return buffer.getvalue(), expected


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


def serve_cifar10(monkeypatch, server, path="/cifar-10-python.tar.gz", digest=None):
    archive, expected = cifar10_archive()
    server.files["/cifar-10-python.tar.gz"] = archive
    source = Source(server.url + path, digest or sha256(archive), "cifar-10-python.tar.gz")
    monkeypatch.setitem(prefetch.SOURCES, "cifar10", [source])
    return expected


def leftovers(folder):
    """Anything but finished files: .part files and temporary work folders."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part") or p.name.startswith("."))


# ----------------------------------------------------------------------------- tests
def test_success_writes_what_load_returns_offline(monkeypatch, server, tmp_path, capsys):
    expected = serve_cifar10(monkeypatch, server)
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    assert "[OK]   cifar10" in capsys.readouterr().out
    assert (mirror / "datasets" / "cifar10.npz").is_file()
    assert leftovers(mirror) == []
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    (x_train, y_train), (x_test, y_test) = datasets.load("cifar10")
    np.testing.assert_array_equal(x_train, expected[0][0])
    np.testing.assert_array_equal(y_train, expected[0][1])
    np.testing.assert_array_equal(x_test, expected[1][0])
    assert y_train.dtype == np.uint8 and y_train.shape == (20, 1)
    assert "stand-in" not in capsys.readouterr().out


def test_rerun_keeps_a_complete_mirror(monkeypatch, server, tmp_path):
    serve_cifar10(monkeypatch, server)
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    assert server.hits["/cifar-10-python.tar.gz"] == 1


def test_checksum_mismatch_leaves_nothing(monkeypatch, server, tmp_path, capsys):
    serve_cifar10(monkeypatch, server, digest="0" * 64)
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] cifar10: Checksum mismatch" in out and "re-run" in out
    assert not (mirror / "datasets" / "cifar10.npz").exists()
    assert leftovers(mirror) == []


def test_truncated_transfer_leaves_nothing(monkeypatch, server, tmp_path, capsys):
    serve_cifar10(monkeypatch, server, path="/truncated/cifar-10-python.tar.gz")
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 1
    assert "stopped early" in capsys.readouterr().out
    assert list((mirror / "datasets").iterdir()) == []


def test_server_down_gives_a_clear_message(monkeypatch, tmp_path, capsys):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setitem(prefetch.SOURCES, "mnist", [Source(f"http://127.0.0.1:{port}/mnist.npz", None, "mnist.npz")])
    assert prefetch.prefetch_main(tmp_path / "mirror", ["mnist"]) == 1
    assert "Cannot reach http://127.0.0.1" in capsys.readouterr().out
    assert list((tmp_path / "mirror" / "datasets").iterdir()) == []


def test_http_error_is_reported(monkeypatch, server, tmp_path, capsys):
    monkeypatch.setitem(prefetch.SOURCES, "mnist", [Source(server.url + "/missing.npz", None, "mnist.npz")])
    assert prefetch.prefetch_main(tmp_path / "mirror", ["mnist"]) == 1
    assert "HTTP 404" in capsys.readouterr().out


def test_rerun_after_interruption(monkeypatch, server, tmp_path):
    expected = serve_cifar10(monkeypatch, server)
    mirror = tmp_path / "mirror"

    class Interrupting:  # Ctrl-C in the middle of the transfer
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(downloads, "tqdm", Interrupting)
        with pytest.raises(KeyboardInterrupt):
            prefetch.prefetch(mirror, ["cifar10"])
    assert list((mirror / "datasets").iterdir()) == []  # no .part, no work folder, no npz
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 0
    (x_train, _), _ = offline_mirror.load_npz(mirror / "datasets" / "cifar10.npz")
    np.testing.assert_array_equal(x_train, expected[0][0])


def test_stale_part_file_is_replaced(server, tmp_path):
    server.files["/w.h5"] = b"weights" * 100
    target = tmp_path / "w.h5"
    (tmp_path / "w.h5.part").write_bytes(b"half")  # left by a killed process
    downloads.download(server.url + "/w.h5", target, sha256(b"weights" * 100), progress=False)
    assert target.read_bytes() == b"weights" * 100
    assert not (tmp_path / "w.h5.part").exists()


def test_md5_hashes_are_checked(server, tmp_path):
    body = b"keras weights"
    server.files["/w.h5"] = body
    good = hashlib.md5(body).hexdigest()
    downloads.download(server.url + "/w.h5", tmp_path / "a.h5", good, progress=False)
    with pytest.raises(downloads.DownloadError, match="expected md5"):
        downloads.download(server.url + "/w.h5", tmp_path / "b.h5", "f" * 32, progress=False)
    assert not (tmp_path / "b.h5").exists()


def test_full_disk_leaves_no_partial_file(monkeypatch, server, tmp_path):
    server.files["/big.bin"] = b"x" * 5000
    real_open = open

    class FullDisk(io.RawIOBase):
        def __init__(self, path):
            self.handle = real_open(path, "wb")

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.handle.close()
            super().close()

    monkeypatch.setattr(downloads, "open", lambda path, mode="r", *a, **k: FullDisk(path), raising=False)
    with pytest.raises(downloads.DownloadError, match="disk is full"):
        downloads.download(server.url + "/big.bin", tmp_path / "big.bin", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_full_disk_while_saving_the_mirror_file(monkeypatch, server, tmp_path, capsys):
    serve_cifar10(monkeypatch, server)

    def no_space(file, **arrays):
        file.write(b"PK half an npz")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(prefetch.np, "savez", no_space)
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["cifar10"]) == 1
    assert "The disk is full while writing" in capsys.readouterr().out
    assert list((mirror / "datasets").iterdir()) == []


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


def test_mnist_and_fashion_sources_are_parsed(monkeypatch, server, tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), rng.integers(0, 10, 6).astype(np.uint8)
    npz = io.BytesIO()
    np.savez(npz, x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    server.files["/mnist.npz"] = npz.getvalue()
    monkeypatch.setitem(prefetch.SOURCES, "mnist", [Source(server.url + "/mnist.npz", None, "mnist.npz")])
    idx = {
        "train-labels-idx1-ubyte.gz": b"\0" * 8 + y.tobytes(),
        "train-images-idx3-ubyte.gz": b"\0" * 16 + x.tobytes(),
        "t10k-labels-idx1-ubyte.gz": b"\0" * 8 + y[:2].tobytes(),
        "t10k-images-idx3-ubyte.gz": b"\0" * 16 + x[:2].tobytes(),
    }
    for name, raw in idx.items():
        server.files["/" + name] = gzip.compress(raw)
    monkeypatch.setitem(
        prefetch.SOURCES, "fashion_mnist", [Source(server.url + "/" + name, None, name) for name in idx]
    )
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["mnist", "fashion_mnist"]) == 0
    for name in ("mnist", "fashion_mnist"):
        (x_train, y_train), (x_test, _) = offline_mirror.load_npz(mirror / "datasets" / f"{name}.npz")
        np.testing.assert_array_equal(x_train, x)
        np.testing.assert_array_equal(y_train, y)
        assert x_test.shape == (2, 28, 28)


def test_flowers_and_weights_land_in_the_mirror_layout(monkeypatch, server, tmp_path):
    archive = flowers_archive()
    server.files["/flower_photos.tgz"] = archive
    server.files["/w.h5"] = b"weights"
    monkeypatch.setitem(prefetch.SOURCES, "flowers", [Source(server.url + "/flower_photos.tgz", None, "f.tgz")])
    monkeypatch.setitem(weights.WEIGHT_FILES, "w.h5", server.url + "/w.h5")  # read by the real weight_files()
    monkeypatch.setitem(weights.WEIGHT_HASHES, "w.h5", sha256(b"weights"))
    mirror = tmp_path / "mirror"
    assert prefetch.prefetch_main(mirror, ["flowers", "w.h5"]) == 0
    assert sorted(p.name for p in (mirror / "datasets" / "flowers").iterdir() if p.is_dir()) == datasets.FLOWER_CLASSES
    assert (mirror / "weights" / "w.h5").read_bytes() == b"weights"
    assert leftovers(mirror) == []
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    assert datasets.flowers_dir() == mirror / "datasets" / "flowers"


def test_offline_fallback_shows_one_banner(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    (x_train, y_train), _ = datasets.load("cifar10")
    (again, _), _ = datasets.load("cifar10")
    out = capsys.readouterr().out
    assert out.count("Using a stand-in for cifar10") == 1
    assert "python -m helpers prefetch" in out
    assert x_train.shape[1:] == (32, 32, 3) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, again)


def test_failed_download_falls_back_with_banner(monkeypatch, capsys):
    def no_network():
        raise OSError("network unreachable")

    monkeypatch.setattr(offline_mirror, "_keras_loader", lambda name: no_network)
    (x_train, _), _ = datasets.load("mnist")
    assert "the download failed (OSError: network unreachable)" in capsys.readouterr().out
    assert x_train.shape[1:] == (28, 28)


def test_cifar100_archive_gives_fine_labels_like_keras(monkeypatch, server, tmp_path):
    rng = np.random.default_rng(2)
    buffer = io.BytesIO()
    arrays = {}
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member, n in (("train", 6), ("test", 3)):
            data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            fine = rng.integers(0, 100, n).tolist()
            record = {b"data": data, b"fine_labels": fine, b"coarse_labels": [0] * n}
            blob = pickle.dumps(record, protocol=2)
            info = tarfile.TarInfo(f"cifar-100-python/{member}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
            arrays[member] = (data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.array(fine).reshape(-1, 1))
    server.files["/c100.tgz"] = buffer.getvalue()
    source = Source(server.url + "/c100.tgz", sha256(buffer.getvalue()), "cifar-100-python.tar.gz")
    monkeypatch.setitem(prefetch.SOURCES, "cifar100", [source])
    assert prefetch.prefetch_main(tmp_path, ["cifar100"]) == 0
    (x_train, y_train), (x_test, y_test) = offline_mirror.load_npz(tmp_path / "datasets" / "cifar100.npz")
    np.testing.assert_array_equal(x_train, arrays["train"][0])
    np.testing.assert_array_equal(y_test, arrays["test"][1])
    assert y_train.dtype == np.int64 and y_train.shape == (6, 1)


def test_archives_with_other_pickled_objects_are_refused(monkeypatch, server, tmp_path, capsys):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        blob = pickle.dumps({b"data": [], b"labels": [], b"payload": threading.Thread}, protocol=2)
        for member in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    server.files["/evil.tgz"] = buffer.getvalue()
    monkeypatch.setitem(prefetch.SOURCES, "cifar10", [Source(server.url + "/evil.tgz", None, "c.tgz")])
    assert prefetch.prefetch_main(tmp_path, ["cifar10"]) == 1
    assert "not a genuine cifar10 batch: refusing to load threading.Thread" in capsys.readouterr().out
    assert list((tmp_path / "datasets").iterdir()) == []


def test_a_bug_while_loading_surfaces_instead_of_a_stand_in(monkeypatch, tmp_path, capsys):
    """A NameError or KeyError inside the loading code is a bug: it shows, no stand-in banner hides it."""

    def buggy():
        raise KeyError("x_train")

    monkeypatch.setattr(offline_mirror, "_keras_loader", lambda name: buggy)
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

    monkeypatch.setattr(offline_mirror, "_keras_loader", lambda name: damaged)
    (tmp_path / "keras_home" / "datasets").mkdir(parents=True)
    (tmp_path / "keras_home" / "datasets" / "mnist.npz").write_bytes(b"half")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    datasets.load("mnist")
    out = capsys.readouterr().out
    assert "the copy in the Keras cache could not be read (EOFError: Compressed file ended" in out
    assert "COURSE_OFFLINE=1 is set" in out


def test_weight_files_are_the_ones_the_course_loads():
    """prefetch reads the weight list of helpers.offline.weights directly (no fallback to nothing)."""
    files = prefetch.weight_files()
    assert set(files) == set(weights.WEIGHT_FILES) and files
    for name, (url, file_hash) in files.items():
        assert url == weights.WEIGHT_FILES[name] and file_hash == weights.WEIGHT_HASHES.get(name)


def test_prefetch_offers_every_dataset_and_weight_file(tmp_path, capsys):
    assert prefetch.prefetch_main(tmp_path, ["nothing-like-this"]) == 2
    err = capsys.readouterr().err
    for name in [*prefetch.SOURCES, *weights.WEIGHT_FILES]:
        assert name in err


def test_command_line_runs_prefetch(tmp_path, capsys):
    from helpers.__main__ import main

    assert main(["prefetch", "--to", str(tmp_path), "nothing-like-this"]) == 2
    assert "Unknown name(s) nothing-like-this" in capsys.readouterr().err
