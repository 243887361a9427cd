"""The ``nestprobe fleet PATH...`` sub-command. Importing this module is cheap: the work
is imported by the handler, so the rest of the CLI does not pay for it.

Exit codes follow the CLI contract (README "Exit status"): 0 done; 1 some machine falls
short of a ``--require`` (an unreadable input counts as short: it proves nothing);
2 usage (including an ``--output`` nobody can write); 6 no input could be read at all.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

# EXIT_BLOCKED, `check`'s "blocked", means here that some machine falls short of --require.
from nestprobe.model.contract import EXIT_BAD_INPUT, EXIT_BLOCKED, EXIT_OK, EXIT_USAGE
from nestprobe.model.safetext import escape

FORMATS = ("table", "csv", "jsonl", "prometheus")


def _requirement(text: str) -> Any:
    from nestprobe.fleet.require import parse_requirement

    try:
        return parse_requirement(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    fleet.add_argument("--jobs", type=int, default=0, metavar="N",
                       help="worker processes (default: one per available core)")
    fleet.add_argument("--names", type=int, default=20, metavar="N",
                       help="machines named per line of the table (0: all; default 20)")
    fleet.add_argument("--output", metavar="FILE", help="write here instead of stdout, "
                       "atomically (a textfile collector never reads half a file)")
    fleet.set_defaults(handler=run_fleet_command)


@contextmanager
def _destination(path: str | None, fallback: TextIO) -> Iterator[TextIO]:
    """stdout, or a temporary file renamed over ``path`` only once it is complete."""
    if path is None:
        yield fallback
        return
    import tempfile  # here: the rest of the CLI starts faster without it

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".nestprobe-fleet.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from node_exporter
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def run_fleet_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from nestprobe.fleet.inputs import collect
    from nestprobe.fleet.pool import assess_all
    from nestprobe.fleet.progress import progress
    from nestprobe.fleet.record import Result, Unreadable
    from nestprobe.fleet.render import WRITERS
    from nestprobe.fleet.summary import Summary

    inputs, missing = collect(args.paths)
    if not inputs and not missing:
        print("nestprobe: error: no input files in " + escape(", ".join(args.paths)),
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.output and not os.access(os.path.dirname(os.path.abspath(args.output)), os.W_OK):
        print(f"nestprobe: error: cannot write --output {escape(args.output)}: its directory "
              "is not writable", file=sys.stderr)
        return EXIT_USAGE
    summary = Summary(tuple(args.require))
    with _destination(args.output, out or sys.stdout) as stream:
        writer = WRITERS[args.format](stream, args.names)
        bar = progress(len(inputs), sys.stderr)
        try:
            early: list[Result] = [Unreadable(m.path, m.path, f"{m.path}: {m.reason}")
                                   for m in missing]
            for result in early:
                summary.add(result)
                writer.add(result)
            for result in assess_all(inputs, keep_line=args.format == "jsonl",
                                     workers=args.jobs or None):
                summary.add(result)
                writer.add(result)
                bar.update(1)
        finally:
            bar.close()
        writer.finish(summary)
    for req, machines in summary.short.items():
        shown = ", ".join(machines[:5]) + (", ..." if len(machines) > 5 else "")
        print(f"nestprobe fleet: {len(machines)} of {summary.machines + len(summary.unreadable)}"
              f" machines fall short of --require {req}: {escape(shown)}", file=sys.stderr)
    if summary.machines == 0:
        print("nestprobe: error: no input could be read", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BLOCKED if summary.failed else EXIT_OK
