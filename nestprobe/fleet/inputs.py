"""Turn the command line's PATHs into input files, each with the name of its machine.

A machine is named after its file: ``web-01.dump`` and ``web-01.json`` are machine
``web-01`` (the Ansible playbook saves each host's result as ``<inventory_hostname>.dump``
or ``.json``). Under a directory the name keeps the sub-directories (``dc1/web-01``).
Names must be unique (they become CSV keys and Prometheus labels): inputs whose names
collide are named by their path instead.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass

from nestprobe.model.safetext import escape

#: The path that means standard input (as for ``--from -``).
STDIN = "-"


def describe_os_error(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


#: Stripped from a file name to name its machine (one of them, once).
SUFFIXES = (".dump", ".json", ".txt")


@dataclass(frozen=True, slots=True)
class Input:
    path: str
    machine: str


@dataclass(frozen=True, slots=True)
class Missing:
    """A path that names nothing readable (on the command line, or met while walking);
    ``machine`` is the name it is listed under, unique among every input's."""

    path: str
    reason: str
    machine: str = ""


def machine_name(relative: str) -> str:
    """``dc1/web-01.dump`` -> ``dc1/web-01``, with ``/`` as the separator everywhere."""
    name = relative.replace(os.sep, "/")
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _inside(inner: str, outer: str) -> bool:
    """``inner`` is ``outer`` or lies under it (both real paths)."""
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def _walk(top: str) -> tuple[list[str], list[Missing]]:
    """Regular files under ``top`` (sorted, hidden ones skipped), and what was not read.

    Nothing found by walking is opened but regular files, later: FIFOs, devices and
    sockets are listed and skipped (a FIFO whose writer stays silent would stop the run;
    a device's open can act). A directory that cannot be read is listed, never silently
    dropped: its machines would vanish from ``--require``. A symbolic link to a
    directory is followed once (links inside a linked directory are listed, not
    followed), and never into a directory already walked or one that contains the walk
    (``/proc/self/root`` -> ``/``): loops end.
    """
    found: list[str] = []
    problems: list[Missing] = []
    walked: set[tuple[int, int]] = set()
    real_top = os.path.realpath(top)
    stack: list[tuple[str, bool]] = [(top, False)]  # (directory, reached through a link)
    while stack:
        directory, linked = stack.pop()
        try:
            info = os.stat(directory)
            if (info.st_dev, info.st_ino) in walked:
                problems.append(Missing(directory, "a directory already walked "
                                        "(a symbolic-link loop), not read twice"))
                continue
            walked.add((info.st_dev, info.st_ino))
            with os.scandir(directory) as listing:
                entries = sorted((e for e in listing if not e.name.startswith(".")),
                                 key=lambda e: e.name)
        except OSError as exc:
            problems.append(Missing(directory, "a directory that cannot be read: "
                                    + describe_os_error(exc)))
            continue
        subdirs: list[tuple[str, bool]] = []
        for entry in entries:
            path = entry.path
            try:
                is_link = entry.is_symlink()
                mode = os.stat(path).st_mode  # follows a link: what it points to
            except (OSError, ValueError) as exc:
                reason = describe_os_error(exc) if isinstance(exc, OSError) else "a bad name"
                problems.append(Missing(path, ("a symbolic link to nothing readable: "
                                               if entry.is_symlink() else "") + reason))
                continue
            if stat.S_ISREG(mode):
                found.append(path)
            elif not stat.S_ISDIR(mode):
                problems.append(Missing(path, f"{_kind(mode)}, not read (in a directory, "
                                        "fleet reads regular files only)"))
            elif not is_link:
                subdirs.append((path, linked))
            elif linked:
                problems.append(Missing(path, "a symbolic link inside a linked directory, "
                                        "not followed (links are followed once)"))
            elif _inside(real_top, os.path.realpath(path)):
                problems.append(Missing(path, "a symbolic link to a directory that contains "
                                        "this one (a loop), not followed"))
            else:
                subdirs.append((path, True))
        stack.extend(reversed(subdirs))
    return found, problems


def collect(paths: list[str]) -> tuple[list[Input], list[Missing]]:
    """The input files named by ``paths`` (files, directories, ``-`` for standard input),
    in command-line order.

    A file reached twice (a directory and a file in it) is read once. Paths that do not
    exist, and what a directory holds that cannot be read, come back as :class:`Missing`;
    the run goes on without them. Machine names are shown escaped (no control
    characters, undecodable bytes as ``\\xNN``) and unique after escaping, so every
    output can use them as they are: a table, CSV keys, Prometheus labels.
    """
    candidates: list[tuple[str, str]] = []  # (path, proposed machine name)
    missing: list[Missing] = []
    seen: set[str] = set()
    for arg in paths:
        if arg == STDIN:
            pairs = [(arg, "stdin")]
        elif os.path.isdir(arg):
            files, problems = _walk(arg)
            missing += problems
            pairs = [(p, machine_name(os.path.relpath(p, arg))) for p in files]
        elif os.path.exists(arg) or os.path.islink(arg):
            pairs = [(arg, machine_name(os.path.basename(arg)))]
        else:
            missing.append(Missing(arg, "no such file or directory"))
            continue
        for path, name in pairs:
            key = path if path == STDIN else os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                candidates.append((path, escape(name)))
    counts = Counter(name for _, name in candidates)
    names = [name if counts[name] == 1 else escape(path) for path, name in candidates]
    # What cannot be read is listed under its escaped path, unique among all the names.
    unique = _unique(names + [escape(m.path) for m in missing])
    inputs = [Input(path, name) for (path, _), name in zip(candidates, unique, strict=False)]
    listed = [Missing(m.path, m.reason, name)
              for m, name in zip(missing, unique[len(candidates):], strict=True)]
    return inputs, listed


def _unique(names: list[str]) -> list[str]:
    """A path can still equal another input's name: number the later ones."""
    taken: set[str] = set()
    out: list[str] = []
    for name in names:
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name} ({n})"
        taken.add(unique)
        out.append(unique)
    return out
