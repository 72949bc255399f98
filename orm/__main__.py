"""Entry point of ``python -m orm``: the same command as the ``orm`` script."""

import sys

from orm.cli import main

sys.exit(main())
