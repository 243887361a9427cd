"""The per-file work of ``nestprobe fleet``, run in worker processes.

A file that starts with ``{`` is taken as a ``nestprobe --json`` report; anything else is
loaded and assessed as ``nestprobe.load`` does (every dump format ``report --from``
reads). Whatever goes wrong with one file becomes an :class:`Unreadable` with the reason:
a bad file never stops the run, and nothing here raises.
"""

from __future__ import annotations

from typing import Any

from nestprobe.fleet.inputs import Input, Missing
from nestprobe.fleet.record import Machine, Result, Unreadable, machine_from_report
from nestprobe.model.errors import DumpFormatError
from nestprobe.model.report import Report, ReportFormatError
from nestprobe.model.strictjson import StrictJsonError, loads
from nestprobe.output.jsonreport import SCHEMA_VERSION

#: Where a dump records its host's name: the static dumper writes this file when asked
#: (the Ansible playbook passes ``--file /proc/sys/kernel/hostname``).
HOSTNAME_FILES = ("/proc/sys/kernel/hostname", "/etc/hostname")
HOSTNAME_MAX = 253  # a DNS name's limit; anything longer is not a host name


def _read_report(text: str, path: str) -> Report:
    """A ``nestprobe --json`` report, read as strictly as a dump (model/strictjson.py)."""
    try:
        return Report.from_dict(loads(text))
    except StrictJsonError as exc:
        raise DumpFormatError(path, exc.line, f"a nestprobe JSON report: {exc.reason}") from None
    except ReportFormatError as exc:
        raise DumpFormatError(path, None, f"a nestprobe JSON report of schema_version "
                              f"{SCHEMA_VERSION}: {exc}") from None


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
    from nestprobe.pipeline import read_dump_text

    try:
        # Read once, bounded, with the dump loader's errors (they name the file).
        decoded = read_dump_text(item.path)
        text = decoded.text
        # A Firecracker template is JSON too, but a dump (sources/importers/firecracker.py).
        if text.lstrip(" \t\r\n").startswith("{") and '"cpuid_modifiers"' not in text:
            report = _read_report(text, item.path)
        else:  # nestprobe.load(path) on the text already read
            from nestprobe.pipeline import build_report, parse_snapshot

            report = build_report(parse_snapshot(text, item.path, encoding=decoded.encoding,
                                                 encoding_how=decoded.how))
        return machine_from_report(report, item.machine, item.path, _hostname(report),
                                   keep_line=keep_line)
    except DumpFormatError as exc:
        return Unreadable(item.machine, item.path, str(exc))
    except Exception as exc:  # a bug of ours must not stop the other 9,999 machines
        return Unreadable(item.machine, item.path,
                          f"{item.path}: internal error: {type(exc).__name__}: {exc}")


#: What a worker is handed: an input to read, one that cannot be read, or a result made
#: already (standard input, read by the parent).
Item = Input | Missing | Machine | Unreadable


def assess_item(item: Item, keep_line: bool = False) -> Result:
    if isinstance(item, Input):
        return assess(item, keep_line)
    if isinstance(item, Missing):
        return Unreadable(item.machine, item.path, f"{item.path}: {item.reason}")
    return item


def assess_batch(batch: tuple[tuple[Item, ...], bool]) -> list[Result]:
    """A chunk of inputs in one call: one round trip to the worker per chunk."""
    items, keep_line = batch
    return [assess_item(item, keep_line) for item in items]
