"""Tools for the people who write and test the course, not for learners (not packaged):
``notebooks`` (authoring: learner copies, stored answers, pinned outputs, the build-talk lint;
``python tools/notebooks.py --check``), ``setup_cell`` (the first cell of every notebook) and
``testing`` (the test harness used by ``conftest.py`` and ``tests/``)."""
