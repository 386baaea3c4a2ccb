"""Downloading one file safely: progress bar, checksum (SHA-256 or MD5), atomic write, clear errors.

Every download the course makes itself (``python -m helpers prefetch``) goes through
:func:`download`; downloads Keras makes for us run under :func:`socket_timeout`, and
:func:`is_unavailable` tells "not available here" (network, file, format) from a bug.
:func:`hash_of` is the one file hasher. It writes to ``<name>.part`` next to the target and renames it only
when the transfer is complete and verified, so an interrupted, truncated or corrupted
download never leaves a file under the final name; a failed one leaves no ``.part``
behind either, and re-running simply starts again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import pickle
import shutil
import socket
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tqdm.auto import tqdm

CHUNK = 1 << 20
USER_AGENT = "image-classification-course (python urllib)"

NETWORK_TIMEOUT = 15.0
"""Seconds without data before a download by Keras (dataset or weights) is given up."""

UNAVAILABLE = (OSError, EOFError, ValueError, zipfile.BadZipFile, tarfile.TarError, pickle.UnpicklingError)
"""What "this file cannot be had or read here" raises: network and file errors (``URLError`` and
timeouts are ``OSError``), truncated or damaged archives, unparseable contents."""


class DownloadError(RuntimeError):
    """A download failed; the message says why and what to do."""


def _hasher(file_hash: str | None):
    """A fresh hash object for ``file_hash``: 64 hex digits = SHA-256, 32 = MD5 (as Keras decides)."""
    if file_hash is None or len(file_hash) == 64:
        return hashlib.sha256()
    if len(file_hash) == 32:
        return hashlib.md5(usedforsecurity=False)
    raise ValueError(f"A file hash must have 64 (SHA-256) or 32 (MD5) hex digits, got {file_hash!r}.")


def hash_of(path: Path | str, like: str | None = None) -> str:
    """The hex digest of a file (SHA-256, or MD5 when ``like`` is a 32-digit MD5), read in chunks."""
    digest = _hasher(like)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "not available" (see :data:`UNAVAILABLE`), False for bugs.

    Keras's ``get_file`` reports a failed fetch as a bare ``Exception("URL fetch failure...")``,
    so that exact class counts too; its subclasses (``NameError``, ``KeyError``...) do not.
    """
    return isinstance(exc, UNAVAILABLE) or type(exc) is Exception


def reason(exc: BaseException) -> str:
    """``'OSError: network unreachable'``: the class and message of a failure, for a banner."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def socket_timeout(seconds: float = NETWORK_TIMEOUT) -> Iterator[None]:
    """Give up on a silent connection after ``seconds`` while the block runs (for Keras's own downloads)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` if needed and make sure files can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DownloadError(
            f"Cannot write to {folder} ({exc.strerror or exc}). Choose a folder you own (e.g. --to ~/course-data) "
            "or fix its permissions."
        ) from None


def disk_error(exc: OSError, target: Path) -> DownloadError | None:
    """A clear message for a full disk or a write-protected target (None for other errors)."""
    if exc.errno == errno.ENOSPC:
        try:
            free = f"{shutil.disk_usage(target.parent).free / 1e6:,.0f} MB free"
        except OSError:
            free = "free space unknown"
        return DownloadError(
            f"The disk is full while writing {target} ({free}). Free some space or pass a folder on a bigger "
            "disk with --to, then re-run: nothing half-written was kept."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(f"Cannot write {target} ({exc.strerror}). Choose a folder you own.")
    return None


def download(
    url: str,
    target: Path | str,
    file_hash: str | None = None,
    timeout: float = 30.0,
    description: str | None = None,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``target`` atomically, verifying ``file_hash`` (SHA-256 or MD5) when given.

    An existing ``target`` with the right checksum (or any existing one when no checksum
    is known) is kept, so re-running is cheap. Raises :class:`DownloadError` with a clear
    message on a network failure, a truncated transfer, a checksum mismatch, a full disk
    or an unwritable folder; in every case no partial file is left behind.
    """
    target = Path(target)
    expected = file_hash.lower() if file_hash else None
    digest = _hasher(expected)
    if target.is_file() and (expected is None or hash_of(target, expected) == expected):
        return target
    ensure_writable(target.parent)
    part = target.with_name(target.name + ".part")
    received = 0
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with (
                open(part, "wb") as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=description or target.name,
                    disable=not progress,
                    leave=False,
                ) as bar,
            ):
                while True:
                    try:
                        block = response.read(CHUNK)
                    except http.client.IncompleteRead as exc:
                        received += len(exc.partial)
                        raise DownloadError(_truncated(url, received, total)) from None
                    if not block:
                        break
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    bar.update(len(block))
        if total is not None and received != total:
            raise DownloadError(_truncated(url, received, total))
        if expected is not None and digest.hexdigest() != expected:
            raise DownloadError(
                f"Checksum mismatch for {url}: expected {digest.name} {expected}, got {digest.hexdigest()} "
                f"({received:,} bytes). The file is damaged or was replaced at the source; nothing was kept. "
                "Re-run to try again; if it keeps happening, report it."
            )
        os.replace(part, target)
    except DownloadError:
        _remove(part)
        raise
    except urllib.error.HTTPError as exc:
        _remove(part)
        raise DownloadError(f"Download of {url} failed: HTTP {exc.code} {exc.reason}.") from None
    except urllib.error.URLError as exc:
        _remove(part)
        raise DownloadError(
            f"Cannot reach {url} ({exc.reason}). Check the internet connection (or a proxy), then re-run."
        ) from None
    except OSError as exc:
        _remove(part)
        raise disk_error(exc, target) or DownloadError(
            f"Download of {url} failed: {exc}. Re-run to try again."
        ) from None
    except BaseException:  # Ctrl-C or anything else: never leave the partial file
        _remove(part)
        raise
    return target


def _truncated(url: str, received: int, total: int | None) -> str:
    expected = f"{total:,}" if total is not None else "more"
    return (
        f"The transfer of {url} stopped early: {received:,} of {expected} bytes arrived. Nothing was kept; "
        "re-run to try again (a flaky connection or a proxy cutting large files are the usual causes)."
    )


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
