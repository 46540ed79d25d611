"""``python -m model`` is the ``relsim`` command."""

import sys

from .cli import main

sys.exit(main())
