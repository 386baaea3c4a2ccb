"""The offline machinery: where real data and weights come from when a notebook asks for them.

``mirror`` (Keras cache -> ``COURSE_DATA_DIR`` mirror -> download, for datasets; what counts
as "not available"), ``weights`` (the same for ``keras.applications`` weight files) and
``prefetch`` (filling a mirror for an offline classroom by running the Keras loaders). Notebooks never import this package directly: ``helpers.datasets`` and
``helpers.models`` call it when they need the real thing.
"""
