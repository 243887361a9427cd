"""Command line: ``nestprobe [report|check|dump|bench] ...``.

``main()`` returns the exit code (README "The contract"; nestprobe/model/contract.py)
and never lets an exception escape: an uncaught traceback would exit 1, which
``nestprobe check`` uses for "blocked". Ctrl-C exits 130 quietly; an output that cannot
be written exits 8 with one line; a reader that stops reading (``| head``) is no error.
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
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    READINESS_EXIT,
    STATUS_EXIT,
    VERSION,
)
from nestprobe.model.errors import CpuSelectionError, DumpFormatError
from nestprobe.model.safetext import escape
from nestprobe.model.verdicts import SCENARIOS

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Scenario
    from nestprobe.output.console import Console

COMMANDS = ("report", "check", "dump", "bench", "fleet")

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


class _Parser(argparse.ArgumentParser):
    """argparse, except that help and version text written to a failing stdout is an
    output error (exit 8), not silently lost (argparse swallows OSError there)."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if not message:
            return
        if file is None or file is not sys.stdout:
            super()._print_message(message, file)
            return
        from nestprobe.output.console import Console

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nestprobe",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nestprobe {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = sub.add_parser("report", help="the report (the default command)")
    _add_source_options(report)
    report.add_argument("--json", action="store_true", help="JSON report (schema_version 3)")
    report.add_argument("--format", choices=("text", "json", "prometheus"), default=None,
                        help="text (default), json (= --json), or prometheus "
                        "(node_exporter textfile-collector metrics)")

    check = sub.add_parser("check", help="one scenario's verdict as an exit code, for installers")
    check.add_argument("scenario", choices=SCENARIOS)
    _add_source_options(check)
    check.add_argument("--json", action="store_true", help="the JSON report (same schema)")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing; exit code only")
    check.add_argument("--ready", action="store_true",
                       help="exit 0 only when ready now; 9 after steps in this OS, 10 when "
                       "another layer or a person must confirm (README: The contract)")

    dump = sub.add_parser("dump", help="write this machine's snapshot in nestprobe's dump format")
    dump.add_argument("--no-timing", action="store_true", help="leave the latency record out")
    dump.add_argument("--thorough", action="store_true", help="measure exit latency longer")
    dump.add_argument("--prove", action="store_true",
                      help="also run a tiny VM here and record what it did (a proof record)")

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


def _contradiction(args: argparse.Namespace) -> str | None:  # noqa: PLR0911 (a case table, read top to bottom)
    """Options that cannot both be meant; None when the combination is coherent."""
    if getattr(args, "thorough", False) and getattr(args, "no_timing", False):
        return "--thorough measures longer and --no-timing measures nothing: choose one"
    if args.command not in ("report", "check"):
        return None
    if args.from_file is not None and args.thorough:
        return ("--thorough measures this machine; a dump given with --from carries its own "
                "measurement (or none)")
    quiet = getattr(args, "quiet", False)
    if quiet and args.json:
        return "-q prints nothing and --json prints the report: choose one"
    if quiet and args.verbose:
        return "-q prints nothing and --verbose prints everything: choose one"
    if args.verbose and args.json:
        return "--verbose is for the text report; the JSON always holds everything"
    fmt = getattr(args, "format", None)
    if args.json and fmt not in (None, "json"):
        return f"--json and --format {fmt} ask for two formats: choose one"
    if args.verbose and fmt in ("json", "prometheus"):
        return f"--verbose is for the text report; --format {fmt} is not text"
    return None


def _report_for(args: argparse.Namespace) -> Report:
    from nestprobe import pipeline

    if args.from_file is not None:
        if not args.no_timing:
            return pipeline.load(args.from_file, cpu=args.cpu or 0)
        from nestprobe.model.record import replace
        from nestprobe.sources.load import load_snapshot

        # --no-timing on a dump: assess it without its latency record, as a live
        # --no-timing probe would be assessed.
        snapshot = load_snapshot(args.from_file, cpu=args.cpu or 0)
        return pipeline.build_report(replace(snapshot, latency=None))
    return pipeline.probe(timing=not args.no_timing, thorough=args.thorough, cpu=args.cpu,
                          prove=args.prove)


def _write_json(report: Report, out: Console) -> None:
    from nestprobe.output.jsonreport import render_json

    out.write(render_json(report) + "\n")


