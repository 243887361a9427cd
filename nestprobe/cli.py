"""Command line: ``nestprobe [report|check|dump|bench] ...``.

``main()`` returns the exit code (README "The contract"; nestprobe/model/contract.py)
and never lets an exception escape: an uncaught traceback would exit 1, which
``nestprobe check`` uses for "blocked". Ctrl-C exits 130 quietly; an output that cannot
be written exits 8 with one line; a reader that stops reading (``| head``) is no error.
"""

from __future__ import annotations

import os
import sys

from nestprobe.model.contract import (
    COMMANDS,
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    READINESS_EXIT,
    STATUS_EXIT,
)
from nestprobe.model.errors import CpuSelectionError, DumpFormatError
from nestprobe.model.safetext import escape
from nestprobe.model.typeshim import (
    TYPE_CHECKING,
    Iterator,
    Sequence,
    SimpleNamespace,
    TextIO,
    cast,
    contextmanager,
)
from nestprobe.model.verdicts import SCENARIOS

if TYPE_CHECKING:
    import argparse
    from typing import TypeAlias

    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Scenario
    from nestprobe.output.console import Console

    #: What the commands read: argparse's namespace, or :func:`_quick_parse`'s.
    _Args: TypeAlias = argparse.Namespace | SimpleNamespace

#: The options :func:`_quick_parse` knows: flag -> (Namespace attribute, takes a value).
_QUICK_OPTIONS: dict[str, tuple[str, bool]] = {
    "--json": ("json", False), "-v": ("verbose", False), "--verbose": ("verbose", False),
    "--no-timing": ("no_timing", False), "--thorough": ("thorough", False),
    "--prove": ("prove", False),
    "--from": ("from_file", True), "--cpu": ("cpu", True),
}
_QUICK_CHECK = {"-q": ("quiet", False), "--quiet": ("quiet", False),
                "--ready": ("ready", False)}
_QUICK_REPORT = {"--format": ("format", True)}
_FORMATS = ("text", "json", "prometheus")


def _quick_parse(argv: list[str]) -> SimpleNamespace | None:  # noqa: PLR0911, PLR0912 (a case table, read top to bottom)
    """The plain ``report`` and ``check`` command lines without argparse, or None.

    ``nestprobe check SCENARIO`` is what installers run: argparse, with the gettext and
    locale it imports and the parser it builds, is a fifth of its cold start. Only exact
    spellings of the options are taken here, each at most once; anything else (help,
    abbreviations, a repeated or unknown option, a missing or odd value) returns None and
    argparse parses it as always, with its usage messages. ``tests/cli/test_cold_start.py``
    checks that both parsers give the same namespace for the lines taken here.
    """
    command, rest = argv[0], argv[1:]
    if command == "check":
        known = {**_QUICK_OPTIONS, **_QUICK_CHECK}
        values: dict[str, object] = {"command": command, "scenario": None, "quiet": False,
                                     "ready": False}
    elif command == "report":
        known = {**_QUICK_OPTIONS, **_QUICK_REPORT}
        values = {"command": command, "format": None}
    else:
        return None
    values.update(json=False, verbose=False, no_timing=False, thorough=False, from_file=None,
                  cpu=None, prove=False)
    seen: set[str] = set()
    index = 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if not word.startswith("-"):
            if command != "check" or values["scenario"] is not None or word not in SCENARIOS:
                return None
            values["scenario"] = word
            continue
        name, equals, value = word.partition("=")
        spec = known.get(name)
        if spec is None or name in seen:
            return None
        seen.add(name)
        attribute, takes_value = spec
        if not takes_value:
            if equals:
                return None
            values[attribute] = True
            continue
        if not equals:
            if index >= len(rest):
                return None
            value = rest[index]
            index += 1
        if (value.startswith("-") and value != "-") or not value:
            return None
        if attribute == "cpu":
            if not value.isascii() or not value.isdigit():
                return None
            values[attribute] = int(value, 10)
        elif attribute == "format":
            if value not in _FORMATS:
                return None
            values[attribute] = value
        else:
            values[attribute] = value
    if command == "check" and values["scenario"] is None:
        return None
    return SimpleNamespace(**values)


