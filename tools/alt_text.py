"""Alt text for every figure the chapters draw, written into the cells' metadata.

Each figure a code cell draws gets, in ``solutions/NN_*.ipynb``, the cell metadata
``{"mystnb": {"image": {"alt": "..."}}}``: the course website (``tools/site.py``, Jupyter
Book's myst-nb) puts it on the figure's ``<img>``, so a screen reader says what the figure
shows. The texts live in the table below, keyed by chapter and cell id, written from the
code that draws each figure (what it shows, not the numbers of one run).

    python tools/alt_text.py           # write the table into solutions/ (idempotent), then
    python tools/notebooks.py --write  # regenerate notebooks/ (the learner copies keep the metadata)
    python tools/alt_text.py --check   # exit 1 when a cell lacks its alt text or an id is gone

Only cell metadata changes: the sources stay as they are, so it can be re-applied after
merging other edits to the chapters. A figure cell missing from the table fails the lint
(``tools/notebooks.py --check`` calls :func:`missing_alt`, which finds the cells that draw
with :func:`figure_cells`), and the site build fails on any image without alt text.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SOLUTIONS = ROOT / "solutions"

ALT: dict[str, dict[str, str]] = {
    "01": {
        "cell-009": "The first eight handwritten digits of the scikit-learn digits set, 8 by 8 pixels each, "
        "in a row, each titled with its class.",
        "2164150b": "One test image of an 8 beside three bar charts of what the three trained models answer: "
        "the binary model's single probability for 'is it an 8?', the multi-class model's ten softmax "
        "probabilities and the multi-label model's independent probability for each property. Bars that say "
        "yes (above 0.5, or the tallest softmax bar) are orange; each title gives the sum of the outputs.",
        "cell-036": "Six MNIST test digits in a row, each titled with the digit the reloaded model predicts.",
        "cell-043": "Fifteen CIFAR-10 training images, 32 by 32 pixels, in three rows of five, each titled "
        "with its class such as frog, truck or deer.",
        "cell-045": "Ten CIFAR-100 training images in a row, each titled with one of the 100 class names.",
        "cell-047": "Bar chart of the number of MNIST training images per digit 0 to 9: the ten bars are "
        "nearly but not exactly the same height.",
        "cell-054": "Ten flower photos from one batch of the folder dataset, in two rows of five, each "
        "titled with its class: daisy, dandelion, roses, sunflowers or tulips.",
    },
    "02": {
        "fdf0e77d": "Animation frame of the convolution loop: the 3 by 3 window on the edge image, the kernel "
        "and the output grid filling up one position per frame, with play and step buttons.",
        "cell-026": "Five panels: a photo, then the absolute responses of the Sobel x filter (vertical "
        "edges), the Sobel y filter (horizontal edges), the gradient magnitude and the Laplacian, drawn "
        "dark where the edges are strong.",
        "ch02-im2col-fig": "The patch matrix drawn: four coloured 3 by 3 windows on a 4 by 4 image, each "
        "becoming the row of the same colour in a 4 by 9 patch matrix, times the flattened kernel, giving "
        "four outputs that are put back as a 2 by 2 result.",
        "cell-058": "Two rows of small images: the input photo, then the eight most active feature maps of "
        "the first convolution (still picture-like, 30 by 30) and of the third (coarse 4 by 4 blocks).",
    },
    "03": {
        "ch03-gd-1d": "Three plots of the same U-shaped loss curve over one weight, with ten gradient-descent "
        "steps from w = -0.5: with learning rate 0.1 the steps creep towards the bottom, with 1.0 they "
        "reach it quickly, with 2.9 they jump from side to side and climb away.",
        "ch03-gd-2d": "Three contour plots of an elongated bowl with 20 steps of gradient descent in red: "
        "with learning rate 0.01 the path crawls, with 0.08 it reaches the centre, with 0.104 it zigzags "
        "across the steep direction and moves away.",
        "ch03-momentum": "Contour plot of the bowl with the 30-step paths of three optimizers: plain SGD "
        "moves slowly, SGD with momentum overshoots and swings in, Adam heads almost straight to the centre.",
        "cell-018": "Eight CIFAR-10 test images in a row, each titled with the first CNN's predicted class, "
        "its probability and the true class.",
        "ch03-bn-figure": "Two histograms of four channels' values: the convolution outputs have different "
        "centres and widths; after batch normalisation all four are centred on 0 with the same spread.",
        "ch03-gap-figure": "A CIFAR-10 image and four of its feature maps in grey, each titled with its "
        "average, the one number global average pooling keeps per map.",
        "ch03-dropout-figure": "Three grey panels: a feature map, a random black-and-white mask that keeps "
        "about half of the values, and the map after dropout with the dropped values black and the rest "
        "brighter.",
        "91406ecf": "The classifier's layers as boxes in three columns, joined by arrows, each with its name, "
        "type, output shape and parameters, convolutions blue, pooling green, the dense layer orange: each "
        "block halves height and width and widens the channels, down to the dense output of ten classes.",
        "cell-026": "Line chart of the learning rate over the training steps: exponential decay falls in "
        "steps from the start, warm-up plus cosine decay rises for the first tenth and then falls smoothly "
        "to zero.",
        "84b4eca8": "Training and validation loss of the first CNN per epoch, with a vertical line at the lowest "
        "validation loss: before it a blue band (underfitting, both fall), after it a hatched red band "
        "(overfitting, the validation loss rises).",
        "cell-032": "Four line charts: loss and accuracy per epoch for the first CNN and for the classifier, "
        "training solid and validation dashed.",
    },
    "04": {
        "cell-008": "A grid of one CIFAR-10 training image: each row is one augmentation layer (flip, "
        "rotation, zoom, contrast, translation), the original first and then six random versions.",
        "cell-012": "Twenty-four randomly augmented copies of the same training image in three rows: "
        "flipped, slightly turned, zoomed, shifted and with changed contrast.",
        "cell-021": "Two line charts, accuracy and loss per epoch, one colour per run (without augmentation, "
        "flip and shift, strong), training solid and validation dashed; without augmentation the two lines "
        "drift far apart.",
        "cell-026": "Eight augmented copies of one Fashion-MNIST item in grey, each slightly flipped, turned "
        "or shifted.",
    },
    "05": {
        "cell-011": "Twelve flower photos from one validation batch in two rows, each titled with its class.",
        "97b23f47": "A long bar with one thin stripe per layer of the model: the pretrained base's layers hatched "
        "blue because frozen (grey for layers without weights), the new head's dense layer orange, trainable; a "
        "strip below enlarges the last 24 layers, named.",
        "f46251ec": "The same layer bar during fine-tuning: the top layers of the base are now orange, "
        "trainable, except their batch-normalisation layers; the earlier layers stay blue and frozen.",
        "cell-033": "Line chart of validation accuracy per epoch: the CNN trained from scratch stays low, the "
        "pretrained model climbs high and rises again after a dotted line where fine-tuning starts; a grey "
        "dashed line marks the best head trained on stored features.",
        "cell-037": "Twelve test flower photos in two rows, each titled with the fine-tuned model's "
        "prediction; wrong ones are titled in orange with the true class.",
    },
    "06": {
        "ch06-pr-threshold": "Precision (solid blue) and recall (dashed orange) of the cancer scores against "
        "the decision threshold, with dotted and dash-dotted vertical lines at the default threshold 0.5 and "
        "at the highest threshold that still reaches the recall goal.",
        "e83e9f3f": "ROC curve of the cancer scores: true positive rate against false positive rate, with "
        "three thresholds marked on the curve and a dashed diagonal for a coin toss.",
        "cell-021b": "Loss and accuracy per epoch of the evaluated classifier, training and validation.",
        "cell-031": "Two confusion matrices of the CIFAR-10 classifier side by side: counts, and rows "
        "divided by their totals so that the diagonal is each class's recall.",
        "d16e2869": "A confusion matrix with the cat row and the dog column outlined (the column dashed), "
        "showing where the cat recall and the dog precision are read.",
        "cell-033": "A 100 by 100 row-normalised confusion matrix for CIFAR-100 without numbers: a dark "
        "diagonal on a pale background.",
        "cell-042": "Twelve test images the model got wrong with the highest confidence, in two rows, each "
        "titled with the true class, the prediction and how sure the model was.",
        "cell-045": "One-vs-rest ROC curves, one per class with its AUC in the legend, plus the micro-average "
        "curve, all bending towards the top-left corner above the dashed diagonal.",
        "cell-048": "Evaluation figure of the classifier titled with its test accuracy: the row-normalised "
        "confusion matrix on the left, the ROC curves of every class on the right.",
        "cell-065": "Dashboard of the classifier in one figure, titled with its test accuracy: its training "
        "curves, its row-normalised confusion matrix, its F1 score per class as bars (worst at the bottom) "
        "and its ROC curves.",
    },
    "07": {
        "cell-023": "Two rows of the uploaded test files: the originals in their own sizes and shapes above, "
        "the same photos as the model sees them, square and resized, below.",
        "cell-106": "Ten held-out flower photos in two rows, each titled with its true class and the "
        "quantised TFLite model's top three classes with their confidence.",
    },
    "08": {
        "cell-026": "Three rows for eight flower photos, four predicted right and four wrong with high "
        "confidence: the photo titled with prediction and true class, the Grad-CAM heat map over it, and "
        "the gradient saliency map.",
        "cell-024": "A row of the same flower photos with the Grad-CAM heat map of chapter 05's saved model "
        "laid over each, bright where the model looked.",
        "cell-032": "Three rows for eight CIFAR-10 test images: the image titled with prediction and true "
        "class (wrong ones in orange), Grad-CAM from the last ReLU (4 by 4 cells) and from the pooling "
        "layer after it (2 by 2 cells), coarse coloured blocks over the image.",
        "cell-036": "The 18 flower photos with the highest losses in three rows, each titled with its label, "
        "the predicted class and the loss.",
        "cell-039": "The four closest pairs of near-duplicate flower photos side by side, each titled with "
        "its file name and whether it is in the training or test split.",
        "cell-041": "Twelve flower photos least like their neighbours, in two rows, each titled with its "
        "class folder and its similarity score; some are not flowers at all.",
        "cell-056": "Precision against recall for the rare class roses, one curve each for training as is, "
        "with class weights and with oversampling, with a black circle and a black square for the decisions "
        "of the plain model and of threshold moving.",
        "ch08-temperature-demo": "Three bar charts of the softmax of the same four logits at temperatures "
        "0.5, 1 and 2: the tallest bar stays the same class and gets lower as the temperature rises.",
        "cell-060": "Two reliability diagrams of the CIFAR-10 classifier's test predictions, before and after "
        "temperature scaling: accuracy per confidence bin against the diagonal of perfect calibration.",
        "cell-064": "The learning-rate range test: loss against learning rate on a log scale, flat at first, "
        "falling, then shooting up, with dashed and dotted vertical lines at the suggested rates.",
    },
    "09": {
        "ch09-classes": "Horizontal bar chart of the number of usable photos per class, with each count "
        "written at the end of its bar.",
        "ch09-grid": "A grid with one row per class, titled with the class name, of six sample photos each.",
        "ch09-curves": "A line chart of training and validation accuracy per epoch of the head on stored features "
        "(with FINE_TUNE on, a second one for fine-tuning).",
        "ch09-cm": "Two confusion matrices of the test photos: counts, and rows divided by their totals so "
        "that the diagonal is each class's recall.",
        "ch09-mistakes": "The test photos the model got wrong with the highest confidence, each titled with "
        "the true class, the prediction and how sure the model was.",
        "ch09-app-fns": "A sample photo as the model sees it, beside bars for its three most likely classes "
        "with their probabilities.",
        "ch09-gradcam": "The test photos the model got wrong with the highest confidence, each with the "
        "Grad-CAM heatmap of the predicted class laid over it and titled with the prediction, how sure the "
        "model was and the true class.",
        "ch09-app": "The photo app: an upload button, a box for the path of a photo or a folder and a "
        "Predict button; each photo appears as the model sees it beside bars for its three most likely classes.",
    },
    "10": {
        "ch10-profile-run": "Horizontal bar chart, one pair of bars per block of the classifier: its share of "
        "the multiply-adds and, hatched, its share of the measured training time.",
        "ch10-cache-run": "Line chart of milliseconds per image against the size of the patch matrix on a log "
        "scale, with dashed vertical lines at this computer's cache sizes.",
        "ch10-bits": "The bits of float32, bfloat16 and float16 as rows of coloured squares: one sign bit, "
        "then exponent bits in blue (8, 8 and 5) and mantissa bits in orange (23, 7 and 10).",
        "ch10-allreduce-figure": "Diagram of two workers, each with its shard of the images, a full replica "
        "of the model and the gradients of its half of the batch, joined by an all-reduce so both apply the "
        "same update from the summed gradients.",
    },
}


DRAWING_MODULES = {"plt", "figures", "plots"}
"""Calls on these names draw: ``plt.show()``, ``figures.transfer_setup(...)``, ``plots.image_grid(...)``."""
DRAWING_NAMES = {"plot_history", "to_jshtml", "imshow"}
"""Functions and methods that draw wherever they come from (``evaluation.plot_*`` counts too)."""


def _draws(node: ast.AST, drawers: set[str]) -> bool:
    """True when ``node`` contains a call that draws (directly or through a function in ``drawers``)."""
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in DRAWING_MODULES:
                return True
            if func.attr in DRAWING_NAMES or func.attr.startswith("plot_"):
                return True
        elif isinstance(func, ast.Name) and (func.id in drawers or func.id in DRAWING_NAMES):
            return True
    return False


def figure_cells(nb) -> list[str]:
    """Ids of the code cells that show a figure when run: a top-level statement calls something that draws.

    Functions the notebook defines count as drawing when their body draws (``show_photos``,
    ``dashboard``); a cell that only defines them shows nothing.
    """
    from tools.testing import without_test_markers

    drawers: set[str] = set()
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = without_test_markers(cell.source).splitlines()
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        shows = False
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                builds_img = any(
                    isinstance(node, ast.Constant) and isinstance(node.value, str) and "<img" in node.value
                    for node in ast.walk(statement)
                )  # a function that returns an <img> tag: chapter 09's prediction_html
                if builds_img or _draws(statement, drawers):
                    drawers.add(statement.name)
            elif not isinstance(statement, ast.ClassDef) and _draws(statement, drawers):
                shows = True
        if shows:
            found.append(cell.get("id"))
    return found


def missing_alt(nb, name: str = "notebook") -> list[str]:
    """The lint rule: every cell that shows a figure has alt text in its metadata (``mystnb.image.alt``)."""
    return [
        f"{name} cell {cell_id}: draws a figure but has no alt text (add it to tools/alt_text.py and run it)"
        for cell_id, cell in ((cell.get("id"), cell) for cell in nb.cells)
        if cell_id in set(figure_cells(nb))
        and not cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
    ]


def notebook(chapter: str) -> Path:
    (path,) = sorted(SOLUTIONS.glob(f"{chapter}_*.ipynb"))
    return path


def apply(write: bool) -> list[str]:
    """Put each alt text into its cell's metadata (when ``write``); returns what was or is wrong."""
    problems = []
    for chapter, texts in ALT.items():
        path = notebook(chapter)
        nb = nbformat.read(path, as_version=4)
        cells = {cell.get("id"): cell for cell in nb.cells if cell.cell_type == "code"}
        changed = False
        for cell_id, alt in texts.items():
            cell = cells.get(cell_id)
            if cell is None:
                problems.append(f"{path.name}: no code cell with id {cell_id!r} (moved? update tools/alt_text.py)")
                continue
            current = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
            if current != alt:
                if write:
                    cell.metadata.setdefault("mystnb", {}).setdefault("image", {})["alt"] = alt
                    changed = True
                else:
                    problems.append(f"{path.name} cell {cell_id}: alt text missing or stale (run tools/alt_text.py)")
        if changed:
            nbformat.write(nb, path)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report cells whose alt text is missing or stale")
    args = parser.parse_args(argv)
    problems = apply(write=not args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