def _write_text(report: Report, out: Console, verbose: bool) -> None:
    from nestprobe.output.console import terminal_width, wants_colour
    from nestprobe.output.text import WIDTH, render_text, render_verbose

    colour = wants_colour(out.stream)
    if verbose:
        out.write(render_verbose(report, colour=colour))
    else:
        out.write(render_text(report, width=terminal_width(out.stream, WIDTH), colour=colour))


def _replayed_without_proof(args: argparse.Namespace, report: Report) -> None:
    """``--prove --from DUMP`` shows the dump's proof; say so when it has none."""
    if args.prove and args.from_file is not None and report.snapshot.proof is None:
        _say("note: the dump carries no proof record (write one with nestprobe dump --prove)")


def _run_report(args: argparse.Namespace, out: Console) -> int:
    report = _report_for(args)
    _replayed_without_proof(args, report)
    if args.format == "prometheus":
        from nestprobe.output.jsonreport import report_to_dict
        from nestprobe.output.prometheus import metrics_from_report, render_prometheus

        out.write(render_prometheus([metrics_from_report(report_to_dict(report))]))
    elif args.json or args.format == "json":
        _write_json(report, out)
    else:
        _write_text(report, out, args.verbose)
    return EXIT_OK


def _run_check(args: argparse.Namespace, out: Console) -> int:
    report = _report_for(args)
    _replayed_without_proof(args, report)
    verdict = report.verdicts[cast("Scenario", args.scenario)]
    if args.json:
        _write_json(report, out)
    elif args.verbose:
        _write_text(report, out, True)
    elif not args.quiet:
        from nestprobe.output.console import wants_colour
        from nestprobe.output.text import WIDTH, answer_lines, finish, verdict_detail

        colour = wants_colour(out.stream)
        out.write(finish([*answer_lines(report, WIDTH)], colour) + "\n")
        out.write(finish(verdict_detail(verdict), colour))
    if args.ready:
        from nestprobe.verdicts.readiness import readiness

        ready = readiness(verdict)
        if not args.quiet and not args.json:
            from nestprobe.output.text import readiness_lines

            out.write(finish(readiness_lines(ready), False))
        if ready.state in READINESS_EXIT:
            return READINESS_EXIT[ready.state]
    return STATUS_EXIT.get(verdict.status, EXIT_UNKNOWN)


def _run_dump(args: argparse.Namespace, out: Console) -> int:
    from nestprobe.sources.dumpfile import format_dump
    from nestprobe.sources.live import live_snapshot

    out.write(format_dump(live_snapshot(timing=not args.no_timing, thorough=args.thorough,
                                        prove=args.prove)))
    return EXIT_OK


def _say(message: str) -> None:
    """One line on stderr, escaped and encodable; a closed stderr is not an error."""
    from nestprobe.output.console import fit_encoding

    stream = sys.stderr
    if stream is None:
        return
    line = "nestprobe: " + escape(message)
    try:
        stream.write(fit_encoding(line, getattr(stream, "encoding", None)) + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush cannot fail again (the
    recipe of the Python docs for SIGPIPE); only for the process's own stdout."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def _dispatch(args: argparse.Namespace, out: Console) -> int:
    if args.command == "check":
        return _run_check(args, out)
    if args.command == "dump":
        return _run_dump(args, out)
    if args.command in ("bench", "fleet"):
        # The apps write through the CLI's stdout wrapper: a closed or full stdout is exit 8.
        from nestprobe.output.console import ConsoleStream

        code: int = args.handler(args, cast("TextIO", ConsoleStream(out)))
        return code
    return _run_report(args, out)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:  # noqa: PLR0911 (a case table, read top to bottom)
    from nestprobe.output.console import Console, OutputError

    own_stdout = out is None
    console = Console(sys.stdout if own_stdout else out)
    args_list = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
            code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
            if code == EXIT_OK:
                console.flush()
            return code
        problem = _contradiction(args)
        if problem is not None:
            _say(f"error: {problem}")
            return EXIT_USAGE
        code = _dispatch(args, console)
        console.flush()
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CpuSelectionError as exc:  # before DumpFormatError: a CPU the dump lacks is usage
        _say(f"error: {exc}")
        return EXIT_USAGE
    except DumpFormatError as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `nestprobe | head`: the reader stopped reading; not an error
        if own_stdout:
            _silence_stdout()
        return EXIT_OK
    except OutputError as exc:
        _say(f"error: cannot write the output: {exc}")
        if own_stdout:
            _silence_stdout()
        return EXIT_OUTPUT
    except Exception as exc:
        _say(f"internal error: {type(exc).__name__}: {exc}")
        if os.environ.get("NESTPROBE_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL
