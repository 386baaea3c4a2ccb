"""Chapter 09: the cosine-similarity threshold above which two photos count as near-duplicates.

A phone burst is several near-identical photos; if one lands in training and another in the
test photos, the test score is inflated. The chapter groups photos whose embeddings (the frozen
``MobileNet(alpha=0.25)`` ImageNet base, global average pooling, 224 px) are more similar than a
threshold and keeps each group on one side of the split. This script chooses that threshold:

1. ``--per-class`` flower photos of every class (seeded) are the originals; each gets a burst of
   edited copies, saved as JPEGs like a phone would: brighter or darker (x0.8 / x1.2), a small
   crop (92% of each side, off centre), re-encoded at JPEG quality 60, rotated by 3 degrees, and
   all four together;
2. every photo is embedded; cosine similarity is measured for burst pairs (an original and one of
   its copies, and two copies of one original) and for distinct photos of the same class (every
   pair of two originals of one class: the hardest distinct pairs a folder has);
3. the originals are split in two halves by a seeded draw. The threshold is chosen on the first
   half only, for a split that keeps each group (photos joined through pairs at or above the
   threshold, single linkage) on one side: the one, in steps of 0.01, with the fewest copies left
   outside their original's group (a burst split across training and test) plus originals joined
   to another original's group (distinct photos forced to one side). Both error rates are reported
   on the other half, per group and per pair.

No test photo of any chapter is involved. The edited copies go to ``--out`` (outside the
repository).

    python benchmarks/bench_near_duplicates.py --flowers DIR/datasets/flowers \
        --weights DIR/weights/mobilenet_2_5_224_tf_no_top.h5 --out /tmp/bursts [--record]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = 224


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _crop(image: Image.Image, keep: float = 0.92, where: float = 0.75) -> Image.Image:
    width, height = image.size
    w, h = round(width * keep), round(height * keep)
    left, top = round((width - w) * where), round((height - h) * (1 - where))
    return image.crop((left, top, left + w, top + h))


def _rotate(image: Image.Image, degrees: float = 3.0) -> Image.Image:
    # rotate, then crop the middle so that no black corners show (as a camera tilted a little would)
    turned = image.rotate(degrees, resample=Image.Resampling.BILINEAR)
    return _crop(turned, keep=0.9, where=0.5)


EDITS = {
    "brighter": lambda im: ImageEnhance.Brightness(im).enhance(1.2),
    "darker": lambda im: ImageEnhance.Brightness(im).enhance(0.8),
    "crop": _crop,
    "quality60": lambda im: _jpeg(im, 60),
    "rotate3": _rotate,
    "all": lambda im: _jpeg(_rotate(_crop(ImageEnhance.Brightness(im).enhance(1.15))), 60),
}


def make_bursts(flowers: Path, out: Path, per_class: int, seed: int) -> list[dict]:
    """Originals (copied as they are) and their edited copies, saved at JPEG quality 90, one row each."""
    rows = []
    for label in sorted(p.name for p in flowers.iterdir() if p.is_dir()):
        paths = sorted((flowers / label).glob("*.jpg"))
        for path in random.Random(f"{seed}-{label}").sample(paths, per_class):
            target_dir = out / label
            target_dir.mkdir(parents=True, exist_ok=True)
            with Image.open(path) as image:
                original = image.convert("RGB")
            rows.append({"path": path, "label": label, "original": path.stem, "edit": "original"})
            for edit, function in EDITS.items():
                target = target_dir / f"{path.stem}_{edit}.jpg"
                function(original).save(target, quality=90)
                rows.append({"path": target, "label": label, "original": path.stem, "edit": edit})
    return rows


def embed(paths: list[Path], weights: Path, batch: int = 64) -> np.ndarray:
    """Unit-length embeddings: the frozen MobileNet alpha=0.25 with the given ImageNet weights, average pooling."""
    import keras

    from helpers.inference import load_image

    base = keras.applications.MobileNet(
        alpha=0.25, include_top=False, pooling="avg", weights=str(weights), input_shape=(SIZE, SIZE, 3)
    )
    out = []
    for start in range(0, len(paths), batch):
        x = np.stack([load_image(p, SIZE) for p in paths[start : start + batch]])
        x = keras.applications.mobilenet.preprocess_input(x)
        out.append(np.asarray(base.predict(x, verbose=0)))
    vectors = np.concatenate(out)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def pairs(rows: list[dict], vectors: np.ndarray, originals: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of burst pairs and of distinct same-class pairs, among the given originals."""
    similarity = vectors @ vectors.T
    burst, distinct = [], []
    index = [i for i, row in enumerate(rows) if row["original"] in originals]
    for a_pos, a in enumerate(index):
        for b in index[a_pos + 1 :]:
            ra, rb = rows[a], rows[b]
            if ra["original"] == rb["original"]:
                burst.append(similarity[a, b])
            elif ra["label"] == rb["label"] and ra["edit"] == rb["edit"] == "original":
                distinct.append(similarity[a, b])
    return np.array(burst), np.array(distinct)


