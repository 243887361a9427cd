"""The package's bytecode in one file, built with the wheel: imports without path searches.

A cold ``nestprobe check`` imports ~65 of the package's modules. Through the path finder
each pays, before its code runs, importlib's search and checks written in Python (the
directory lookup, the source's stat, the pyc opened, read and validated). This file skips
that (README "Performance": ``bench/processes.py --against REF`` times a check of an
earlier tree in the same rounds). The wheel's build (setup.py's build_py) compiles every
module into ``_bytecode.bin`` beside this file; when ``import nestprobe`` finds it, a
finder placed just before the path finder on ``sys.meta_path`` (import hooks installed
earlier keep their turn) serves the package's modules from it (CPython freezes its own
start-up modules for the same reason).

When it is used, and when not:

* the file: only when it is this interpreter's bytecode (the magic number: the abi3 wheel
  also serves newer Pythons, which import the usual way), without ``-O``, and only in an
  installation that has the distribution's ``RECORD`` (which pip and uv write last);
* a module: only while its source is, as far as its size and mtime can tell, the one
  compiled: the same size, and written with the file: no earlier than :data:`SLACK_S`
  before it (pip writes a few sources first), and no later than ``RECORD`` nor
  :data:`SPAN_S` after it (uv links files from its cache, keeping the cache's mtimes, and
  writes only ``RECORD`` anew). An edit after the install, even within the second, or a
  copy that kept an older file's mtime, is imported the usual way, as is any module of a
  source checkout or an editable install (no file);
* a read: when the file is no longer the one indexed (an upgrade while this process runs),
  the module is compiled from its source, as the usual import would load the new version.

Code objects carry their source's real path, so tracebacks, ``inspect`` and coverage read
the ``.py`` files; resources (``importlib.resources``, ``pkgutil.get_data``) are read from
the package's folders as for any installed package.

Each module is compiled with its ``from __future__`` imports as compiler flags instead of
statements, its code otherwise the same (line numbers included): its annotations are the
same strings, and a cold start never imports ``__future__`` (~0.14 ms; the two modules
imported the usual way, this one and the package's ``__init__``, do without it). A served
module lacks only that import's name (``annotations``), which nothing reads.

File: :data:`HEADER`, the interpreter's 4-byte magic number, the index's length (4 bytes,
little-endian), the index (marshal: the ``RECORD`` path under the package's parent, then
the modules' names, the set of those that are packages, their sources' sizes, where each
one's code ends, the names of the modules also written in one piece and where that piece
ends), then each module's marshalled code, one after the other, then the piece. A
module's source is found from its name. ``import nestprobe`` checks the index whole, a
column at a time, and makes every module's path at once; the rest of a module's entry is
prepared when it is imported (a check imports ~65 of ~140).

The piece: the modules a check imports beyond those ``import nestprobe`` imports (~50),
their code marshalled as one tuple, read when the first of them is imported. One marshal
writes each name or constant their code shares once and refers to it after, so reading
them makes each once instead of once per module (~1.6M of a check's ~97M instructions,
~0.35 ms here). Each module taken from it passes the same checks as one read on its own
(its source as installed, the file not replaced); a reload reads the module on its own.
"""

# No ``from __future__ import annotations``: this module is imported the usual way, before
# the finder (nestprobe/__init__.py says why); what only a type checker knows is quoted.

import _imp
import marshal
import os
import sys
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import (
    BYTECODE_SUFFIXES,
    MAGIC_NUMBER,
    PathFinder,
    SourceFileLoader,
    cache_from_source,
)

# Not typeshim's: this module runs before the finder serves any other (mypy and ruff treat
# any name TYPE_CHECKING as true).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.abc import Loader as _LoaderBase  # ModuleSpec's type for its loader
    from importlib.abc import ResourceReader
    from types import CodeType, ModuleType
else:
    _LoaderBase = object  # importlib.abc is ~1 ms of a cold start: not imported to run

__all__ = ["FILE_NAME", "HEADER", "SLACK_S", "SPAN_S", "BytecodeFinder", "build", "install"]

FILE_NAME = "_bytecode.bin"
HEADER = b"nestprobe-bytecode-3\n"
#: A source written this long before the file still counts as written with it (pip writes
#: the files in the wheel's order, a few sources first; FAT keeps mtimes to 2 s).
SLACK_S = 2.0
#: ... and one written this long after it: writing the package's ~140 files takes well
#: under a second; a later source is an edit, even when RECORD came later still.
SPAN_S = 60.0
_PACKAGE = "nestprobe"

