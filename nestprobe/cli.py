"""Command line: ``nestprobe [report|check|dump|bench] ...``.

``main()`` returns the exit code and never lets an exception escape: an uncaught
traceback would exit 1, which ``nestprobe check`` uses for "blocked".
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO, cast

from nestprobe.model.contract import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    STATUS_EXIT,
    VERSION,
)
from nestprobe.model.errors import DumpFormatError
from nestprobe.model.verdicts import SCENARIOS

if TYPE_CHECKING:
    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Scenario

COMMANDS = ("report", "check", "dump", "bench", "fleet")


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="assess a dump file instead of this machine",
    )
    parser.add_argument(
        "--cpu",
        type=int,
        default=0,
        metavar="N",
        help="logical CPU to take from a multi-CPU dump (default 0)",
    )
    parser.add_argument(
        "--no-timing", action="store_true", help="skip the CPUID exit-latency measurement"
    )
    parser.add_argument(
        "--thorough",
        action="store_true",
        help="measure exit latency longer (about 0.2 s) for a steadier level estimate",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nestprobe",
        description="Can I nest? Hypervisor, VT-x/AMD-V exposure, nesting level and "
        "Microsoft's support matrix for this machine, with evidence.",
    )
    parser.add_argument("--version", action="version", version=f"nestprobe {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = sub.add_parser("report", help="the full report (the default command)")
    _add_source_options(report)
    report.add_argument("--json", action="store_true", help="JSON report (schema_version 1)")
    report.add_argument("--format", choices=("text", "json", "prometheus"), default=None,
                        help="text (default), json (= --json), or prometheus "
                        "(node_exporter textfile-collector metrics)")

    check = sub.add_parser("check", help="one scenario's verdict as an exit code, for installers")
    check.add_argument("scenario", choices=SCENARIOS)
    _add_source_options(check)
    check.add_argument("--json", action="store_true", help="the JSON report (same schema)")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing; exit code only")

    dump = sub.add_parser("dump", help="write this machine's snapshot in nestprobe's dump format")
    dump.add_argument("--no-timing", action="store_true", help="leave the latency record out")
    dump.add_argument("--thorough", action="store_true", help="measure exit latency longer")

    from nestprobe.bench.cli import register
    from nestprobe.fleet.cli import register as register_fleet

    register(sub)
    register_fleet(sub)
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    """``nestprobe`` and ``nestprobe --json`` mean ``nestprobe report ...``."""
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help", "--version")):
        return argv
    return ["report", *argv]


def _report_for(args: argparse.Namespace) -> Report:
    from nestprobe import pipeline

    if args.from_file:
        return pipeline.load(args.from_file, cpu=args.cpu)
    return pipeline.probe(timing=not args.no_timing, thorough=args.thorough)


def _write_json(report: Report, out: TextIO) -> None:
    from nestprobe.output.jsonreport import render_json

    out.write(render_json(report) + "\n")


def _run_report(args: argparse.Namespace, out: TextIO) -> int:
    report = _report_for(args)
    if args.format == "prometheus":
        from nestprobe.output.jsonreport import report_to_dict
        from nestprobe.output.prometheus import metrics_from_report, render_prometheus

        out.write(render_prometheus([metrics_from_report(report_to_dict(report))]))
    elif args.json or args.format == "json":
        _write_json(report, out)
    else:
        from nestprobe.output.text import render_text

        out.write(render_text(report))
    return EXIT_OK


def _run_check(args: argparse.Namespace, out: TextIO) -> int:
    report = _report_for(args)
    verdict = report.verdicts[cast("Scenario", args.scenario)]
    if args.json and not args.quiet:
        _write_json(report, out)
    elif not args.quiet:
        from nestprobe.output.answer import answer
        from nestprobe.output.text import render_verdict

        out.write(f"{answer(report)}\n\n")
        out.write(render_verdict(verdict))
    return STATUS_EXIT.get(verdict.status, EXIT_UNKNOWN)


def _run_dump(args: argparse.Namespace, out: TextIO) -> int:
    from nestprobe.sources.dumpfile import format_dump
    from nestprobe.sources.live import live_snapshot

    out.write(format_dump(live_snapshot(timing=not args.no_timing, thorough=args.thorough)))
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stream = out if out is not None else sys.stdout
    args_list = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if args.command == "check":
            return _run_check(args, stream)
        if args.command == "dump":
            return _run_dump(args, stream)
        if args.command == "fleet":
            fleet_code: int = args.handler(args, stream)
            return fleet_code
        if args.command == "bench":
            code: int = args.handler(args)
            return code
        return _run_report(args, stream)
    except DumpFormatError as exc:
        print(f"nestprobe: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `nestprobe | head`: not an error of ours
        return EXIT_OK
    except Exception as exc:
        print(f"nestprobe: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("NESTPROBE_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL
