"""`python -m placard`: the same as the `placard` command."""

import sys

from placard.cli import main

sys.exit(main())
