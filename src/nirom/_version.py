"""nirom's version, in a module of its own: what records it (datasets, models, reports,
``nirom --version``) imports it from here, not from the package root."""

__version__ = "0.1.0"
