"""Chapter 09 (your own classifier): the code the chapter teaches, kept for tests and benchmarks.

Every function here is written out in ``solutions/09_your_own_classifier.ipynb``, where
the learner reads it; ``tests/test_capstone.py`` checks that the two copies are identical
(d2l style). Nothing here deletes, moves or rewrites a learner's file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from helpers.images import IMAGE_EXTENSIONS
from helpers.inference import load_image

MIN_SIDE = 100
"""Photos whose shorter side is below this many pixels are reported as tiny."""


def find_files(folder):
    """Every visible file under folder/<class>/ as a table: path, class (None if outside a class folder)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} is not a folder. Set PHOTOS_DIR to a folder that holds one subfolder per class."
        )
    rows = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_dir() or any(part.startswith(".") for part in parts):
            continue  # hidden files and folders (.DS_Store, .ipynb_checkpoints) are not photos
        rows.append({"path": path, "label": parts[0] if len(parts) > 1 else None})
    return pd.DataFrame(rows, columns=["path", "label"])


def inspect_file(path, min_side=MIN_SIDE):
    """Read one file (never change it): its size in pixels, its SHA-256 hash and what is wrong with it, if anything."""
    path = Path(path)
    data = path.read_bytes()
    info = {"width": 0, "height": 0, "sha256": hashlib.sha256(data).hexdigest(), "problem": None}
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        info["problem"] = "not a photo"
        return info
    try:
        with Image.open(path) as image:
            info["width"], info["height"] = image.size
            image.load()  # decodes every pixel: finds truncated and corrupt files
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        info["problem"] = f"unreadable ({type(exc).__name__})"
        return info
    if min(info["width"], info["height"]) < min_side:
        info["problem"] = "tiny"
    return info


def check_photos(folder, min_side=MIN_SIDE):
    """One row per file: class, width, height, hash, problem, and whether training will use it."""
    photos = find_files(folder)
    details = pd.DataFrame([inspect_file(path, min_side) for path in photos["path"]], index=photos.index)
    photos = pd.concat([photos, details], axis=1)
    photos.loc[photos["label"].isna(), "problem"] = "outside the class folders"
    readable = photos["problem"].isna() | (photos["problem"] == "tiny")
    copies = photos[readable].groupby("sha256")["label"]
    n_labels = photos["sha256"].map(copies.nunique()).fillna(0)
    first_copy = ~photos[readable].duplicated("sha256").reindex(photos.index, fill_value=True)
    photos.loc[readable & (n_labels > 1), "problem"] = "same photo in two classes"
    photos.loc[readable & (n_labels == 1) & ~first_copy, "problem"] = "duplicate"
    photos["use"] = photos["problem"].isna() | (photos["problem"] == "tiny")
    return photos


WHAT_TO_DO = {
    "unreadable": "Open it in an image viewer. If it is a .heic photo from a phone, export it as JPEG; "
    "if it is broken, copy it again from its source. Training skips it.",
    "not a photo": "Fine if it is a note or a sidecar file: training skips it. If it is a photo, give it "
    "its real extension (.jpg, .png).",
    "outside the class folders": "Move it into the folder of its class; a photo's class is its folder's name. "
    "Training skips it.",
    "duplicate": "The same file appears more than once in one class. Training uses one copy, so that no "
    "photo ends up both in training and in testing; delete the extra copies when you like.",
    "same photo in two classes": "One file, two labels: decide which class is right and remove the other copy. "
    "Training skips all copies until then.",
    "tiny": "Shorter side below {min_side} px: it will be blown up to {image_size} px and look blurry. "
    "Use a larger copy if you have one; training uses it as it is.",
}


def report_problems(photos, image_size, min_side=MIN_SIDE, show=5):
    """Print each kind of problem once: how many files, a few of their names, and what to do."""
    found = photos["problem"].dropna()
    if found.empty:
        print("No problem found in the files.")
    for kind in WHAT_TO_DO:
        hits = photos.loc[found[found.str.startswith(kind)].index]
        if hits.empty:
            continue
        names = [str(Path(*Path(p).parts[-2:])) for p in hits["path"][:show]]
        more = f" and {len(hits) - show} more" if len(hits) > show else ""
        print(f"! {kind}: {len(hits)} file(s): {', '.join(names)}{more}")
        print("  What to do: " + WHAT_TO_DO[kind].format(min_side=min_side, image_size=image_size))
    return sorted(found.map(lambda problem: problem.split(" (")[0]).unique())


def report_classes(photos, min_photos=20, max_ratio=3.0):
    """Photos per class that training will use, with a warning for classes that are too small or rare."""
    counts = photos[photos["use"]].groupby("label").size().sort_values()
    classes = sorted(photos["label"].dropna().unique())
    counts = counts.reindex(classes, fill_value=0).sort_values()
    warnings = []
    if len(classes) < 2:
        warnings.append(f"Only {len(classes)} class folder(s): a classifier needs at least two.")
    for name, count in counts.items():
        if count < min_photos:
            warnings.append(f"'{name}' has {count} usable photos: aim for at least {min_photos}, better 100.")
    if len(counts) > 1 and counts.min() > 0 and counts.max() / counts.min() > max_ratio:
        warnings.append(
            f"Imbalance: '{counts.index[-1]}' has {counts.max() / counts.min():.1f}x as many photos as "
            f"'{counts.index[0]}'. Add photos to the small classes, and judge the model by per-class recall, "
            "not accuracy alone."
        )
    for warning in warnings:
        print("! " + warning)
    return counts, warnings


def stratified_split(photos, seed, val_fraction=0.15, test_fraction=0.15):
    """Split the usable photos into train, validation and test tables with the same class mix in each."""
    from sklearn.model_selection import train_test_split

    usable = photos[photos["use"]].reset_index(drop=True)
    rest, test = train_test_split(usable, test_size=test_fraction, stratify=usable["label"], random_state=seed)
    train, val = train_test_split(
        rest, test_size=val_fraction / (1 - test_fraction), stratify=rest["label"], random_state=seed
    )
    return train, val, test


def load_photos(paths, image_size):
    """Read and resize photos into one uint8 array (n, image_size, image_size, 3), as the app will."""
    images = np.zeros((len(paths), image_size, image_size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        images[i] = load_image(path, image_size).astype(np.uint8)
    return images


def build_classifier(base, preprocess_input, num_classes, image_size):
    """Chapter 05's recipe without augmentation: preprocess_input -> frozen base (inference mode) -> pooling -> dropout -> Dense."""
    import keras
    from keras import layers

    base.trainable = False
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = preprocess_input(inputs)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs, name="my_classifier")


def uploaded_files(value):
    """(file name, bytes) for each file in a FileUpload's value, from ipywidgets 7 or 8."""
    if isinstance(value, dict):  # ipywidgets 7: {name: {"content": bytes, "metadata": {...}}}
        return [(name, bytes(item["content"])) for name, item in value.items()]
    # ipywidgets 8: ({"name": ..., "content": memoryview, ...}, ...)
    return [(item["name"], bytes(item["content"])) for item in value]
