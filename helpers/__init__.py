"""Helpers for the course *Image Classification with TensorFlow*.

Thin on purpose: plotting, data plumbing and exercise checks live here so the
notebooks can stay about image classification. Modules: ``course`` (modes, setup,
results), ``datasets``, ``plots``, ``conv``, ``models``, ``evaluation``,
``inference``, ``explorer``, ``exercises.chNN``, ``notebooks`` (authoring).
"""

__version__ = "0.1.0"
"""Checked by every notebook's first cell (helpers.setup_cell); bump it when notebooks need new helpers."""

__course__ = "https://github.com/image-classification-course/image-classification-tensorflow"
"""Marks this package as the course's own ``helpers`` (the first cell checks it); Colab installs from here."""