def choose_threshold(rows: list[dict], vectors: np.ndarray, originals: set[str]) -> tuple[float, dict]:
    """The threshold (0.86-0.98, steps of 0.01) with the fewest errors of a split that keeps groups on one
    side: copies left outside their original's group plus originals joined to another original's group,
    counted as shares and weighted alike; and the rates at every threshold tried."""
    tried = {
        float(t): group_rates(rows, vectors, originals, float(t)) for t in np.round(np.arange(0.86, 0.985, 0.01), 2)
    }
    best = min(tried, key=lambda t: tried[t]["copies_outside_their_group"] + tried[t]["originals_joined_to_another"])
    return best, tried


def rates(burst, distinct, threshold) -> dict:
    return {
        "burst_pairs": len(burst),
        "distinct_pairs": len(distinct),
        "bursts_missed": float(np.mean(burst < threshold)),
        "distinct_grouped": float(np.mean(distinct >= threshold)),
    }


def group_rates(rows: list[dict], vectors: np.ndarray, originals: set[str], threshold: float) -> dict:
    """What a split that keeps groups on one side would do: photos joined through pairs at or above the
    threshold (single linkage, across classes too); the share of edited copies left outside their
    original's group (a burst split across training and test) and of originals joined to another original."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    index = [i for i, row in enumerate(rows) if row["original"] in originals]
    sub = vectors[index]
    linked = sub @ sub.T >= threshold
    _, group = connected_components(csr_matrix(linked), directed=False)
    group_of_original = {rows[i]["original"]: group[k] for k, i in enumerate(index) if rows[i]["edit"] == "original"}
    copies = [
        (group[k], group_of_original[rows[i]["original"]]) for k, i in enumerate(index) if rows[i]["edit"] != "original"
    ]
    original_groups = list(group_of_original.values())
    shared = {g for g in original_groups if original_groups.count(g) > 1}
    return {
        "copies_outside_their_group": float(np.mean([a != b for a, b in copies])),
        "originals_joined_to_another": float(np.mean([g in shared for g in original_groups])),
        "largest_group": int(np.bincount(group).max()),
    }


def threshold_counts(vectors: np.ndarray, thresholds) -> dict:
    """For each cosine threshold: photos with a near-duplicate, groups of linked photos, the largest group."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1)
    found = {}
    for threshold in thresholds:
        linked = similarity >= threshold
        _, group = connected_components(csr_matrix(linked), directed=False)
        sizes = np.bincount(group)
        found[f"{threshold:.2f}"] = {
            "photos_with_a_near_duplicate": int(linked.any(axis=1).sum()),
            "groups": int(np.sum(sizes > 1)),
            "largest_group": int(sizes.max()),
        }
    return found