#: The index after the RECORD path: the modules' names, in the order of their code; those
#: that are packages; each source's size; where each module's code ends, counted from the
#: first's start (a module's code starts where the previous one's ends).
_Index = tuple[tuple[str, ...], frozenset[str], tuple[int, ...], tuple[int, ...]]
#: The modules read in one piece, in the order of their code there, and where that piece
#: ends (it starts where the last module's own code ends).
_Together = tuple[tuple[str, ...], int]
#: What identifies the file indexed: (inode, size, mtime in ns).
_Identity = tuple[int, int, int]
_SEP = os.sep
#: How the file is opened for each module's code (O_BINARY: Windows only).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
#: A read at an offset in one call where the OS has one (POSIX): fstat, pread, close.
_PREAD = getattr(os, "pread", None)
_Module = type(sys)


class BytecodeFinder(_LoaderBase):
    """Serves ``nestprobe`` modules from one ``_bytecode.bin`` (a meta path finder and
    the loader of the specs it makes)."""

    def __init__(self, path: str, package_dir: str, index: _Index, *, base: int,
                 identity: _Identity, installed: tuple[int, int],
                 together: _Together = ((), 0)) -> None:
        self.path = path
        self.package_dir = package_dir
        names, self.packages, self.sizes, self.ends = index
        # The check's modules, read in one piece when the first of them is imported (one
        # unmarshal: the names their code shares are made once, not once per module).
        self.together_names, together_end = together
        self.together = frozenset(self.together_names)
        start = self.ends[-1]
        self.together_span = (base + start, together_end - start)
        self.held: dict[str, CodeType] | None = None
        self.identity_by_name: _Identity | None = None  # set when the piece is read
        # name -> its place in the index
        self.modules = dict(zip(names, range(len(names)), strict=True))
        # Where each module is: its path without ".py", a package's its folder. Made from
        # the names at once, not a module at a time ("\0" is in no path):
        # "nestprobe.model.record" is <package_dir>/model/record.
        self.wheres = ("\0" + "\0".join(names).replace(".", _SEP)).replace(
            f"\0{_PACKAGE}{_SEP}", f"\0{package_dir}{_SEP}").split("\0")[1:]
        self.base = base  # where the first module's code starts
        self.identity = identity
        self.pyc = _pyc_by_hand(package_dir)
        written, recorded = installed  # the file's mtime, RECORD's (ns: exact to the edit)
        self.window = (written - int(SLACK_S * 1e9),
                       min(recorded, written + int(SPAN_S * 1e9)))

    def find_spec(self, name: str, path: "Sequence[str] | None" = None,
                  target: "ModuleType | None" = None) -> ModuleSpec | None:
        at = self.modules.get(name)
        if at is None or path is None:
            return None  # not ours
        where = self.wheres[at]
        parent, _, stem = where.rpartition(_SEP)
        if parent not in path:
            return None  # its package was imported from somewhere else
        is_package = name in self.packages
        folder, stem = (where, "__init__") if is_package else (parent, stem)
        source = f"{folder}{_SEP}{stem}.py"
        try:
            found = os.stat(source)
        except OSError:
            return None
        first, last = self.window
        if found.st_size != self.sizes[at] or not first <= found.st_mtime_ns <= last:
            return None  # not the source the install wrote: import it the usual way
        spec = ModuleSpec(name, self, origin=source, is_package=is_package)
        spec.has_location = True  # __file__ is the source's path
        if self.pyc is not None and sys.pycache_prefix is None:
            # __cached__, as cache_from_source (pure Python) would make it for importlib
            spec.cached = f"{folder}{_SEP}__pycache__{_SEP}{stem}{self.pyc}"
        if is_package:
            spec.submodule_search_locations = [folder]
        return spec

    # ---- the loader of those specs ---------------------------------------------------------

    def create_module(self, spec: ModuleSpec) -> "ModuleType":
        # The default module object with __file__ and __cached__ already what importlib would
        # set: it asks a new module for each first, and a module without one raises (and
        # catches) an AttributeError: two per module imported.
        module = _Module(spec.name)
        module.__file__ = spec.origin
        cached = spec.cached
        if cached is not None:
            module.__dict__["__cached__"] = cached  # (no __cached__ in typeshed's ModuleType)
        return module

    def exec_module(self, module: "ModuleType") -> None:
        # __file__: the spec's origin, the source find_spec found
        source = getattr(module, "__file__", None) or self.get_filename(module.__name__)
        exec(self._code(module.__name__, source), module.__dict__)

    def get_code(self, name: str) -> "CodeType":
        return self._code(name, self.get_filename(name))

    def _code(self, name: str, source: str) -> "CodeType":
        if name in self.together:
            code = self._held_code(name)
            if code is not None:
                _imp._fix_co_filename(code, source)  # type: ignore[attr-defined]
                return code
        at = self.modules[name]
        start = self.ends[at - 1] if at else 0
        offset, length = self.base + start, self.ends[at] - start
        data = self._read_span(offset, length)
        if data is None:
            # gone, or replaced since the index was read (an upgrade): the new source, its pyc
            return self._source_code(name)
        if len(data) != length:
            raise ImportError(f"{self.path} is cut short (at {name})", name=name)
        code = marshal.loads(data)
        # the build's relative path -> the real one (what SourceLoader does for a moved pyc)
        _imp._fix_co_filename(code, source)  # type: ignore[attr-defined]
        return code  # type: ignore[no-any-return]

    def _held_code(self, name: str) -> "CodeType | None":
        """``name``'s code from the piece read with the others, once; None when it is not
        there (asked again: a reload) or the file is no longer the one indexed."""
        held = self.held
        if held is None:
            held = self.held = self._read_together()
        code = held.pop(name, None)
        if code is None:
            return None
        try:
            now = os.stat(self.path)
        except OSError:
            return None
        if (now.st_ino, now.st_size, now.st_mtime_ns) != self.identity_by_name:
            return None  # replaced (an upgrade): the module's own read says what to do
        return code

    def _read_together(self) -> "dict[str, CodeType]":
        """The code of every module read in one piece, by name; empty when the piece
        cannot be read as indexed (each module is then read on its own, which says why)."""
        data = self._read_span(*self.together_span)
        if data is None:
            return {}
        # The identity a stat by name gives the same file, for each module taken from the
        # piece (on Windows a name's stat and a handle's may differ): taken now, not at every
        # import nestprobe, which reads no piece.
        try:
            by_name = os.stat(self.path)
        except OSError:
            return {}
        self.identity_by_name = (by_name.st_ino, by_name.st_size, by_name.st_mtime_ns)
        try:
            codes = marshal.loads(data)
            return dict(zip(self.together_names, codes, strict=True))
        except (EOFError, ValueError, TypeError):
            return {}

    def _read_span(self, offset: int, length: int) -> bytes | None:
        """``length`` bytes at ``offset`` of the file; None when it cannot be opened or is
        no longer the file indexed (replaced by an upgrade)."""
        try:
            handle = os.open(self.path, _OPEN_FLAGS)
        except OSError:
            return None
        try:
            now = os.fstat(handle)
            if (now.st_ino, now.st_size, now.st_mtime_ns) != self.identity:
                return None
            if _PREAD is not None:
                data: bytes = _PREAD(handle, length, offset)
                return data
            os.lseek(handle, offset, os.SEEK_SET)
            return os.read(handle, length)
        finally:
            os.close(handle)

    # What a path loader answers besides code, asked of the path loader itself.

    def _usual(self, name: str) -> SourceFileLoader:
        return SourceFileLoader(name, self.get_filename(name))

    def _source_code(self, name: str) -> "CodeType":
        code = self._usual(name).get_code(name)
        if code is None:  # a path loader has code for every source; None only in its type
            raise ImportError(f"no code for {name}", name=name)
        return code

    def get_source(self, name: str) -> str | None:
        return self._usual(name).get_source(name)

    def is_package(self, name: str) -> bool:
        self._known(name)
        return name in self.packages

    def get_filename(self, name: str) -> str:
        where = self.wheres[self._known(name)]
        return f"{where}{_SEP}__init__.py" if name in self.packages else f"{where}.py"

    def _known(self, name: str) -> int:
        at = self.modules.get(name)
        if at is None:
            raise ImportError(f"{name} is not in {self.path}", name=name)
        return at

    def get_data(self, path: str) -> bytes:
        with open(path, "rb") as handle:  # pkgutil.get_data: any file, by its path
            return handle.read()

    def get_resource_reader(self, name: str) -> "ResourceReader":
        return self._usual(name).get_resource_reader(name)  # importlib.resources


