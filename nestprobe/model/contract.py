"""The contract with scripts and installers: version, commands, exit codes.

Defined once here; the CLI, ``nestprobe bench`` and the README's contract table read
these (tests/cli/test_contract_table.py checks every row of that table).
"""

from __future__ import annotations

VERSION = "0.1.0"

#: ``nestprobe COMMAND``: what the command line reads (cli.py) and what its parser offers
#: (parser.py); no command means ``report``.
COMMANDS = ("report", "check", "dump", "bench", "fleet")

#: ``nestprobe check``: the scenario's status as an exit code; any other command exits
#: EXIT_OK when it produced its output.
EXIT_OK = 0
EXIT_BLOCKED = 1
#: Unknown option or scenario, contradictory options, a ``--cpu`` that is no CPU here.
EXIT_USAGE = 2
EXIT_UNSUPPORTED = 3
EXIT_EVALUATION_ONLY = 4
EXIT_UNKNOWN = 5
#: The input (``--from``, ``bench compare``) is missing, unreadable, too large, not a
#: regular file or pipe, a FIFO with no writer, or malformed.
EXIT_BAD_INPUT = 6
#: The largest input any command reads (sources/inputfile.py). The largest corpus dump is
#: 181 KB (InstLatx64, 48 logical CPUs with prose); 8 MiB leaves room for a 1000-CPU
#: report while keeping a bad path from eating memory.
MAX_INPUT_BYTES = 8 << 20
EXIT_INTERNAL = 7
#: The output could not be written: stdout closed (``>&-``), full (``> /dev/full``) or
#: failing. A reader that stops reading (``nestprobe | head``) is not an error: exit 0.
EXIT_OUTPUT = 8
#: Interrupted by SIGINT (Ctrl-C): 128 + SIGINT, as shells report it; no traceback.
EXIT_INTERRUPTED = 130
#: ``nestprobe check --ready`` (the status is supported): ready once steps in this OS
#: alone are done (their elevation and restarts are in the JSON's ``readiness``), or
#: only once another layer or a person confirms something. Ready now is EXIT_OK; a
#: status other than supported keeps its own code.
EXIT_AFTER_STEPS = 9
EXIT_NEEDS_CONFIRMATION = 10
#: ``nestprobe bench`` and the standalone dumper: CPUID (or the plotting extra) unavailable.
EXIT_UNAVAILABLE = 3

STATUS_EXIT = {
    "supported": EXIT_OK,
    "blocked": EXIT_BLOCKED,
    "unsupported": EXIT_UNSUPPORTED,
    "evaluation-only": EXIT_EVALUATION_ONLY,
    "unknown": EXIT_UNKNOWN,
}

#: ``check --ready``: a supported verdict's readiness as an exit code.
READINESS_EXIT = {
    "ready": EXIT_OK,
    "after-steps": EXIT_AFTER_STEPS,
    "needs-confirmation": EXIT_NEEDS_CONFIRMATION,
}
