"""The command line's argparse parser: help text, usage errors and the ``bench`` and
``fleet`` commands.

Only what :func:`nestprobe.cli._quick_parse` cannot read comes here (``--help``,
``--version``, a usage error, an abbreviated option, ``dump``, ``bench``, ``fleet``): a plain
``nestprobe check SCENARIO`` neither imports argparse nor loads this module.
"""

from __future__ import annotations

import argparse
import os
import sys

from nestprobe.model.contract import COMMANDS, VERSION
from nestprobe.model.typeshim import TYPE_CHECKING, TextIO, cast
from nestprobe.model.verdicts import SCENARIOS
from nestprobe.output.console import Console

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

DESCRIPTION = """\
Can I nest? Hypervisor, VT-x/AMD-V exposure, nesting level and Microsoft's support
matrix for this machine, with evidence.

  nestprobe [--json | -v] [--from FILE] [--cpu N] [--no-timing | --thorough]
  nestprobe check SCENARIO [-q | --json | -v] [--from FILE] [--cpu N] ...
  nestprobe dump | bench | fleet | --version"""

EPILOG = f"""\
common options (of the report, the default command, and of check):
  --json          the report as JSON (schema_version 3), for scripts
                  (report --format prometheus: node_exporter textfile metrics)
  --from FILE     assess a dump instead of this machine (nestprobe's own, cpuid -r,
                  AIDA64/InstLatx64, RJCP XML, IC Book Labs, ...); - reads stdin
  -v, --verbose   everything: the evidence behind every line, caveats, sources
  --cpu N         the logical CPU to probe (live) or to take from the dump
  --no-timing     skip the exit-latency witness (with --from: ignore the dump's)
  --thorough      measure exit latency longer (live only)
  --prove         also run a tiny VM here: one vCPU, 24 KiB, a few thousand guest
                  instructions, bounded by a 2 s watchdog (with --from: the dump's proof)

check SCENARIO    one verdict as an exit code, for installers; SCENARIO is one of
                  {", ".join(SCENARIOS)}
                  exit 0 supported, 1 blocked, 3 unsupported, 4 evaluation-only,
                  5 unknown; 2 usage, 6 bad input, 7 internal, 8 output failed,
                  130 interrupted
check SCENARIO --ready
                  exit 0 only when ready now (supported, nothing left to do or
                  confirm); 9 ready after steps in this OS (listed, with elevation
                  and restart); 10 needs another layer or a person to confirm;
                  other statuses keep their codes (1, 3, 4, 5)

`nestprobe COMMAND --help` has the details of each command."""


def _columns() -> int:
    """The terminal's width as :func:`shutil.get_terminal_size` gives it, without importing
    shutil (and the bz2, lzma and fnmatch it imports)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """argparse, except that help and version text written to a failing stdout is an
    output error (exit 8), not silently lost (argparse swallows OSError there); and the
    width is found without shutil (argparse imports it for every argument it adds)."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        return self.formatter_class(prog=self.prog, width=_columns() - 2)  # type: ignore[call-arg]

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if not message:
            return
        if file is None:  # meant for stdout (argparse passes sys.stdout), which is closed
            Console(None).write(message)
        if file is not sys.stdout:
            super()._print_message(message, file)
            return
        Console(cast("TextIO", file)).write(message)


def _cpu_number(text: str) -> int:
    """``--cpu`` as a CPU number: a usage error (exit 2) for anything else."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a CPU number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a CPU number is 0 or more, not {value}")
    return value


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="from_file", metavar="FILE",
        help="assess a dump file instead of this machine (- reads standard input)",
    )
    parser.add_argument(
        "--cpu", type=_cpu_number, default=None, metavar="N",
        help="the logical CPU: the live probe runs on it (or is refused), a dump's CPU N "
        "is taken (default 0)",
    )
    parser.add_argument(
        "--no-timing", action="store_true",
        help="skip the CPUID exit-latency measurement (with --from: leave the dump's out)",
    )
    parser.add_argument(
        "--thorough", action="store_true",
        help="measure exit latency longer (about 0.2 s) for a steadier level estimate "
        "(live only)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="everything: the evidence behind every line, caveats and sources",
    )
    parser.add_argument(
        "--prove", action="store_true",
        help="also create a tiny VM here (one vCPU, 24 KiB, about a millisecond on hardware) "
        "and run a few guest instructions: the strongest evidence (with --from: the dump's)",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; with ``command``, only that sub-command's parser is built.

    ``nestprobe check`` is what installers run, so its cold start counts: it neither
    builds the bench and fleet parsers nor imports what only they use. Without a known
    command (``--help``, a typo) every sub-command is there, for the usage message.
    """
    wanted = (lambda name: name == command) if command in COMMANDS else (lambda _name: True)
    parser = _Parser(
        prog="nestprobe",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nestprobe {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    if wanted("report"):
        report = sub.add_parser("report", help="the report (the default command)")
        _add_source_options(report)
        report.add_argument("--json", action="store_true", help="JSON report (schema_version 3)")
        report.add_argument("--format", choices=("text", "json", "prometheus"), default=None,
                            help="text (default), json (= --json), or prometheus "
                            "(node_exporter textfile-collector metrics)")
    if wanted("check"):
        check = sub.add_parser("check",
                               help="one scenario's verdict as an exit code, for installers")
        check.add_argument("scenario", choices=SCENARIOS)
        _add_source_options(check)
        check.add_argument("--json", action="store_true", help="the JSON report (same schema)")
        check.add_argument("-q", "--quiet", action="store_true",
                           help="print nothing; exit code only")
        check.add_argument("--ready", action="store_true",
                           help="exit 0 only when ready now; 9 after steps in this OS, 10 when "
                           "another layer or a person must confirm (README: The contract)")
    if wanted("dump"):
        dump = sub.add_parser("dump",
                              help="write this machine's snapshot in nestprobe's dump format")
        dump.add_argument("--no-timing", action="store_true", help="leave the latency record out")
        dump.add_argument("--thorough", action="store_true", help="measure exit latency longer")
        dump.add_argument("--prove", action="store_true",
                          help="also run a tiny VM here and record what it did (a proof record)")
    if wanted("bench"):
        from nestprobe.bench.cli import register

        register(sub)
    if wanted("fleet"):
        from nestprobe.fleet.cli import register as register_fleet

        register_fleet(sub)
    return parser