def install(package_dir: str) -> BytecodeFinder | None:
    """Put the finder of ``package_dir``'s ``_bytecode.bin`` on ``sys.meta_path`` just
    before the path finder (replacing one installed before), or nothing when there is no
    usable file."""
    path = os.path.join(package_dir, FILE_NAME)
    try:
        finder = _read_index(path, package_dir)
    except Exception:  # none, not this Python's, damaged: the usual imports
        return None
    finders = [f for f in sys.meta_path if not isinstance(f, BytecodeFinder)]
    at = next((i for i, f in enumerate(finders) if f is PathFinder), len(finders))
    sys.meta_path[:] = [*finders[:at], finder, *finders[at:]]
    return finder


def _pyc_by_hand(package_dir: str) -> str | None:
    """The end of a module's pyc path (``.cpython-311.pyc``) when ``folder/__pycache__/``
    before it is what cache_from_source makes of the package's paths: as it makes the
    package's own ``__init__.py``'s, whose folder every module's path starts with (the
    build's names add only plain folder names). None: every pyc path is cache_from_source's
    (no cache tag; a pycache prefix; Windows, where a root written with "/" is respelt)."""
    pyc = f".{sys.implementation.cache_tag}{BYTECODE_SUFFIXES[0]}"
    try:
        usual = cache_from_source(f"{package_dir}{_SEP}__init__.py")
    except NotImplementedError:  # no cache tag: no pyc
        return None
    return pyc if usual == f"{package_dir}{_SEP}__pycache__{_SEP}__init__{pyc}" else None


