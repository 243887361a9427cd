"""Turn the command line's PATHs into input files, each with the name of its machine.

A machine is named after its file: ``web-01.dump`` and ``web-01.json`` are machine
``web-01`` (the Ansible playbook saves each host's result as ``<inventory_hostname>.dump``
or ``.json``). Under a directory the name keeps the sub-directories (``dc1/web-01``).
Names must be unique (they become CSV keys and Prometheus labels): inputs whose names
collide are named by their path instead.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

#: Stripped from a file name to name its machine (one of them, once).
SUFFIXES = (".dump", ".json", ".txt")


@dataclass(frozen=True, slots=True)
class Input:
    path: str
    machine: str


@dataclass(frozen=True, slots=True)
class Missing:
    """A command-line PATH that names nothing readable."""

    path: str
    reason: str


def machine_name(relative: str) -> str:
    """``dc1/web-01.dump`` -> ``dc1/web-01``, with ``/`` as the separator everywhere."""
    name = relative.replace(os.sep, "/")
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _walk(top: str) -> list[str]:
    """Regular files under ``top``, sorted, skipping hidden files and directories."""
    found: list[str] = []
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files) if not f.startswith(".")]
    return found


def collect(paths: list[str]) -> tuple[list[Input], list[Missing]]:
    """The input files named by ``paths`` (files or directories), in command-line order.

    A file reached twice (a directory and a file in it) is read once. Paths that do not
    exist come back as :class:`Missing`; the run goes on without them.
    """
    candidates: list[tuple[str, str]] = []  # (path, proposed machine name)
    missing: list[Missing] = []
    seen: set[str] = set()
    for arg in paths:
        if os.path.isdir(arg):
            pairs = [(p, machine_name(os.path.relpath(p, arg))) for p in _walk(arg)]
        elif os.path.exists(arg) or os.path.islink(arg):
            pairs = [(arg, machine_name(os.path.basename(arg)))]
        else:
            missing.append(Missing(arg, "no such file or directory"))
            continue
        for path, name in pairs:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                candidates.append((path, name))
    counts = Counter(name for _, name in candidates)
    names = [name if counts[name] == 1 else path for path, name in candidates]
    unique = _unique(names)
    return [Input(path, name) for (path, _), name in zip(candidates, unique, strict=True)], missing


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
