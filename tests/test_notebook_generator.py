"""tools/notebooks.py: one source (solutions/), two notebooks, answers stored for solution()."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from tools import notebooks, setup_cell
from tools.notebooks import main as cli
from tools.testing import definitions

CODE_CELL = """import numpy as np
### BEGIN SOLUTION
kernel = np.ones((3, 3))
### END SOLUTION
ch02.q1.check(kernel)"""

FUNCTION_CELL = '''### BEGIN SOLUTION
def convolve2d(image, kernel):
    """Valid convolution of a 2-D image."""
    out = image[1:-1, 1:-1]
    return out
### END SOLUTION'''


def make_notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(maker(source))
    return nb


def test_assignment_becomes_ellipsis_prompt_and_cell_is_tagged():
    nb = make_notebook(("code", CODE_CELL))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[0].execution_count = 3
    cell = notebooks.learner_notebook(nb).cells[0]
    assert cell.source == "import numpy as np\nkernel = ...  # Your code here\nch02.q1.check(kernel)"
    assert "raises-exception" in cell.metadata["tags"]
    assert cell.outputs == [] and cell.execution_count is None


def test_function_keeps_signature_and_docstring_only():
    prompt = notebooks.code_prompt(FUNCTION_CELL + "\n")
    assert prompt.splitlines() == [
        "def convolve2d(image, kernel):",
        '    """Valid convolution of a 2-D image."""',
        "    # Your code here",
        "    ...",
    ]
    compile(prompt, "<prompt>", "exec")  # the learner's copy is valid Python


def test_other_code_becomes_a_comment_and_indentation_is_kept():
    source = "for i in range(3):\n    ### BEGIN SOLUTION\n    print(i)\n    ### END SOLUTION\n"
    assert notebooks.learner_source(source, markdown=False) == "for i in range(3):\n    # Your code here"


def test_markdown_answers_are_cut():
    nb = make_notebook(("markdown", "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"))
    assert notebooks.learner_notebook(nb).cells[0].source == "Why?\n*Your answer here.*"


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "without a"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "twice"),
    ],
)
def test_unbalanced_markers_are_reported(source, fragment):
    with pytest.raises(notebooks.AuthoringError, match=fragment):
        notebooks.split_regions(source)


def test_answers_map_regions_to_the_checking_question():
    nb = make_notebook(
        ("code", FUNCTION_CELL), ("markdown", "text"), ("code", "ch02.q3.check(convolve2d)"), ("code", CODE_CELL)
    )
    found = notebooks.answers(nb, "solutions/02_convolution_from_scratch.ipynb")
    assert set(found) == {"ch02.q3", "ch02.q1"}
    assert found["ch02.q1"] == "kernel = np.ones((3, 3))"
    assert found["ch02.q3"].startswith("def convolve2d(image, kernel):")


def test_unchecked_or_foreign_answers_are_refused():
    with pytest.raises(notebooks.AuthoringError, match="no `ch02.qK.check"):
        notebooks.answers(make_notebook(("code", FUNCTION_CELL)), "solutions/02_x.ipynb")
    with pytest.raises(notebooks.AuthoringError, match="this is chapter ch03"):
        notebooks.answers(make_notebook(("code", CODE_CELL)), "solutions/03_x.ipynb")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "helpers" / "exercises" / "answers").mkdir(parents=True)
    badge = f"[Open in Colab](https://colab.example/blob/{setup_cell.RELEASE}/notebooks/02_demo.ipynb)"
    nb = make_notebook(
        ("markdown", f"# Title\n{badge}"),
        ("code", ""),
        ("code", CODE_CELL.replace("3))\n", "3))  # a kernel of ones\n")),
    )
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="out")]
    nbformat.write(nb, tmp_path / "solutions" / "02_demo.ipynb")
    return tmp_path


def out_of_sync(root):
    """What ``--check`` reports besides the lint (the small notebooks of these tests are not chapters)."""
    lint = set(notebooks.lint_all(root))
    return [problem for problem in notebooks.check(root) if problem not in lint]


def test_write_then_check_round_trip(project, capsys):
    assert notebooks.check(project)  # nothing generated yet, and the source has outputs
    assert cli(["--check", "--root", str(project)]) == 1
    assert cli(["--write", "--root", str(project)]) == 0
    assert notebooks.check(project) == []
    assert cli(["--check", "--root", str(project)]) == 0
    learner = nbformat.read(project / "notebooks" / "02_demo.ipynb", as_version=4)
    assert "kernel = ...  # Your code here: a kernel of ones" in learner.cells[2].source
    assert learner.cells[1].source == setup_cell.source("02_demo")  # the empty first code cell, filled
    source = nbformat.read(project / "solutions" / "02_demo.ipynb", as_version=4)
    assert source.cells[2].outputs == []  # --write strips the source too
    stored = json.loads((project / "helpers" / "exercises" / "answers" / "ch02.json").read_text())
    assert stored == {"ch02.q1": "kernel = np.ones((3, 3))  # a kernel of ones"}


def test_check_catches_hand_edits_and_strays(project):
    notebooks.write(project)
    learner = project / "notebooks" / "02_demo.ipynb"
    learner.write_text(learner.read_text().replace("Your code here", "kernel = np.ones((3, 3))"))
    shutil.copy(learner, project / "notebooks" / "99_orphan.ipynb")
    problems = notebooks.check(project)
    assert "notebooks/02_demo.ipynb is out of date" in problems
    assert "notebooks/99_orphan.ipynb has no source in solutions/" in problems


def test_authoring_errors_exit_2(project, capsys):
    bad = make_notebook(("code", "### BEGIN SOLUTION\nx = 1\n"))
    nbformat.write(bad, project / "solutions" / "03_bad.ipynb")
    assert cli(["--check", "--root", str(project)]) == 2
    assert "never closed" in capsys.readouterr().err


def test_pinned_marker_must_stand_alone_like_nbval_wants():
    assert notebooks.is_pinned("# NBVAL_CHECK_OUTPUT\nprint(1)")
    assert notebooks.is_pinned("x = 1\n  #NBVAL_CHECK_OUTPUT")
    assert not notebooks.is_pinned("print(1)  # NBVAL_CHECK_OUTPUT")  # nbval ignores trailing markers


def test_pin_stores_outputs_and_check_notices_stale_pins(project):
    nb = make_notebook(("markdown", "# Pinned"), ("code", "x = 6"), ("code", "# NBVAL_CHECK_OUTPUT\nprint(x * 7)"))
    nbformat.write(nb, project / "solutions" / "03_pin.ipynb")
    notebooks.write(project)
    assert any("03_pin.json does not match" in p for p in out_of_sync(project))  # marked, never pinned
    (written,) = notebooks.pin(project, ["03_pin"])
    stored = json.loads(written.read_text())
    pinned_id = nbformat.read(project / "solutions" / "03_pin.ipynb", as_version=4).cells[2].id
    assert stored == {pinned_id: [{"name": "stdout", "output_type": "stream", "text": "42\n"}]}
    assert out_of_sync(project) == []


def test_inserting_a_cell_above_a_pin_needs_no_repin(project):
    nb = make_notebook(("markdown", "# Pinned"), ("code", "x = 6"), ("code", "# NBVAL_CHECK_OUTPUT\nprint(x * 7)"))
    nbformat.write(nb, project / "solutions" / "03_pin.ipynb")
    notebooks.write(project)
    notebooks.pin(project, ["03_pin"])
    before = notebooks.pinned_outputs(project / "solutions" / "03_pin.ipynb", project)
    source = project / "solutions" / "03_pin.ipynb"
    edited = nbformat.read(source, as_version=4)
    edited.cells.insert(1, nbformat.v4.new_markdown_cell("A new explanation above the pinned cell."))
    nbformat.write(edited, source)
    notebooks.write(project)
    assert out_of_sync(project) == []  # ids kept: the stored pin still matches its cell
    solution = nbformat.read(source, as_version=4)
    assert [c.id for c in solution.cells if notebooks.is_pinned(c.source)] == list(before)
    learner = nbformat.read(project / "notebooks" / "03_pin.ipynb", as_version=4)
    assert [c.source for c in learner.cells if c.cell_type == "code"] == ["x = 6", "print(x * 7)"]  # no NBVAL marker


def test_the_lint_finds_build_talk_in_learner_text_only(project):
    nb = make_notebook(
        ("markdown", "# Speed\nThis took 2.1 min in a measured run on a Xeon (see `benchmarks/`), on 2026-11-30."),
        ("code", "x = 1  # 80% in the course runs\nprint('a full run')"),
        (
            "markdown",
            "Expect about 80% test accuracy, about 3 minutes on a 2-core laptop.\n### BEGIN SOLUTION\nok\n### END SOLUTION",
        ),
    )
    nbformat.write(nb, project / "solutions" / "04_talk.ipynb")
    notebooks.write(project)
    problems = [p for p in notebooks.lint_all(project) if "build talk" in p]
    assert set(problems) <= set(notebooks.check(project))  # `--check` reports them too
    found = sorted(p.split("build talk ")[1].split(" in ")[0] for p in problems)
    assert found == ["'2026-11-30'", "'Xeon'", "'benchmarks/'", "'course runs'", "'measured run'"]
    assert all("cell 3" not in p for p in problems)  # the clean cell passes; a printed string is not a comment
    clean = make_notebook(
        ("markdown", "Expect about 80%, about 3 minutes on a 2-core laptop (longer on an older one).")
    )
    nbformat.write(clean, project / "solutions" / "04_talk.ipynb")
    assert not [p for p in notebooks.lint_all(project) if "build talk" in p]


def good_chapter(name: str = "05_rules"):
    """A solutions notebook that follows every learner rule: badge, setup cell, a checked
    exercise with a prompt that says what to fill in, and a hint introduced by the Stuck line."""
    badge = f"[Open in Colab](https://colab.example/blob/{setup_cell.RELEASE}/notebooks/{name}.ipynb)"
    return make_notebook(
        ("markdown", f"# 05 · Rules\n{badge}"),
        ("code", ""),
        ("code", "### BEGIN SOLUTION\nkernel = 3  # the size of the kernel\n### END SOLUTION\nch05.q1.check(kernel)"),
        ("markdown", notebooks.STUCK_LINE),
        ("code", "# ch05.q1.hint()\n# ch05.q1.solution()"),
    )


def lint_of(project, nb, name="05_rules"):
    nbformat.write(nb, project / "solutions" / f"{name}.ipynb")
    return notebooks.lint_all(project)


def test_the_lint_holds_every_learner_copy_to_the_same_rules(project):
    assert lint_of(project, good_chapter()) == []
    nb = good_chapter()
    nb.cells[2].source = nb.cells[2].source.replace("  # the size of the kernel", "")
    (problem,) = lint_of(project, nb)
    assert "'kernel = ...  # Your code here' does not say what to fill in" in problem and "cell 3" in problem
    nb = good_chapter()
    nb.cells[3].source = "Need help? Uncomment a line."
    (problem,) = lint_of(project, nb)
    assert "cell 5" in problem and "a hint cell should follow a markdown cell reading 'Stuck?" in problem
    nb = good_chapter()
    nb.cells[1].source = "x = 1"  # not a setup cell, so --write leaves it
    (problem,) = lint_of(project, nb)
    assert "notebooks/05_rules.ipynb: the first code cell is not the setup cell" in problem
    (project / "solutions" / "05_rules.ipynb").unlink()
    (problem,) = lint_of(project, good_chapter(), "06_renamed")  # the badge still names 05_rules
    assert f"Colab badge pointing at .../blob/{setup_cell.RELEASE}/notebooks/06_renamed.ipynb" in problem
    (project / "solutions" / "06_renamed.ipynb").unlink()
    problems = lint_of(project, make_notebook(("markdown", "# no code")))
    assert any("05_rules: a notebook needs a first code cell for the setup" in p for p in problems), problems


def test_cells_without_ids_get_unique_stable_ones():
    nb = make_notebook(("code", "a = 1"), ("code", "a = 1"), ("markdown", "text"))
    for cell in nb.cells:
        cell.pop("id")
    nb.cells[2]["id"] = "bad id!"
    first = notebooks.stripped(nb)
    ids = [c.id for c in first.cells]
    assert len(set(ids)) == 3 and all(i.startswith("cell-") for i in ids)
    assert [c.id for c in notebooks.stripped(first).cells] == ids  # normalising twice changes nothing


def test_definitions_are_what_a_notebook_defines(tmp_path):
    nb = make_notebook(
        ("code", "%matplotlib inline"),
        ("code", "def f(x):\n    return x\n\nLIMIT = 3"),
        ("code", "### BEGIN SOLUTION\ndef g():\n    return 1\n### END SOLUTION"),
        ("markdown", "def not_code(): pass"),
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert definitions(path) == {
        "f": "def f(x):\n    return x",
        "LIMIT": "LIMIT = 3",
        "g": "def g():\n    return 1",
    }


SAVED_CELL = '#@save\ndef norm(values):\n    """Euclidean length."""\n    return np.sqrt(np.sum(np.square(values)))\n\n\nnorm([3, 4])'


def test_saved_cells_are_generated_into_one_module_and_check_finds_it_stale(project):
    nb = make_notebook(
        ("code", "import numpy as np\nimport pandas as pd"), ("markdown", "## Norm"), ("code", SAVED_CELL)
    )
    nbformat.write(nb, project / "solutions" / "03_norm.ipynb")
    notebooks.write(project)
    assert out_of_sync(project) == []
    taught = (project / "helpers" / "taught.py").read_text()
    assert taught.startswith("# @generated by `python tools/notebooks.py --write`")  # the marker tools look for
    assert "GENERATED, do not edit by hand" in taught and "norm: 03_norm.ipynb, cell" in taught
    assert "import numpy as np\n" in taught and "pandas" not in taught  # only the imports the code needs
    assert "norm([3, 4])" not in taught  # the cell's demonstration stays in the notebook
    namespace: dict = {}
    exec(taught, namespace)  # noqa: S102 - the module just generated
    assert namespace["norm"]([3, 4]) == 5.0
    learner = nbformat.read(project / "notebooks" / "03_norm.ipynb", as_version=4)
    assert learner.cells[-1].source.startswith("#@save\n")  # learners see the mark

    nb.cells[-1].source = SAVED_CELL.replace("np.sum", "np.nansum")  # edit the saved cell only
    nbformat.write(nb, project / "solutions" / "03_norm.ipynb")
    problems = out_of_sync(project)
    assert any(p.startswith("helpers/taught.py is stale") for p in problems), problems
    assert cli(["--write", "--root", str(project)]) == 0
    assert "np.nansum" in (project / "helpers" / "taught.py").read_text()
    assert out_of_sync(project) == []


def test_a_saved_cell_that_needs_an_unsaved_name_is_refused(project):
    nb = make_notebook(("code", "SCALE = 2"), ("code", "#@save\ndef scaled(x):\n    return SCALE * x"))
    nbformat.write(nb, project / "solutions" / "03_scale.ipynb")
    with pytest.raises(notebooks.AuthoringError, match="'SCALE'"):
        notebooks.taught_module(project)
