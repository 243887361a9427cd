"""Turn the command line's PATHs into input files, each with the name of its machine, as
they are met: a directory is walked while its first files are already being read.

A machine is named after its file: ``web-01.dump`` and ``web-01.json`` are machine
``web-01`` (the Ansible playbook saves each host's result as ``<inventory_hostname>.dump``
or ``.json``). Under a directory the name keeps the sub-directories (``dc1/web-01``).
Names must be unique (they become CSV keys and Prometheus labels):

* files of one directory whose names collide (``x.dump`` and ``x.json``) are named by
  their full path, and so is what cannot be read;
* a relative name is otherwise unique within its directory tree by construction, so a
  run over one directory keeps no names: its memory stays flat however many machines it
  reads. Only names that could still repeat one already given are kept (full paths, and
  escaped names: escaping can spell two names alike), and every name when several PATHs
  are given; a name already given is numbered: ``name (2)``.

A file is read once: by the first PATH (in command-line order) that reaches it directly,
not through a symbolic link; a file reached only through links, where first reached.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from nestprobe.model.errors import describe_file_mode
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


def _inside(inner: str, outer: str) -> bool:
    """``inner`` is ``outer`` or lies under it (both real paths)."""
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


class _Names:
    """Gives each machine its name, unique among every name given (module docstring)."""

    def __init__(self, every: bool) -> None:
        self.every = every  # several PATHs: any name may repeat another PATH's
        self.taken: set[str] = set()

    def give(self, name: str, path: str | None = None) -> str:
        """``name``, unique: one already given names this input by its ``path`` instead,
        or is numbered."""
        # A relative name without a backslash is its file's own relative path (escaping
        # puts a backslash in whatever it spells; full paths start with the separator):
        # within one directory tree only its siblings could repeat it, and they are named
        # by their paths. Those names are not kept: memory stays flat.
        if not self.every and "\\" not in name and not name.startswith("/"):
            return name
        if path is not None and name in self.taken:
            return self.path(path)
        unique, n = name, 1
        while unique in self.taken:
            n += 1
            unique = f"{name} ({n})"
        self.taken.add(unique)
        return unique

    def path(self, path: str) -> str:
        """The name of an input named by its path: the full path, escaped."""
        return self.give(escape(os.path.abspath(path)))


@dataclass(frozen=True, slots=True)
class _Root:
    """A PATH of the command line: a directory walked, or a file."""

    real: str  # its real path
    directory: bool

    def reaches(self, real: str) -> bool:
        """This PATH reads what is at ``real`` directly (not through a link): the file it
        names, or what its walk meets under it (hidden names are skipped)."""
        if not self.directory:
            return real == self.real
        prefix = self.real.rstrip(os.sep) + os.sep
        return real.startswith(prefix) and not any(
            part.startswith(".") for part in real[len(prefix):].split(os.sep))

    def walks(self, real: str) -> bool:
        """This PATH's walk lists the directory at ``real`` itself."""
        return self.directory and (real == self.real or self.reaches(real))


@dataclass(slots=True)
class _Walk:
    """The state of one run over the PATHs: what decides whether a file was read already."""

    roots: list[_Root | None]  # by PATH; None for standard input or nothing
    names: _Names
    linked: set[str]  # real paths of files read through links (first reached wins)

    def first_read(self, real: str, index: int, through_link: bool) -> bool:
        """The file at ``real``, met by PATH ``index``, is read here (not elsewhere)."""
        if through_link:
            if any(root is not None and root.reaches(real) for root in self.roots):
                return False  # read under its own name
            if real in self.linked:
                return False
            self.linked.add(real)
            return True
        return not any(root is not None and root.reaches(real)
                       for root in self.roots[:index])


def iter_inputs(paths: list[str]) -> Iterator[Input | Missing]:
    """The input files named by ``paths`` (files, directories, ``-`` for standard input),
    in command-line order, as they are met; what cannot be read as :class:`Missing`.

    Machine names are shown escaped (no control characters, undecodable bytes as
    ``\\xNN``) and unique after escaping, so every output can use them as they are: a
    table, CSV keys, Prometheus labels.
    """
    walk = _Walk([_root(arg) for arg in paths], _Names(len(paths) > 1), set())
    for index, arg in enumerate(paths):
        root = walk.roots[index]
        if arg == STDIN:
            yield Input(arg, walk.names.give("stdin"))
        elif root is not None and root.directory:
            yield from _walk(arg, index, walk)
        elif root is not None:
            if walk.first_read(root.real, index, through_link=False):
                name = escape(machine_name(os.path.basename(arg)))
                yield Input(arg, walk.names.give(name, arg))
        else:
            yield Missing(arg, "no such file or directory", walk.names.path(arg))


def _root(arg: str) -> _Root | None:
    if arg == STDIN:
        return None
    if os.path.isdir(arg):
        return _Root(os.path.realpath(arg), directory=True)
    if os.path.exists(arg) or os.path.islink(arg):
        return _Root(os.path.realpath(arg), directory=False)
    return None


