"""helpers.images: every kind of file a learner may feed in."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from helpers.images import list_images, read_image

RGB = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "name, convert",
    [
        ("rgb.jpg", "RGB"),
        ("grey.png", "L"),
        ("rgba.png", "RGBA"),
        ("palette.gif", "P"),
        ("cmyk.jpg", "CMYK"),
        ("bw.bmp", "1"),
        ("pic.webp", "RGB"),
        ("pic.tiff", "RGB"),
    ],
)
def test_every_mode_comes_out_rgb_uint8(tmp_path, name, convert):
    Image.fromarray(RGB).convert(convert).save(tmp_path / name)
    image = read_image(tmp_path / name)
    assert image.shape == (40, 60, 3) and image.dtype == np.uint8


def test_jpeg_pixels_survive(tmp_path):
    Image.fromarray(RGB).save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), RGB)


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 40 * 60).reshape(40, 60).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    image = read_image(tmp_path / "deep.png")
    assert image.max() == 255 and image.min() == 0
    assert 100 < image[20, 30, 0] < 160  # mid-grey stays mid-grey


def test_transparent_pixels_become_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    assert (read_image(tmp_path / "clear.png") == 255).all()


def test_exif_rotation_is_applied(tmp_path):
    image = Image.fromarray(RGB)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "phone.jpg", exif=exif)
    assert read_image(tmp_path / "phone.jpg").shape == (60, 40, 3)


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    first = read_image(tmp_path / "anim.gif")
    assert first[0, 0, 0] > 200 and first[0, 0, 2] < 50


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("not really a picture"), "not an image"),
        (lambda p: p.write_bytes(_jpeg_bytes()[:300]), "truncated"),
        (lambda p: p.write_bytes(_jpeg_bytes()[:20] + b"\x00" * 2000), "not an image"),
        (lambda p: p.write_bytes(_png_with_damaged_data()), "corrupt"),
    ],
    ids=["empty", "text", "truncated", "garbled-header", "damaged-data"],
)
def test_bad_files_raise_valueerror_naming_the_file(tmp_path, make, fragment):
    path = tmp_path / "bad.jpg"
    make(path)
    with pytest.raises(ValueError) as info:
        read_image(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_huge_image_is_refused_before_decoding(tmp_path):
    Image.new("L", (3000, 3000)).save(tmp_path / "huge.png")
    with pytest.raises(ValueError, match="megapixel safety limit"):
        read_image(tmp_path / "huge.png", max_pixels=1_000_000)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(ValueError, match="is a folder"):
        read_image(tmp_path)


def test_list_images_skips_hidden_and_non_images(tmp_path):
    (tmp_path / ".ipynb_checkpoints").mkdir()
    Image.fromarray(RGB).save(tmp_path / ".hidden.jpg")
    Image.fromarray(RGB).save(tmp_path / "b.png")
    Image.fromarray(RGB).save(tmp_path / "A.JPG")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / "notes.txt").write_text("hi")
    assert [p.name for p in list_images(tmp_path)] == ["A.JPG", "b.png"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_images(tmp_path / "missing")


def _jpeg_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(RGB).save(buffer, format="JPEG")
    return buffer.getvalue()


def _png_with_damaged_data() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(RGB).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    start = data.find(b"IDAT") + 20
    data[start : start + 40] = b"\xff" * 40
    return bytes(data)


# ----------------------------------------------------------------- iPhone photos and big JPEGs
HEIC_BYTES = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


@pytest.mark.parametrize("name", ["IMG_0001.heic", "IMG_0001.jpg"], ids=["by-name", "renamed-to-jpg"])
def test_heic_without_pillow_heif_gets_the_advice(tmp_path, monkeypatch, name):
    from helpers import images

    monkeypatch.setitem(images._heif, "readable", False)  # as without pillow-heif
    (tmp_path / name).write_bytes(HEIC_BYTES)
    with pytest.raises(ValueError) as info:
        read_image(tmp_path / name)
    message = str(info.value)
    assert name in message and "HEIC" in message and "JPEG" in message and "pip install pillow-heif" in message


@pytest.mark.parametrize(
    "head, expected",
    [
        (HEIC_BYTES, True),
        (b"\x00\x00\x00\x18ftypmif1" + b"\x00" * 8, True),
        (b"\x00\x00\x00\x18ftypheix" + b"\x00" * 8, True),
        (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 8, False),  # an MP4 video
        (b"\xff\xd8\xff\xe0" + b"\x00" * 12, False),  # a JPEG
        (b"ftyp", False),
    ],
)
def test_heif_is_recognised_by_content(head, expected):
    from helpers.images import looks_like_heif

    assert looks_like_heif(head) is expected


def test_pillow_heif_is_used_when_installed(monkeypatch):
    import sys
    import types

    from helpers import images

    registered = []
    monkeypatch.setitem(
        sys.modules, "pillow_heif", types.SimpleNamespace(register_heif_opener=lambda: registered.append(1))
    )
    monkeypatch.delitem(images._heif, "readable", raising=False)
    assert images.heif_readable() and images.heif_readable() and registered == [1]  # registered once
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # not installed: import fails
    monkeypatch.delitem(images._heif, "readable")
    assert not images.heif_readable()


def test_draft_decoding_shrinks_big_jpegs_but_never_below_the_size_asked(tmp_path):
    big = np.kron(RGB, np.ones((20, 20, 1), np.uint8))  # 800 x 1200
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=90)
    Image.fromarray(big).save(tmp_path / "big.png")
    assert read_image(tmp_path / "big.jpg").shape == (800, 1200, 3)
    assert read_image(tmp_path / "big.jpg", draft_size=100).shape == (100, 150, 3)  # 1/8 scale
    assert read_image(tmp_path / "big.jpg", draft_size=300).shape == (400, 600, 3)  # 1/2: 1/4 would go below 300
    assert read_image(tmp_path / "big.png", draft_size=100).shape == (800, 1200, 3)  # only JPEGs have drafts
