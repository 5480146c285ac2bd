"""The bundle's entry point: the same ``acs-console`` command as the installed script."""

from __future__ import annotations

import sys

from console.cli import main

if __name__ == "__main__":
    sys.exit(main())
