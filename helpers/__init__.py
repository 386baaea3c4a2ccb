"""Helpers for the course *Image Classification with TensorFlow*.

Thin on purpose: plotting, data plumbing and exercise checks live here so the
notebooks can stay about image classification. Modules: ``course`` (modes, setup,
results), ``datasets`` (what notebooks call for data), ``standins`` (drawn data when the
real data cannot be had), ``offline`` (the mirror and weight files; ``tools/prefetch.py`` fills a mirror), ``plots``,
``figures``, ``conv``, ``models``, ``model_store``, ``training``, ``evaluation``,
``inference``, ``exercises`` (``question``: the shared problem types;
``chNN``: one module per chapter), ``doctor``. Only what a notebook imports at run time:
authoring and the test harness are in the repository's ``tools/``, not in this package.
"""

__version__ = "0.1.0"
"""Checked by every notebook's first cell (tools/setup_cell.py); bump it when notebooks need new helpers."""

__course__ = "https://github.com/image-classification-course/image-classification-tensorflow"
"""Marks this package as the course's own ``helpers`` (the first cell checks it); Colab installs from here."""
