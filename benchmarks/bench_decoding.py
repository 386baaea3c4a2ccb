"""Chapter 09: seconds per 100 twelve-megapixel photos for the data checks and the loading.

Phone photos are about 4032x3024 pixels (12 megapixels); the model sees 224x224. This script
makes such photos from flower photos by upscaling (``--make N``: N photos, JPEG quality 90,
written under ``--photos``, outside the repository), then times, in one run and interleaved
(each round runs every variant once over all photos, in a fresh order):

- ``before``: the chapter's checks (``inspect_file``: hash + full decode) and then
  ``load_image(path, 224)``: every file decoded in full twice;
- ``draft``: PIL's JPEG draft mode (``Image.draft``: the decoder scales by 1/2, 1/4 or 1/8
  while decoding) + the EXIF rotation + the same resize, alone: the goal;
- ``after``: the chapter's new one-decode path, when ``--after-chapter NOTEBOOK`` names the chapter
  that has it: its ``fingerprint`` (hash, HEIC check) and ``read_photo`` (one decode, draft mode,
  pixels kept for training); run with ``PYTHONPATH`` at that branch so its ``helpers`` are used.

    python benchmarks/bench_decoding.py --flowers DIR/datasets/flowers --photos /tmp/12mp --make 80
    PYTHONPATH=/path/to/branch python benchmarks/bench_decoding.py --photos /tmp/12mp --rounds 3 \
        [--after-chapter /path/to/branch/solutions/09_your_own_classifier.ipynb] [--record]

``--record`` writes ``ch09.decode.*`` into ``benchmarks/results.json``; ratios are within one run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: with PYTHONPATH=<branch>, that branch's helpers are timed

WIDTH, HEIGHT = 4032, 3024


def make_photos(flowers: Path, out: Path, n: int, seed: int = 0, quality: int = 90) -> list[Path]:
    """n flower photos upscaled to 4032x3024 (landscape) JPEGs, chosen across the classes with a fixed seed."""
    paths = sorted(p for p in flowers.glob("*/*.jpg"))
    chosen = random.Random(seed).sample(paths, n)
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for i, path in enumerate(chosen):
        with Image.open(path) as image:
            big = ImageOps.fit(image.convert("RGB"), (WIDTH, HEIGHT), Image.Resampling.BICUBIC)
        target = out / f"{path.parent.name}_{i:03d}.jpg"
        big.save(target, quality=quality)
        made.append(target)
    return made


def draft_load(path: Path, image_size: int) -> np.ndarray:
    """The goal: JPEG draft decoding (at least 2x the target a side), EXIF rotation, then the same resize as load_image."""
    with Image.open(path) as image:
        image.draft("RGB", (2 * image_size, 2 * image_size))  # only JPEGs; a no-op for other formats
        image = ImageOps.exif_transpose(image).convert("RGB")
        resized = image.resize((image_size, image_size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.float32)


def full_load(path: Path, image_size: int) -> np.ndarray:
    """``load_image(path, size)`` as chapter 09 had it: a full decode (``read_image`` without a draft size), then the resize."""
    from helpers.images import read_image

    pixels = read_image(path)
    resized = Image.fromarray(pixels).resize((image_size, image_size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.float32)


def variants(after_chapter: Path | None):
    from tools.testing import notebook_functions

    chapter = notebook_functions(ROOT / "solutions" / "09_your_own_classifier.ipynb", "inspect_file")

    def before(path, image_size):
        chapter.inspect_file(path)  # the checks: hash + a full decode
        return full_load(path, image_size)  # then loading: another full decode

    found = {"before": before, "draft": draft_load}
    if after_chapter:
        new = notebook_functions(after_chapter, "fingerprint", "read_photo")

        def after(path, image_size):
            new.fingerprint(path)  # hash + HEIC/extension check (no decode)
            return new.read_photo(path, image_size)["pixels"]  # the one decode, kept for training

        found["after"] = after
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, required=True, help="folder of 12-megapixel JPEGs (made by --make)")
    parser.add_argument("--flowers", type=Path, help="the tf_flowers folder, to --make photos from")
    parser.add_argument("--make", type=int, default=0, help="make this many 12-megapixel photos first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--after-chapter", type=Path, help="chapter 09 notebook with fingerprint and read_photo")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    if args.make:
        if not args.flowers:
            parser.error("--make needs --flowers")
        start = time.time()
        make_photos(args.flowers, args.photos, args.make)
        print(f"made {args.make} photos of {WIDTH}x{HEIGHT} in {time.time() - start:.0f} s")
    paths = sorted(args.photos.glob("*.jpg"))
    if not paths:
        parser.error(f"no .jpg in {args.photos}: make them with --flowers DIR --make 80")
    found = variants(args.after_chapter)
    differences = {}
    for name in found:  # the pixels each path gives, against a full decode: how far draft mode moves them
        if name != "before":
            diff = [
                np.abs(np.asarray(found[name](p, args.size), np.float32) - full_load(p, args.size)) for p in paths[:8]
            ]
            differences[name] = (float(np.mean(diff)), float(np.max(diff)))
            print(
                f"{name}: mean |difference| from a full decode {differences[name][0]:.2f} of 255 (max {differences[name][1]:.0f})"
            )
    seconds = {name: [] for name in found}
    rng = random.Random(1)
    for round_ in range(args.rounds):
        order = list(found)
        rng.shuffle(order)
        for name in order:
            files = paths[:]
            rng.shuffle(files)
            start = time.perf_counter()
            for path in files:
                found[name](path, args.size)
            seconds[name].append(100 * (time.perf_counter() - start) / len(files))
        print(f"round {round_ + 1}: " + ", ".join(f"{n} {seconds[n][-1]:.2f} s/100" for n in found), flush=True)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    print(f"\n{len(paths)} photos of {WIDTH}x{HEIGHT}, median of {args.rounds} rounds ({load}):")
    for name, value in median.items():
        print(f"  {name:7s} {value:6.2f} s per 100 photos  ({value / median['draft']:.2f}x the draft goal)")
    if args.record:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import report

        values = {f"ch09.decode.{name}_seconds_per_100": round(value, 2) for name, value in median.items()}
        values["ch09.decode.before_vs_draft"] = round(median["before"] / median["draft"], 1)
        if "after" in median:
            values["ch09.decode.after_vs_draft"] = round(median["after"] / median["draft"], 2)
            values["ch09.decode.before_vs_after"] = round(median["before"] / median["after"], 1)
        values["ch09.decode.photos"] = len(paths)
        for name, (mean, _) in differences.items():
            values[f"ch09.decode.{name}_pixel_difference"] = round(mean, 2)
        units = {
            key: ("×" if "_vs_" in key else "" if key.endswith(("photos", "difference")) else "s") for key in values
        }
        formats = {
            key: (".1f" if units[key] in ("s", "×") else ".2f" if key.endswith("difference") else "") for key in values
        }
        report.record(
            values,
            script="benchmarks/bench_decoding.py",
            how=f"{len(paths)} JPEGs of {WIDTH}x{HEIGHT} (flower photos upscaled, quality 90) to {args.size} px; "
            f"median of {args.rounds} interleaved rounds; before = chapter 09's inspect_file + load_image, "
            "draft = PIL draft mode + EXIF rotation + the same resize, after = the chapter's one-decode path "
            "(fingerprint + read_photo); pixel difference = mean absolute difference (0-255) from a full decode, 8 photos",
            machine_load=load + " (other engineers at work)",
            units=units,
            formats=formats,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
