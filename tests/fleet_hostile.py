"""Hostile fleets for the contract rows and fuzz targets of issue 22: directory trees with
special files, names no terminal or spreadsheet should see raw, JSON reports with
hostile text, and a parser for each output format.

Everything is built from the repository's own snapshots (tests/hostile.py), so it works in
a clone without ``../shared``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from hostile import ESCAPES, hostile_snapshot, own_dump, snapshot

from nestprobe.output.jsonreport import report_to_dict
from nestprobe.pipeline import build_report

#: File names (bytes: Linux names are bytes) a machine could give its own report: formula
#: starters, CR/LF, terminal escapes, bidi overrides, undecodable bytes that differ only
#: in that byte, a name that looks like an escaped one.
HOSTILE_NAMES: tuple[bytes, ...] = (
    b"=HYPERLINK(\"x\")", b"+cmd", b"-2+3", b"@SUM(A1)", b"a\rb", b"a\nb",
    b"\x1b]0;retitled\x07", "\u202eevil".encode(), b"m\xff", b"m\xfe", b"m\\xff",
    b"tab\tinside", b'quote"inside', b"comma,inside", b"web-01",
)


def good_dump(text: str = "") -> str:
    """One machine's dump (hostile text in every text field when ``text`` is given)."""
    return own_dump(hostile_snapshot(text) if text else snapshot())


def hostile_report(text: str = ESCAPES) -> dict[str, Any]:
    """A JSON report whose answer-feeding texts (fixes' where and steps, evidence) carry
    ``text``: what a machine that lies, or a file that was edited, hands the fleet."""
    data = report_to_dict(build_report(hostile_snapshot(text)))
    for verdict in data["verdicts"].values():
        verdict["remediation"] = [{"id": "fuzz", "layer": "this-os", "where": f"where {text}",
                                   "steps": [f"step {text}"], "source": "s", "goal": None}]
    return data


def write_name(directory: Path, name: bytes, data: str) -> Path:
    """A file named by the raw bytes ``name`` (+ ``.dump``) holding ``data``."""
    path = os.path.join(os.fsencode(directory), name + b".dump")
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(data)
    return Path(os.fsdecode(path))


@contextmanager
def special_tree(base: Path) -> Iterator[dict[str, Path]]:
    """A results tree with one readable machine and, beside it, everything walking must
    list and skip unopened: a FIFO whose writer never writes, a socket, a symbolic link to
    a character device, a dangling link, a link loop, and a linked directory (followed
    once: its machine counts). Yields the named paths."""
    tree = base / "tree"
    (tree / "dc1").mkdir(parents=True)
    (tree / "dc1" / "good.dump").write_text(good_dump())
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "linked.dump").write_text(good_dump())
    (tree / "dc2").symlink_to(elsewhere, target_is_directory=True)
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "dangling.dump").symlink_to(base / "nothing")
    (tree / "null.dump").symlink_to("/dev/null")
    paths = {"tree": tree, "dc2": tree / "dc2", "loop": tree / "loop",
             "dangling": tree / "dangling.dump", "null": tree / "null.dump"}
    with ExitStack() as stack:
        if hasattr(os, "mkfifo"):
            fifo = tree / "silent.fifo"
            os.mkfifo(fifo)
            writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # connected, never writes
            stack.callback(os.close, writer)
            paths["fifo"] = fifo
        if hasattr(socket, "AF_UNIX"):
            sock = socket.socket(socket.AF_UNIX)
            stack.callback(sock.close)
            sock.bind(str(tree / "control.sock"))
            paths["socket"] = tree / "control.sock"
        yield paths


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def strict_lines(text: str) -> list[dict[str, Any]]:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON: {name}")

    return [json.loads(line, parse_constant=refuse) for line in text.splitlines()]


def prometheus_series(text: str) -> list[str]:
    """Every sample line's series (name and labels), comments left out."""
    return [line.rsplit(" ", 1)[0] for line in text.splitlines()
            if line and not line.startswith("#")]
