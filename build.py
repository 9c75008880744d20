#!/usr/bin/env python3
"""Build the campaign site: `python build.py` (build), `serve`, `new post|event|page "Title"`."""

import sys

from placard.cli import main

if __name__ == "__main__":
    sys.exit(main())
