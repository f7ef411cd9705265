"""``python -m hatch_pyc``: the ``hatch-pyc`` command."""

from __future__ import annotations

import sys

from hatch_pyc.cli import main

if __name__ == "__main__":
    sys.exit(main())
