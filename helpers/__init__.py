"""Helpers for the course *Image Classification with TensorFlow*.

Thin on purpose: plotting, data plumbing and exercise checks live here so the
notebooks can stay about image classification. Modules: ``course`` (modes, setup,
results), ``datasets``, ``plots``, ``conv``, ``models``, ``evaluation``,
``inference``, ``explorer``, ``exercises.chNN``, ``notebooks`` (authoring).
"""

__version__ = "0.1.0"
