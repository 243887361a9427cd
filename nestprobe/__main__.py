"""``python -m nestprobe``."""

import sys

from nestprobe.cli import main

sys.exit(main())
