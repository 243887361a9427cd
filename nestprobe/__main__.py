"""``python -m nestprobe``."""

import sys

from nestprobe.cli import main

# Guarded: where worker processes are spawned (Windows, macOS), `nestprobe fleet`'s workers
# import this module again and must not run the CLI.
if __name__ == "__main__":
    import gc

    gc.disable()  # as scripts/nestprobe does (nestprobe.cli.collecting_garbage says why)
    sys.exit(main())