def _with_default_command(argv: list[str]) -> list[str]:
    """``nestprobe`` and ``nestprobe --json`` mean ``nestprobe report ...``."""
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help", "--version")):
        return argv
    return ["report", *argv]


def _contradiction(args: _Args) -> str | None:  # noqa: PLR0911 (a case table, read top to bottom)
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


def _report_for(args: _Args) -> Report:
    from nestprobe import pipeline

    if args.from_file is not None:
        if not args.no_timing:
            return pipeline.load(args.from_file, cpu=args.cpu or 0)
        from nestprobe.model.record import replace

        # --no-timing on a dump: assess it without its latency record, as a live
        # --no-timing probe would be assessed.
        snapshot = pipeline.load_snapshot(args.from_file, cpu=args.cpu or 0)
        return pipeline.build_report(replace(snapshot, latency=None))
    finish = pipeline.start_probe(timing=not args.no_timing, thorough=args.thorough,
                                  cpu=args.cpu, prove=args.prove)
    _import_output(args)  # while the probe's CPUIDs run
    return finish()


def _import_output(args: _Args) -> None:
    """Import the output modules the command will write with."""
    if args.json or getattr(args, "format", None) == "json":
        import nestprobe.output.jsonreport
    elif getattr(args, "format", None) == "prometheus":
        import nestprobe.output.prometheus
    elif args.command == "check" and not args.verbose:
        if not args.quiet:
            import nestprobe.output.lines
    else:
        import nestprobe.output.text  # noqa: F401


def _write_json(report: Report, out: Console) -> None:
    from nestprobe.output.jsonreport import render_json

    out.write(render_json(report) + "\n")


def _write_text(report: Report, out: Console, verbose: bool) -> None:
    from nestprobe.output.console import terminal_width, wants_colour
    from nestprobe.output.lines import WIDTH
    from nestprobe.output.text import render_text, render_verbose

    colour = wants_colour(out.stream)
    if verbose:
        out.write(render_verbose(report, colour=colour))
    else:
        out.write(render_text(report, width=terminal_width(out.stream, WIDTH), colour=colour))


def _replayed_without_proof(args: _Args, report: Report) -> None:
    """``--prove --from DUMP`` shows the dump's proof; say so when it has none."""
    if args.prove and args.from_file is not None and report.snapshot.proof is None:
        _say("note: the dump carries no proof record (write one with nestprobe dump --prove)")


def _run_report(args: _Args, out: Console) -> int:
    report = _report_for(args)
    _replayed_without_proof(args, report)
    if args.format == "prometheus":
        from nestprobe.output.prometheus import metrics_from_report, render_prometheus

        out.write(render_prometheus([metrics_from_report(report)]))
    elif args.json or args.format == "json":
        _write_json(report, out)
    else:
        _write_text(report, out, args.verbose)
    return EXIT_OK


def _run_check(args: _Args, out: Console) -> int:
    report = _report_for(args)
    _replayed_without_proof(args, report)
    verdict = report.verdicts[cast("Scenario", args.scenario)]
    if args.json:
        _write_json(report, out)
    elif args.verbose:
        _write_text(report, out, True)
    elif not args.quiet:
        from nestprobe.output.console import wants_colour
        from nestprobe.output.lines import WIDTH, answer_lines, finish, verdict_detail

        colour = wants_colour(out.stream)
        out.write(finish([*answer_lines(report, WIDTH)], colour) + "\n")
        out.write(finish(verdict_detail(verdict), colour))
    if args.ready:
        from nestprobe.verdicts.readiness import readiness

        ready = readiness(verdict)
        if not args.quiet and not args.json:
            from nestprobe.output.lines import finish, readiness_lines

            out.write(finish(readiness_lines(ready), False))
        if ready.state in READINESS_EXIT:
            return READINESS_EXIT[ready.state]
    return STATUS_EXIT.get(verdict.status, EXIT_UNKNOWN)


