"""Data-cleaning decisions kept in a CSV file, and a small widget to make them (chapter 08).

The original images are never touched: a decision (keep, relabel, remove) is one row of a
CSV file in the learner's writable course folder, keyed by the image's path relative to the
dataset folder (``roses/123.jpg``). Re-running a notebook reads the file back; a decision can
be undone. The widget uses only what ipywidgets 7 and 8 both have.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from helpers import model_store

DECISIONS = ("keep", "relabel", "remove")
COLUMNS = ("file", "decision", "label", "note")


class Decision(NamedTuple):
    """One image's fate: ``decision`` is keep, relabel or remove; ``label`` the class it ends in."""

    file: str
    decision: str
    label: str
    note: str = ""


class DecisionsFileError(ValueError):
    """A decisions CSV that cannot be read; the message says where and how to fix it."""


def decisions_dir() -> Path:
    """The writable folder for decision files: ``decisions/`` inside the course models folder."""
    return model_store.models_dir() / "decisions"


def _check(decision: Decision, class_names: Sequence[str] | None, where: str) -> Decision:
    if not decision.file:
        raise DecisionsFileError(f"{where}: the 'file' column is empty; it names an image, e.g. 'roses/123.jpg'.")
    if decision.decision not in DECISIONS:
        raise DecisionsFileError(
            f"{where}: decision {decision.decision!r} for {decision.file} is not one of {', '.join(DECISIONS)}."
        )
    if class_names is not None and decision.decision != "remove" and decision.label not in class_names:
        raise DecisionsFileError(
            f"{where}: label {decision.label!r} for {decision.file} is not a class of this dataset "
            f"({', '.join(class_names)})."
        )
    return decision