def _read_index(path: str, package_dir: str) -> BytecodeFinder:
    if sys.flags.optimize:
        raise ValueError("compiled without -O: under -O the usual pycs are the right ones")
    head = len(HEADER) + 8
    with open(path, "rb") as handle:
        start = handle.read(head)
        if len(start) != head or start[:len(HEADER)] != HEADER:
            raise ValueError("not a nestprobe bytecode file")
        if start[len(HEADER):len(HEADER) + 4] != MAGIC_NUMBER:
            raise ValueError("another Python's bytecode")
        size = int.from_bytes(start[-4:], "little")
        record, names, packages, sizes, ends, together, together_end = marshal.loads(
            handle.read(size))
        status = os.fstat(handle.fileno())
    # No RECORD (a copy, a distribution's package): nothing tells when the install was.
    installed = os.stat(os.path.join(os.path.dirname(package_dir), *record.split("/")))
    base = head + size
    # Checked here, as an import cannot fall back; a column at a time, each test one
    # builtin's loop in C (this runs at every ``import nestprobe``).
    if not (len(names) == len(sizes) == len(ends) > 0 and type(packages) is frozenset
            # every name the package's: "." sorts just before "/"
            and f"{_PACKAGE}." <= min(names) and max(names) < f"{_PACKAGE}/"
            # every end an int (anything else marshal gives changes the sum's type or fails)
            and type(sum(ends)) is int
            # each after the one before (every module has code), the last within the file
            and list(ends) == sorted(set(ends)) and ends[0] > 0
            and base + ends[-1] <= status.st_size
            # the modules read in one piece: some of the indexed ones, in a piece after
            # the last module's code and within the file (none: an empty piece)
            and type(together) is tuple and set(together) <= set(names)
            and type(together_end) is int
            and ends[-1] + (len(together) > 0) <= together_end
            and base + together_end <= status.st_size):
        raise ValueError("a damaged index")
    identity = (status.st_ino, status.st_size, status.st_mtime_ns)
    return BytecodeFinder(path, package_dir, (names, packages, sizes, ends), base=base,
                          identity=identity,
                          installed=(status.st_mtime_ns, installed.st_mtime_ns),
                          together=(together, together_end))


