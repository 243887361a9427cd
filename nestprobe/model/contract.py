"""The contract with scripts and installers: version, exit codes, scenario names.

Defined once here; the CLI, ``nestprobe bench`` and the docs' table read these.
"""

from __future__ import annotations

VERSION = "0.1.0"

#: ``nestprobe check``: the scenario's status as an exit code; any other command exits
#: EXIT_OK when it produced its output.
EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_UNSUPPORTED = 3
EXIT_EVALUATION_ONLY = 4
EXIT_UNKNOWN = 5
EXIT_BAD_INPUT = 6
EXIT_INTERNAL = 7
#: ``nestprobe bench`` and the standalone dumper: CPUID (or the plotting extra) unavailable.
EXIT_UNAVAILABLE = 3

STATUS_EXIT = {
    "supported": EXIT_OK,
    "blocked": EXIT_BLOCKED,
    "unsupported": EXIT_UNSUPPORTED,
    "evaluation-only": EXIT_EVALUATION_ONLY,
    "unknown": EXIT_UNKNOWN,
}
