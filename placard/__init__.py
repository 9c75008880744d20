"""placard: a static site generator for solidarity campaigns."""

from __future__ import annotations

__version__ = "0.1.0"  # written once, here: flit puts it into the package metadata, which the code reads


def installed_version() -> str:
    """placard's version from the installed package's metadata (a wheel or `pip install -e .`), or the
    source's own when run from a checkout that was never installed."""
    from importlib import metadata

    try:
        return metadata.version(__name__)
    except metadata.PackageNotFoundError:
        return __version__