def read_decisions(path: Path | str, class_names: Sequence[str] | None = None) -> dict[str, Decision]:
    """The decisions in ``path`` as ``{file: Decision}``; ``{}`` (with a message) when there is no file yet.

    Raises :class:`DecisionsFileError` naming the row and the problem when the file is malformed,
    so that a hand-edited file never loses a decision silently.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        print(f"No decisions yet: {path} does not exist (it is created when you make the first decision).")
        return {}
    too_long: list[list[str]] = []
    try:  # every value as text; a row with too many values goes to too_long, a short one gets NaN
        rows = pd.read_csv(
            path,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="python",
            encoding="utf-8",
            on_bad_lines=too_long.append,
        )
    except pd.errors.EmptyDataError:
        rows = pd.DataFrame()
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DecisionsFileError(f"Could not read {path} ({exc}). Move it aside and start again.") from exc
    header = [str(value).strip() for value in rows.iloc[0]] if len(rows) else []
    missing = [column for column in ("file", "decision", "label") if column not in header]
    if missing:
        raise DecisionsFileError(
            f"{path} is not a decisions file: its first line should be the header "
            f"'{','.join(COLUMNS)}', but the columns {missing} are missing (found {header or 'an empty file'}). "
            "Fix the header, or move the file aside to start again."
        )
    if too_long:
        raise DecisionsFileError(
            f"{path}: the row {','.join(too_long[0])!r} has {len(too_long[0])} values, but the header has "
            f"{len(header)} ({','.join(header)}). Put quotes around a note that contains a comma."
        )
    found: dict[str, Decision] = {}
    for line_number, values in enumerate(rows.iloc[1:].itertuples(index=False), start=2):
        given = [value for value in values if isinstance(value, str)]
        if not given:  # a blank line
            continue
        if len(given) != len(header):
            raise DecisionsFileError(
                f"{path}, line {line_number}: expected {len(header)} comma-separated values "
                f"({','.join(header)}), got {len(given)}."
            )
        row = dict(zip(header, (value.strip() for value in given)))
        decision = Decision(row["file"], row["decision"], row["label"], row.get("note", ""))
        found[decision.file] = _check(decision, class_names, f"{path}, line {line_number}")
    return found


def write_decisions(path: Path | str, decisions: dict[str, Decision]) -> Path:
    """Write ``decisions`` to ``path`` (through a temporary file: never half a file); returns the path."""
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(sorted(decisions.values()), columns=list(COLUMNS))
    model_store.write_atomic(path, lambda temp: table.to_csv(temp, index=False, lineterminator="\n"))
    return path


class DecisionLog:
    """The decisions of one dataset, saved to ``path`` after every change, with undo."""

    def __init__(self, path: Path | str, class_names: Sequence[str]):
        self.path = Path(path)
        self.class_names = list(class_names)
        self.decisions = read_decisions(self.path, self.class_names)
        self._undo: list[tuple[str, Decision | None]] = []

    def decide(self, file: str, decision: str, label: str, note: str = "") -> Decision:
        """Record a decision for ``file`` (replacing an earlier one) and save the file."""
        new = _check(Decision(str(file), decision, label, note), self.class_names, "decision")
        self._undo.append((new.file, self.decisions.get(new.file)))
        self.decisions[new.file] = new
        write_decisions(self.path, self.decisions)
        return new

    def undo(self) -> str | None:
        """Take back the last decision of this session; returns its file (None if nothing to undo)."""
        if not self._undo:
            return None
        file, previous = self._undo.pop()
        if previous is None:
            self.decisions.pop(file, None)
        else:
            self.decisions[file] = previous
        write_decisions(self.path, self.decisions)
        return file

    def __len__(self) -> int:
        return len(self.decisions)


def course_decisions(name: str, class_names: Sequence[str] | None = None) -> dict[str, Decision]:
    """The decisions the course ships in ``data/<name>`` (from the repository, else downloaded once).

    Offline and without a repository checkout it says so and returns ``{}``.
    """
    local = Path(__file__).resolve().parent.parent / "data" / name
    if local.is_file():
        return read_decisions(local, class_names)
    from helpers import course

    if course.offline():
        print(f"The course's decisions ({name}) are not here and COURSE_OFFLINE=1 is set: using none.")
        return {}
    try:
        import keras

        path = keras.utils.get_file(f"course-{name}", origin=f"{course.REPO_URL}/raw/main/data/{name}")
    except Exception as exc:  # noqa: BLE001 - any failure means "no decisions", said in one line
        print(f"Could not download the course's decisions ({type(exc).__name__}): using none.")
        return {}
    return read_decisions(path, class_names)


def apply_decisions(files: Sequence[str], labels: Sequence[int], class_names: Sequence[str], decisions: dict):
    """``(kept_indices, new_labels)``: removed images dropped, relabelled ones given their new class."""
    if len(files) != len(labels):
        raise ValueError(
            f"files and labels differ in length ({len(files)} and {len(labels)}): pass one label per file."
        )
    class_names = list(class_names)
    for file, decision in decisions.items():
        if decision.decision != "remove" and decision.label not in class_names:
            raise ValueError(
                f"The decision for {file} gives it the class {decision.label!r}, which is not a class of this "
                f"dataset ({', '.join(class_names)}). Fix that row of the decisions file, or pass this dataset's "
                "class names."
            )
    kept, new_labels = [], []
    for index, (file, label) in enumerate(zip(files, labels)):
        decision = decisions.get(file)
        if decision is not None and decision.decision == "remove":
            continue
        kept.append(index)
        new_labels.append(class_names.index(decision.label) if decision is not None else int(label))
    return kept, new_labels


def _png_bytes(image) -> bytes:
    import numpy as np
    from PIL import Image

    array = np.clip(np.asarray(image), 0, 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


class CleaningTool:
    """One suspicious image at a time with keep / relabel / remove / undo buttons.

    ``files`` are keys relative to the dataset folder, ``labels`` their current class
    names, ``load_image(i)`` returns image ``i`` as an (h, w, 3) array of 0-255 pixels and
    ``captions`` add a line of text per image (e.g. the model's guess and the loss).
    """

    def __init__(
        self,
        log: DecisionLog,
        files: Sequence[str],
        labels: Sequence[str],
        load_image: Callable[[int], object],
        captions: Sequence[str] | None = None,
    ):
        import ipywidgets as widgets

        if len(files) != len(labels):
            raise ValueError(f"files and labels differ in length ({len(files)} and {len(labels)}).")
        self.log, self.files, self.labels = log, list(files), list(labels)
        self.load_image, self.captions = load_image, list(captions or [""] * len(files))
        self.position = 0
        self.image = widgets.Image(format="png", width=300)
        self.info = widgets.HTML()
        self.new_label = widgets.Dropdown(options=log.class_names, description="new label")
        self.buttons = {}
        for name, style in (("keep", "success"), ("relabel", "warning"), ("remove", "danger")):
            button = widgets.Button(description=name, button_style=style)
            button.on_click(lambda _, name=name: self.decide(name))
            self.buttons[name] = button
        self.previous_button = widgets.Button(description="◀ previous")
        self.next_button = widgets.Button(description="next ▶")
        self.undo_button = widgets.Button(description="undo")
        self.previous_button.on_click(lambda _: self.go(self.position - 1))
        self.next_button.on_click(lambda _: self.go(self.position + 1))
        self.undo_button.on_click(lambda _: self.undo())
        self.status = widgets.HTML()
        self.widget = widgets.VBox(
            [
                self.image,
                self.info,
                widgets.HBox([self.buttons["keep"], self.new_label, self.buttons["relabel"], self.buttons["remove"]]),
                widgets.HBox([self.previous_button, self.next_button, self.undo_button]),
                self.status,
            ]
        )
        if self.files:
            self.go(0)
        else:
            self.info.value = "Nothing to review."

    def current_decision(self) -> Decision | None:
        return self.log.decisions.get(self.files[self.position]) if self.files else None

    def go(self, position: int) -> None:
        """Show image ``position`` (clamped to the list)."""
        if not self.files:
            return
        self.position = min(max(position, 0), len(self.files) - 1)
        file, label = self.files[self.position], self.labels[self.position]
        self.image.value = _png_bytes(self.load_image(self.position))
        others = [name for name in self.log.class_names if name != label]
        if self.new_label.value == label and others:
            self.new_label.value = others[0]
        decided = self.current_decision()
        state = f"decided: <b>{decided.decision}</b> ({html.escape(decided.label)})" if decided else "not decided yet"
        self.info.value = (
            f"<b>{self.position + 1} / {len(self.files)}</b> &nbsp; {html.escape(file)}<br>"
            f"label: <b>{html.escape(label)}</b> &nbsp; {html.escape(self.captions[self.position])}<br>{state}"
        )

    def decide(self, decision: str) -> None:
        """Record ``decision`` for the image shown, then move to the next one."""
        file, label = self.files[self.position], self.labels[self.position]
        new_label = self.new_label.value if decision == "relabel" else label
        made = self.log.decide(file, decision, new_label)
        self.status.value = (
            f"saved: {html.escape(made.file)} &rarr; {made.decision} ({html.escape(made.label)}) "
            f"&nbsp; {self._count()} in {html.escape(str(self.log.path))}"
        )
        self.go(self.position + 1)

    def undo(self) -> None:
        """Take back the last decision and show its image again."""
        file = self.log.undo()
        if file is None:
            self.status.value = "nothing to undo"
            return
        self.status.value = f"undone: {html.escape(file)} &nbsp; {self._count()} in {html.escape(str(self.log.path))}"
        if file in self.files:
            self.go(self.files.index(file))

    def _count(self) -> str:
        return f"{len(self.log)} decision{'' if len(self.log) == 1 else 's'}"
