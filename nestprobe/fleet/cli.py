"""The ``nestprobe fleet PATH...`` sub-command. Importing this module is cheap: the work
is imported by the handler, so the rest of the CLI does not pay for it.

Exit codes follow the CLI contract (README "Exit status"): 0 done; 1 some machine falls
short of a ``--require`` (an unreadable input counts as short: it proves nothing);
2 usage (including an ``--output`` nobody can write); 6 no input could be read at all.
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

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


class OutputUsageError(ValueError):
    """An ``--output`` nobody can write as asked: a usage error (exit 2), found before
    any machine is assessed."""


#: How ``--output`` is written: "new" and "file" through a temporary file renamed over
#: the path once complete (atomic: a textfile collector never reads half a file);
#: "stream" (a character device such as /dev/null, a FIFO) opened and written as a shell
#: redirection would, never replaced.
Target = tuple[str, str]


def output_target(path: str) -> Target:
    """What ``path`` is and where to write: a symbolic link is written through, to its
    target, whose nature is kept. Raises :class:`OutputUsageError` for what cannot be
    written: a directory, a block device, a socket, a path whose directory is missing."""
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except FileNotFoundError:
        parent = os.path.dirname(real)
        if not os.path.isdir(parent):
            raise OutputUsageError("its directory does not exist") from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputUsageError("its directory is not writable") from None
        return ("new", real)
    except (OSError, ValueError) as exc:
        raise OutputUsageError(str(getattr(exc, "strerror", None) or exc).lower()) from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputUsageError("it is a directory")
    if stat.S_ISBLK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        raise OutputUsageError("it is a block device or a socket, not written")
    if not stat.S_ISREG(info.st_mode):
        return ("stream", real)
    if not os.access(real, os.W_OK):
        raise OutputUsageError("the file is not writable")
    if not os.access(os.path.dirname(real), os.W_OK | os.X_OK):
        return ("stream", real)  # a writable file in a locked directory: written in place
    return ("file", real)


def _catch_sigterm() -> Any:
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (a library caller): no handler, no cleanup
        return None


class _Terminated(BaseException):
    """SIGTERM while ``--output`` is being written: unwind, so the temporary file goes."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _keep_owner_and_mode(tmp: str, real: str) -> bool:
    """Give ``tmp`` the owner and mode of the file it replaces; False if it cannot."""
    try:
        info = os.stat(real)
        if (info.st_uid, info.st_gid) != (os.stat(tmp).st_uid, os.stat(tmp).st_gid):
            os.chown(tmp, info.st_uid, info.st_gid)
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
    except (OSError, AttributeError):  # not ours to give away; no chown on Windows
        return False
    return True


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask  # what a shell redirection creates


@contextmanager
def _destination(target: Target | None, fallback: TextIO) -> Iterator[TextIO]:
    """stdout, the path itself (a stream), or a temporary file renamed over the path only
    once it is complete. Write failures (a full disk) are output errors: exit 8."""
    if target is None:
        yield fallback
        return
    from nestprobe.output.console import Console, ConsoleStream, OutputError

    kind, real = target
    try:
        if kind == "stream":
            with open(real, "w", encoding="utf-8", newline="") as stream:
                yield cast("TextIO", ConsoleStream(Console(stream)))
            return
        import tempfile  # here: the rest of the CLI starts faster without it

        fd, tmp = tempfile.mkstemp(prefix=".nestprobe-fleet.", dir=os.path.dirname(real))
    except OSError as exc:
        raise OutputError(f"{escape(real)}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield cast("TextIO", ConsoleStream(Console(stream)))
            stream.flush()
            os.fsync(stream.fileno())
        if kind == "new":
            os.chmod(tmp, _new_file_mode())
        elif not _keep_owner_and_mode(tmp, real):
            raise OutputError(f"{escape(real)}: cannot keep its owner and mode")
        os.replace(tmp, real)
    except OSError as exc:
        os.unlink(tmp)
        raise OutputError(f"{escape(real)}: {(exc.strerror or str(exc)).lower()}") from None
    except BaseException:
        os.unlink(tmp)
        raise


def run_fleet_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from nestprobe.fleet.inputs import collect

    inputs, missing = collect(args.paths)
    if not inputs and not missing:
        print("nestprobe: error: no input files in " + escape(", ".join(args.paths)),
              file=sys.stderr)
        return EXIT_BAD_INPUT
    target = None
    if args.output is not None:
        try:
            target = output_target(args.output)
        except OutputUsageError as exc:
            print(f"nestprobe: error: cannot write --output {escape(args.output)}: {exc}",
                  file=sys.stderr)
            return EXIT_USAGE
    previous = _catch_sigterm() if target else None
    try:
        summary = _run(args, inputs, missing, target, out or sys.stdout)
    except _Terminated:  # the temporary file is gone; now end as SIGTERM ends a process
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    for req, machines in summary.short.items():
        shown = ", ".join(machines[:5]) + (", ..." if len(machines) > 5 else "")
        print(f"nestprobe fleet: {len(machines)} of {summary.machines + len(summary.unreadable)}"
              f" machines fall short of --require {req}: {escape(shown)}", file=sys.stderr)
    if summary.machines == 0:
        print("nestprobe: error: no input could be read", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BLOCKED if summary.failed else EXIT_OK


def _run(args: argparse.Namespace, inputs: list[Any], missing: list[Any],
         target: Target | None, out: TextIO) -> Any:
    from nestprobe.fleet.pool import assess_all
    from nestprobe.fleet.progress import progress
    from nestprobe.fleet.record import Result, Unreadable
    from nestprobe.fleet.render import WRITERS
    from nestprobe.fleet.summary import Summary

    summary = Summary(tuple(args.require))
    with _destination(target, out) as stream:
        writer = WRITERS[args.format](stream, args.names)
        bar = progress(len(inputs), sys.stderr)
        try:
            early: list[Result] = [Unreadable(escape(m.path), m.path, f"{m.path}: {m.reason}")
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
    return summary
