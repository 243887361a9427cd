"""``python -m nestprobe``."""

import sys

from nestprobe.cli import run

# Guarded: where worker processes are spawned (Windows, macOS), `nestprobe fleet`'s workers
# import this module again and must not run the CLI.
if __name__ == "__main__":
    sys.exit(run())
