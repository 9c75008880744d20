"""placard: a static site generator for solidarity campaigns."""

__version__ = "0.1.0"
