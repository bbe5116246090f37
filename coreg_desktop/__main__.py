"""Allow ``python -m coreg_desktop`` as well as the ``coreg-desktop`` script."""

import sys

from coreg_desktop.cli import main

sys.exit(main())
