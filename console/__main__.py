"""``python -m console`` is ``acs-console``."""

import sys

from console.cli import main

sys.exit(main())