def _run_dump(args: _Args, out: Console) -> int:
    from nestprobe.pipeline import format_dump, live_snapshot

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


@contextmanager
def collecting_garbage() -> Iterator[None]:
    """Run the body with Python's cyclic garbage collector on, then leave it as it was.

    The installed command (scripts/nestprobe) turns the collector off before it imports
    anything: what a report builds (module tables, records; ~11,600 objects the collector
    tracks at the end) lives until the process ends, so collecting while it is built frees
    next to nothing: 13 collections, 6 objects freed, 1.3-2.0 ms of a ~35 ms ``check`` here
    (bench/import_cost.py). ``bench`` and ``fleet`` run long and make garbage as they go:
    they get it back.
    """
    import gc

    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


def _dispatch(args: _Args, out: Console) -> int:
    if args.command == "check":
        return _run_check(args, out)
    if args.command == "dump":
        return _run_dump(args, out)
    if args.command in ("bench", "fleet"):
        # The apps write through the CLI's stdout wrapper: a closed or full stdout is exit 8.
        from nestprobe.output.console import ConsoleStream

        with collecting_garbage():
            code: int = args.handler(args, cast("TextIO", ConsoleStream(out)))
        return code
    return _run_report(args, out)


#: The commands that build one report (or dump) and end.
ONE_SHOT = ("report", "check", "dump")


def run() -> int:
    """The program (scripts/nestprobe, ``python -m nestprobe``, nestprobe.exe): :func:`main`
    for this process's own arguments and streams.

    A one-shot command runs without the cyclic collector (see :func:`collecting_garbage`)
    and, once its output is flushed and when nothing else in the process waits for the
    interpreter's exit (:func:`_nothing_else_waits`), leaves with ``os._exit``: the
    interpreter's teardown (modules cleared, every object freed one by one) costs a few ms
    of a ~35 ms ``check`` (bench/processes.py compares the two ways out), and the OS
    reclaims it all anyway. Nothing is lost by skipping it: the
    probe writes nothing, registers no exit handler, and its one thread (the pinned part,
    sources/live.py) has handed its outcome over before the report exists. bench and fleet
    (multiprocessing's exit handlers, the files they write) leave the usual way, as does a
    run whose streams cannot be flushed, which the interpreter's exit then reports as before.
    """
    import gc

    one_shot = _with_default_command(sys.argv[1:])[0] in ONE_SHOT
    if one_shot:
        gc.disable()
    code = main()
    if one_shot and _nothing_else_waits() and _flushed():
        os._exit(code)
    return code


def _nothing_else_waits() -> bool:
    """Whether nothing in this process expects the interpreter's own exit: no exit handler
    (coverage saves its data in one), no profiler or tracer (``python -m cProfile`` prints
    after the program returns), no ``python -i`` prompt."""
    import atexit

    handlers = getattr(atexit, "_ncallbacks", None)  # CPython's count; elsewhere: unknown
    return (handlers is not None and handlers() == 0 and not sys.flags.interactive
            and sys.gettrace() is None and sys.getprofile() is None)


def _flushed() -> bool:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            return False
    return True


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:  # noqa: PLR0911, PLR0912 (a case table, read top to bottom)
    from nestprobe.output.console import Console, OutputError

    own_stdout = out is None
    console = Console(sys.stdout if own_stdout else out)
    args_list = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    try:
        args: _Args | None = _quick_parse(args_list)
        if args is None:
            from nestprobe.parser import build_parser

            try:
                args = build_parser(args_list[0]).parse_args(args_list)
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
            import traceback

            traceback.print_exc()
        return EXIT_INTERNAL
