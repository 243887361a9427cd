"""The per-file work of ``nestprobe fleet``, run in worker processes.

A file that starts with ``{`` is taken as a ``nestprobe --json`` report; anything else is
loaded and assessed as ``nestprobe.load`` does (every dump format ``report --from``
reads). Whatever goes wrong with one file becomes an :class:`Unreadable` with the reason:
a bad file never stops the run, and nothing here raises.
"""

from __future__ import annotations

import json
from typing import Any

from nestprobe.fleet.inputs import Input
from nestprobe.fleet.record import (
    ReportShapeError,
    Result,
    Unreadable,
    check_report,
    machine_from_report,
)
from nestprobe.model.errors import DumpFormatError

#: Where a dump records its host's name: the static dumper writes this file when asked
#: (the Ansible playbook passes ``--file /proc/sys/kernel/hostname``).
HOSTNAME_FILES = ("/proc/sys/kernel/hostname", "/etc/hostname")
HOSTNAME_MAX = 253  # a DNS name's limit; anything longer is not a host name


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse_json(text: str, path: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DumpFormatError(path, exc.lineno, "a JSON report", exc.msg) from None
    except (ValueError, RecursionError) as exc:
        raise DumpFormatError(path, None, "a JSON report", str(exc)) from None


def _hostname(report: Any) -> str | None:
    files = report.snapshot.os
    for path in HOSTNAME_FILES:
        text = files.text(path)
        if text:
            name: str = text.strip().split("\n", 1)[0].strip()
            if 0 < len(name) <= HOSTNAME_MAX:
                return name
    return None


def assess(item: Input, keep_line: bool = False) -> Result:
    """One input file -> its machine's record, or why it could not be read."""
    from nestprobe.sources.importers.common import decode_bytes, read_bytes

    try:
        # Read once, bounded, with the dump loader's errors (they name the file).
        decoded = decode_bytes(read_bytes(item.path), item.path)
        text = decoded.text
        # A Firecracker template is JSON too, but a dump (sources/importers/firecracker.py).
        if text.lstrip(" \t\r\n").startswith("{") and '"cpuid_modifiers"' not in text:
            report = check_report(_parse_json(text, item.path))
            hostname = None
        else:  # nestprobe.load(path) on the text already read
            from nestprobe.output.jsonreport import report_to_dict
            from nestprobe.pipeline import build_report
            from nestprobe.sources.load import parse_snapshot

            assessed = build_report(parse_snapshot(text, item.path, encoding=decoded.encoding,
                                                   encoding_how=decoded.how))
            report = report_to_dict(assessed)
            hostname = _hostname(assessed)
        return machine_from_report(report, item.machine, item.path, hostname,
                                   keep_line=keep_line)
    except DumpFormatError as exc:
        return Unreadable(item.machine, item.path, str(exc))
    except ReportShapeError as exc:
        return Unreadable(item.machine, item.path,
                          f"{item.path}: expected a nestprobe JSON report: {exc}")
    except Exception as exc:  # a bug of ours must not stop the other 9,999 machines
        return Unreadable(item.machine, item.path,
                          f"{item.path}: internal error: {type(exc).__name__}: {exc}")


def assess_batch(batch: tuple[tuple[Input, ...], bool]) -> list[Result]:
    """A chunk of inputs in one call: one round trip to the worker per chunk."""
    items, keep_line = batch
    return [assess(item, keep_line) for item in items]
