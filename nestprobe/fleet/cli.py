"""The ``nestprobe fleet PATH...`` sub-command. Importing this module is cheap: the work
is imported by the handler, so the rest of the CLI does not pay for it.

Exit codes follow the CLI contract (README "Exit status"): 0 done; 1 some machine falls
short of a ``--require`` (an unreadable input counts as short: it proves nothing);
2 usage (including an ``--output`` nobody can write); 6 no input could be read at all.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO, cast

# EXIT_BLOCKED, `check`'s "blocked", means here that some machine falls short of --require.
from nestprobe.model.contract import EXIT_BAD_INPUT, EXIT_BLOCKED, EXIT_OK, EXIT_USAGE
from nestprobe.model.safetext import escape

if TYPE_CHECKING:
    from collections.abc import Iterable

FORMATS = ("table", "csv", "jsonl", "prometheus")
#: Machines named on stderr for each --require they fall short of.
SHORT_NAMED = 5


def _requirement(text: str) -> Any:
    from nestprobe.fleet.require import parse_requirement

    try:
        return parse_requirement(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _jobs(text: str) -> int:
    """``--jobs N``: 0 (one per core) or more; more than the cores is capped (pool.py)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a number of processes is 0 or more, not {value}")
    return value


def register(subparsers: Any) -> None:
    """Add ``fleet`` to the CLI's sub-parsers."""
    fleet = subparsers.add_parser(
        "fleet",
        help="assess many machines' dumps and JSON reports; summary per scenario and fix",
        description="Assess dumps (any format `report --from` reads) and `nestprobe --json` "
        "reports, from files or directories, in parallel; a machine is named after its file.",
    )
    fleet.add_argument("paths", nargs="+", metavar="PATH", help="dump or JSON report, or a "
                       "directory of them (searched recursively, hidden files skipped)")
    fleet.add_argument("--format", choices=FORMATS, default="table",
                       help="table (default, for people); csv or jsonl (one record per "
                       "machine); prometheus (node_exporter textfile, one series per machine)")
    fleet.add_argument("--require", type=_requirement, action="append", default=[],
                       metavar="SCENARIO=STATUS[,STATUS]",
                       help="exit 1 when any machine's verdict is not one of these "
                       "(repeatable), e.g. wsl2=supported")
    fleet.add_argument("--jobs", type=_jobs, default=0, metavar="N",
                       help="worker processes (default and most: one per available core)")
    fleet.add_argument("--names", type=int, default=20, metavar="N",
                       help="machines named per line of the table (0: all; default 20)")
    fleet.add_argument("--output", metavar="FILE", help="write here instead of stdout; "
                       "a file is replaced atomically, keeping its owner and mode (a textfile "
                       "collector never reads half a file); a device or FIFO is written to")
    fleet.set_defaults(handler=run_fleet_command)


def run_fleet_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from itertools import chain

    from nestprobe.fleet.inputs import iter_inputs

    stream = iter_inputs(args.paths)
    first = next(stream, None)
    if first is None:
        print("nestprobe: error: no input files in " + escape(", ".join(args.paths)),
              file=sys.stderr)
        return EXIT_BAD_INPUT
    inputs = chain([first], stream)
    from nestprobe.output.destination import OutputUsageError, output_target, sigterm_cleans_up

    target = None
    if args.output is not None:
        try:
            target = output_target(args.output)
        except OutputUsageError as exc:
            print(f"nestprobe: error: cannot write --output {escape(args.output)}: {exc}",
                  file=sys.stderr)
            return EXIT_USAGE
    if target is None:
        summary = _run(args, inputs, out or sys.stdout)
    else:
        from nestprobe.output.destination import written

        with sigterm_cleans_up(), written(target) as stream:
            summary = _run(args, inputs, cast("TextIO", stream))
    for req, machines in summary.short.items():
        shown = ", ".join(machines.names[:SHORT_NAMED]) + (
            ", ..." if machines.count > SHORT_NAMED else "")
        print(f"nestprobe fleet: {machines.count} of "
              f"{summary.machines + len(summary.unreadable)} machines fall short of "
              f"--require {req}: {escape(shown)}", file=sys.stderr)
    if summary.machines == 0:
        print("nestprobe: error: no input could be read", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BLOCKED if summary.failed else EXIT_OK


def _run(args: argparse.Namespace, inputs: Iterable[Any], out: TextIO) -> Any:
    from nestprobe.fleet.inputs import iter_inputs
    from nestprobe.fleet.pool import assess_all
    from nestprobe.fleet.progress import progress
    from nestprobe.fleet.render import WRITERS
    from nestprobe.fleet.summary import Summary
    from nestprobe.output.console import Console, ConsoleStream

    if not isinstance(out, ConsoleStream):  # a file: its write errors are output errors too
        out = cast("TextIO", ConsoleStream(Console(out)))
    # Names kept: what the outputs show (the table --names of them, all for --names 0;
    # the lines on stderr SHORT_NAMED), not every machine's.
    shown = args.names if args.names > 0 else None
    keep = None if args.format == "table" and shown is None else max(shown or 0, SHORT_NAMED)
    summary = Summary(tuple(args.require), keep)
    writer = WRITERS[args.format](out, args.names)
    bar = progress(lambda: sum(1 for _ in iter_inputs(args.paths)), sys.stderr)
    try:
        for result in assess_all(inputs, keep_line=args.format == "jsonl",
                                 workers=args.jobs or None):
            summary.add(result)
            writer.add(result)
            bar.update(1)
    finally:
        bar.close()
    writer.finish(summary)
    return summary