def collect(paths: list[str]) -> tuple[list[Input], list[Missing]]:
    """:func:`iter_inputs` as two lists: the inputs, and what cannot be read."""
    inputs: list[Input] = []
    missing: list[Missing] = []
    for item in iter_inputs(paths):
        if isinstance(item, Input):
            inputs.append(item)
        else:
            missing.append(item)
    return inputs, missing


def _listing(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as listing:
        return sorted((e for e in listing if not e.name.startswith(".")), key=lambda e: e.name)


def _walk(top: str, index: int, walk: _Walk) -> Iterator[Input | Missing]:
    """Regular files under ``top`` (sorted, hidden ones skipped), and what was not read.

    Nothing found by walking is opened but regular files, later: FIFOs, devices and
    sockets are listed and skipped (a FIFO whose writer stays silent would stop the run;
    a device's open can act). A directory that cannot be read is listed, never silently
    dropped: its machines would vanish from ``--require``. A symbolic link to a
    directory is followed once (links inside a linked directory are listed, not
    followed), and never into a directory already walked, one that contains the walk
    (``/proc/self/root`` -> ``/``: loops end) or one a PATH walks itself.
    """
    walked: set[tuple[int, int]] = set()
    real_top = os.path.realpath(top)
    # (directory, its real path, reached through a link, its path relative to top + sep)
    stack: list[tuple[str, str, bool, str]] = [(top, real_top, False, "")]
    while stack:
        directory, real, linked, rel = stack.pop()
        try:
            info = os.stat(directory)
            if (info.st_dev, info.st_ino) in walked:
                yield Missing(directory, "a directory already walked (a symbolic-link loop), "
                              "not read twice", walk.names.path(directory))
                continue
            walked.add((info.st_dev, info.st_ino))
            entries = _listing(directory)
        except OSError as exc:
            yield Missing(directory, "a directory that cannot be read: "
                          + describe_os_error(exc), walk.names.path(directory))
            continue
        files: list[tuple[str, str]] = []  # (path, proposed name) of the files read here
        subdirs: list[tuple[str, str, bool, str]] = []
        for entry in entries:
            found = _entry(entry, real, linked, real_top, walk)
            if isinstance(found, Missing):
                yield found
            elif isinstance(found, tuple):
                subdirs.append((*found, rel + entry.name + os.sep))
            elif walk.first_read(found, index, linked or entry.is_symlink()):
                files.append((entry.path, escape(machine_name(rel + entry.name))))
        yield from _named(files, walk.names)
        stack.extend(reversed(subdirs))


def _named(files: list[tuple[str, str]], names: _Names) -> Iterator[Input]:
    """One directory's files with their names: those whose names collide (``x.dump`` and
    ``x.json``) by their paths."""
    counts = Counter(name for _, name in files)
    for path, name in files:
        yield Input(path, names.give(name, path) if counts[name] == 1 else names.path(path))


def _entry(entry: os.DirEntry[str], real_dir: str, linked: bool, real_top: str,
           walk: _Walk) -> str | tuple[str, str, bool] | Missing:
    """One entry of a listing: a regular file's real path, a directory to walk
    ``(path, real path, through a link)``, or why it is not read."""
    path = entry.path
    try:
        is_link = entry.is_symlink()
        if not is_link and entry.is_file(follow_symlinks=False):
            return os.path.join(real_dir, entry.name)
        if not is_link and entry.is_dir(follow_symlinks=False):
            return (path, os.path.join(real_dir, entry.name), linked)
        mode = os.stat(path).st_mode  # follows a link: what it points to
    except (OSError, ValueError) as exc:
        reason = describe_os_error(exc) if isinstance(exc, OSError) else "a bad name"
        return Missing(path, ("a symbolic link to nothing readable: " if _is_link(entry)
                              else "") + reason, walk.names.path(path))
    if stat.S_ISREG(mode):
        return os.path.realpath(path)
    if not stat.S_ISDIR(mode):
        return Missing(path, f"{describe_file_mode(mode)}, not read (in a directory, fleet reads "
                       "regular files only)", walk.names.path(path))
    return _linked_dir(path, linked, real_top, walk)


def _linked_dir(path: str, linked: bool, real_top: str,
                walk: _Walk) -> tuple[str, str, bool] | Missing:
    """A symbolic link to a directory: followed once, or why not."""
    if linked:
        reason = "a symbolic link inside a linked directory, not followed (links are followed once)"
    else:
        real = os.path.realpath(path)
        if _inside(real_top, real):
            reason = "a symbolic link to a directory that contains this one (a loop), not followed"
        elif any(root is not None and root.walks(real) for root in walk.roots):
            reason = "a symbolic link to a directory read under its own name, not followed"
        else:
            return (path, real, True)
    return Missing(path, reason, walk.names.path(path))


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False