def folder_groups(folder: Path, weights: Path, thresholds) -> dict:
    """What each threshold does on a whole real folder: photos with a near-duplicate, groups, the largest group."""
    from helpers.images import list_images

    paths = [p for label in sorted(folder.iterdir()) if label.is_dir() for p in list_images(label)]
    return {"photos": len(paths), **threshold_counts(embed(paths, weights), thresholds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flowers", type=Path, required=True)
    parser.add_argument("--weights", type=Path, required=True, help="mobilenet_2_5_224_tf_no_top.h5")
    parser.add_argument("--out", type=Path, required=True, help="where the edited copies go (outside the repository)")
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--json", type=Path, help="also write the similarities' summary here")
    parser.add_argument("--folder", action="append", default=[], help="NAME=DIR: also group a whole real folder")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_HOME", str(args.out / "keras-home"))

    start = time.time()
    rows = make_bursts(args.flowers, args.out, args.per_class, args.seed)
    cache = args.out / f"vectors_{args.per_class}_{args.seed}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        vectors = embed([row["path"] for row in rows], args.weights)
        np.save(cache, vectors)
    seconds = time.time() - start
    originals = sorted({row["original"] for row in rows})
    random.Random(args.seed).shuffle(originals)
    halves = {"choose": set(originals[: len(originals) // 2]), "check": set(originals[len(originals) // 2 :])}
    measured = {name: pairs(rows, vectors, chosen) for name, chosen in halves.items()}
    threshold, _ = choose_threshold(rows, vectors, halves["choose"])
    result = {"threshold": threshold, "photos": len(rows), "seconds": round(seconds, 1)}
    for name, (burst, distinct) in measured.items():
        result[name] = rates(burst, distinct, threshold) | group_rates(rows, vectors, halves[name], threshold)
        result[name]["burst_min"] = float(burst.min())
        result[name]["burst_percentiles_1_5"] = [float(np.percentile(burst, q)) for q in (1, 5)]
        result[name]["distinct_percentiles_99_99.9_max"] = [
            float(np.percentile(distinct, 99)),
            float(np.percentile(distinct, 99.9)),
            float(distinct.max()),
        ]
    burst_all = np.concatenate([measured[n][0] for n in halves])
    edits = [row["edit"] for row in rows]
    similarity = vectors @ vectors.T
    per_edit = {}
    for edit in EDITS:
        sims = [
            similarity[i, j]
            for i, row in enumerate(rows)
            if row["edit"] == "original"
            for j in range(i + 1, i + 1 + len(EDITS))
            if edits[j] == edit
        ]
        per_edit[edit] = {
            "mean": float(np.mean(sims)),
            "min": float(np.min(sims)),
            "missed": float(np.mean(np.array(sims) < threshold)),
        }
    result["per_edit_vs_original"] = per_edit
    distinct_all = np.concatenate([measured[n][1] for n in halves])
    result["curve"] = {
        f"{t:.2f}": rates(burst_all, distinct_all, t) | group_rates(rows, vectors, halves["check"], t)
        for t in np.round(np.arange(0.86, 0.985, 0.01), 2)
    }
    for item in args.folder:
        name, _, path = item.partition("=")
        result[f"folder_{name}"] = folder_groups(Path(path), args.weights, np.round(np.arange(0.90, 0.985, 0.01), 2))
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.record:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import report

        check = result["check"]
        values = {
            "ch09.near_duplicates.threshold": threshold,
            "ch09.near_duplicates.bursts_missed": round(100 * check["bursts_missed"], 1),
            "ch09.near_duplicates.distinct_grouped": round(100 * check["distinct_grouped"], 2),
            "ch09.near_duplicates.burst_pairs": check["burst_pairs"],
            "ch09.near_duplicates.distinct_pairs": check["distinct_pairs"],
            "ch09.near_duplicates.originals": len(originals),
            "ch09.near_duplicates.copies_split": round(100 * check["copies_outside_their_group"], 1),
            "ch09.near_duplicates.originals_joined": round(100 * check["originals_joined_to_another"], 1),
        }
        units = {k: "%" if k.endswith(("missed", "grouped", "split", "joined")) else "" for k in values}
        formats = {
            "ch09.near_duplicates.threshold": ".2f",
            "ch09.near_duplicates.bursts_missed": ".1f",
            "ch09.near_duplicates.distinct_grouped": ".2f",
            "ch09.near_duplicates.copies_split": ".1f",
            "ch09.near_duplicates.originals_joined": ".1f",
            "ch09.near_duplicates.burst_pairs": ",",
            "ch09.near_duplicates.distinct_pairs": ",",
        }
        report.record(
            values,
            script="benchmarks/bench_near_duplicates.py",
            how=f"cosine similarity of frozen MobileNet alpha=0.25 ImageNet embeddings (avg pooling, {SIZE} px); "
            f"{len(originals)} flower photos ({args.per_class} per class) each with 6 edited copies (brightness x0.8/x1.2, "
            "92% crop, JPEG quality 60, 3-degree rotation, all together); threshold = fewest copies split from "
            "their original's group + originals joined to another (single linkage) on one half of the originals; "
            "error rates on the other half (groups, and pairs)",
            units=units,
            formats=formats,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