def build(package_dir: str, record: str, out: str | None = None,
          together: "Sequence[str]" = ()) -> int:
    """Compile every module under ``package_dir`` into ``out`` (default: its
    ``_bytecode.bin``) with this interpreter; returns the number of modules. ``record``:
    the installed distribution's RECORD, under the package's parent
    (``nestprobe-1.0.dist-info/RECORD``). The package itself (its ``__init__``, which
    installs the finder) is left to the usual import. ``together``: the modules a check
    imports (tests/cli/cold_start_modules.txt), whose code is also written in one piece,
    read when the first of them is imported; those ``import nestprobe`` itself imports are
    left out of it (:func:`imported_with_the_package`), so that import stays as small."""
    names: list[str] = []
    codes: dict[str, CodeType] = {}
    packages: set[str] = set()
    sizes: list[int] = []
    ends: list[int] = []
    blobs: list[bytes] = []
    for folder, dirs, files in os.walk(package_dir):
        # a module's path is its name (the finder finds the source from it): a folder or
        # file with a dot in its name holds no importable module
        dirs[:] = sorted(d for d in dirs if "." not in d and d != "__pycache__")
        for file in sorted(files):
            if not file.endswith(".py") or "." in file[:-3]:
                continue
            relative = os.path.relpath(os.path.join(folder, file), package_dir).replace(
                os.sep, "/")
            if relative == "__init__.py":
                continue
            parts = relative[:-3].split("/")
            is_package = parts[-1] == "__init__"
            name = ".".join([_PACKAGE, *(parts[:-1] if is_package else parts)])
            with open(os.path.join(folder, file), "rb") as handle:
                source = handle.read()
            code = codes[name] = _compiled(source, f"{_PACKAGE}/{relative}")
            blob = marshal.dumps(code)
            names.append(name)
            if is_package:
                packages.add(name)
            sizes.append(len(source))
            ends.append((ends[-1] if ends else 0) + len(blob))
            blobs.append(blob)
    first = imported_with_the_package(package_dir)
    held = tuple(name for name in dict.fromkeys(together) if name in codes and name not in first)
    # one marshal of them all: a name or constant their code shares is written (and read)
    # once, the rest as references to it
    piece = marshal.dumps(tuple(codes[name] for name in held)) if held else b""
    packed = marshal.dumps((record, tuple(names), frozenset(packages), tuple(sizes),
                            tuple(ends), held, ends[-1] + len(piece)))
    target = out or os.path.join(package_dir, FILE_NAME)
    with open(target, "wb") as handle:
        handle.write(HEADER + MAGIC_NUMBER + len(packed).to_bytes(4, "little") + packed)
        handle.writelines(blobs)
        handle.write(piece)
    return len(blobs)


def imported_with_the_package(package_dir: str) -> set[str]:
    """The package's modules ``import nestprobe`` imports: the module-level imports of its
    ``__init__`` and, in turn, of those modules (outside ``if TYPE_CHECKING:``), with their
    parent packages. Read from the sources, as the build runs nothing of the package."""
    import ast

    def source_of(name: str) -> str | None:
        where = os.path.join(package_dir, *name.split(".")[1:])
        for path in (os.path.join(where, "__init__.py"), where + ".py"):
            if os.path.isfile(path):
                return path
        return None

    def statements(body: "list[ast.stmt]") -> "list[ast.stmt]":
        found: list[ast.stmt] = []
        for node in body:
            if isinstance(node, ast.If):
                if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                    found += statements(node.body) + statements(node.orelse)
            elif isinstance(node, ast.Try):
                found += statements(node.body)
            else:
                found.append(node)
        return found

    seen: set[str] = set()
    todo = [_PACKAGE]
    while todo:
        name = todo.pop()
        path = source_of(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # its parents
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
        for node in statements(tree.body):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                todo.append(node.module)
                todo += [f"{node.module}.{alias.name}" for alias in node.names]
    return {name for name in seen if name == _PACKAGE or name.startswith(f"{_PACKAGE}.")}


def _compiled(source: bytes, filename: str) -> "CodeType":
    """The module's code, with its ``from __future__`` imports as compiler flags rather
    than statements: a served module does not import ``__future__`` (a cold start's only
    reason to: ~0.14 ms), nor get its ``annotations`` name. The code is otherwise the same,
    line numbers included (the statement's node is taken out of the parsed tree)."""
    import __future__

    import ast

    tree = ast.parse(source, filename)
    flags = 0
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                flags |= getattr(__future__, alias.name).compiler_flag
        else:
            body.append(node)
    tree.body = body
    code: CodeType = compile(tree, filename, "exec", flags=flags, dont_inherit=True,
                             optimize=0)
    return code
