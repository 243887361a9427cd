"""The package's bytecode in one file, built with the wheel: imports without path searches.

A cold ``nestprobe check`` imports ~65 of the package's modules. Through the path finder
each pays, before its code runs, importlib's search and checks written in Python (the
directory lookup, the source's stat, the pyc opened, read and validated): ~3 ms of a
~35 ms check on the development VM (bench/import_cost.py). The wheel's build (setup.py's
build_py) compiles every module into ``_bytecode.bin`` beside this file; when
``import nestprobe`` finds it, a finder first on ``sys.meta_path`` serves the package's
modules from it (CPython freezes its own start-up modules for the same reason).

The file is used only when it is this interpreter's bytecode (the magic number: the abi3
wheel also serves newer Pythons, which import the usual way) run as compiled (no ``-O``),
and a module only when the source beside it is the one compiled: the same size, and not
written more than :data:`SLACK_S` after the file (pip writes both in one install). Any
other module, an edited source, a source checkout or an editable install (no file) is
imported the usual way. Code objects carry their source's real path, so tracebacks,
``inspect`` and coverage read the ``.py`` files as always.

File: :data:`HEADER`, the interpreter's 4-byte magic number, the index's length (4 bytes,
little-endian), the index (marshal: ``(name, path under the package, is_package, source
size, offset, length)`` per module), then each module's marshalled code at its offset.
"""

from __future__ import annotations

import _imp
import marshal
import os
import sys
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import MAGIC_NUMBER, decode_source

# Not typeshim's: this module runs before the finder serves any other (mypy and ruff treat
# any name TYPE_CHECKING as true).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.abc import Loader as _LoaderBase  # ModuleSpec's type for its loader
    from types import CodeType, ModuleType
else:
    _LoaderBase = object  # importlib.abc is ~1 ms of a cold start: not imported to run

__all__ = ["FILE_NAME", "HEADER", "SLACK_S", "BytecodeFinder", "build", "install"]

FILE_NAME = "_bytecode.bin"
HEADER = b"nestprobe-bytecode-1\n"
#: How long after the file a source may have been written and still count as the one
#: compiled: pip writes the package's files one after another, in whatever order.
SLACK_S = 120.0
_PACKAGE = "nestprobe"

#: name -> (source path, is_package, source size, offset, length, parent directory)
_Entry = tuple[str, bool, int, int, int, str]


class BytecodeFinder(_LoaderBase):
    """Serves ``nestprobe`` modules from one ``_bytecode.bin`` (a meta path finder and
    the loader of the specs it makes)."""

    def __init__(self, path: str, entries: dict[str, _Entry], written: float) -> None:
        self.path = path
        self.entries = entries
        self.written = written

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        entry = self.entries.get(name)
        if entry is None or path is None or entry[5] not in path:
            return None  # not ours, or its package was imported from somewhere else
        source, is_package, size, _offset, _length, _parent = entry
        try:
            found = os.stat(source)
        except OSError:
            return None
        if found.st_size != size or found.st_mtime > self.written + SLACK_S:
            return None  # the source changed since the build: import it the usual way
        spec = ModuleSpec(name, self, origin=source, is_package=is_package)
        spec.has_location = True  # __file__ is the source's path
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(source)]
        return spec

    # ---- the loader of those specs ---------------------------------------------------------

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        exec(self.get_code(module.__name__), module.__dict__)

    def get_code(self, name: str) -> CodeType:
        source, _is_package, _size, offset, length, _parent = self.entries[name]
        handle = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            os.lseek(handle, offset, os.SEEK_SET)
            data = os.read(handle, length)
        finally:
            os.close(handle)
        if len(data) != length:
            raise ImportError(f"{self.path} is cut short (at {name})", name=name)
        code = marshal.loads(data)
        # the build's relative path -> the real one (what SourceLoader does for a moved pyc)
        _imp._fix_co_filename(code, source)  # type: ignore[attr-defined]
        return code  # type: ignore[no-any-return]

    def get_source(self, name: str) -> str:
        with open(self.entries[name][0], "rb") as handle:
            return decode_source(handle.read())

    def is_package(self, name: str) -> bool:
        return self.entries[name][1]


def install(package_dir: str) -> BytecodeFinder | None:
    """Put the finder of ``package_dir``'s ``_bytecode.bin`` first on ``sys.meta_path``
    (replacing one installed before), or nothing when there is no usable file."""
    path = os.path.join(package_dir, FILE_NAME)
    try:
        entries, written = _read_index(path, package_dir)
    except (OSError, ValueError, EOFError, TypeError):
        return None  # none (a source checkout), not this Python's, or damaged
    finder = BytecodeFinder(path, entries, written)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, BytecodeFinder)]
    sys.meta_path.insert(0, finder)
    return finder


def _read_index(path: str, package_dir: str) -> tuple[dict[str, _Entry], float]:
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
        index = marshal.loads(handle.read(size))
        status = os.fstat(handle.fileno())
    base = head + size
    entries: dict[str, _Entry] = {}
    for name, relative, is_package, source_size, offset, length in index:
        if base + offset + length > status.st_size:
            raise ValueError("cut short")  # checked here: an import cannot fall back later
        source = os.path.join(package_dir, *relative.split("/"))
        entries[name] = (source, is_package, source_size, base + offset, length,
                         os.path.dirname(os.path.dirname(source)) if is_package
                         else os.path.dirname(source))
    return entries, status.st_mtime


def build(package_dir: str, out: str | None = None) -> int:
    """Compile every module under ``package_dir`` into ``out`` (default: its
    ``_bytecode.bin``) with this interpreter; returns the number of modules. The package
    itself (its ``__init__``, which installs the finder) is left to the usual import."""
    modules: list[tuple[str, str, bool, bytes]] = []
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for file in sorted(files):
            if not file.endswith(".py"):
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
            code = compile(source, f"{_PACKAGE}/{relative}", "exec", dont_inherit=True,
                           optimize=0)
            modules.append((name, relative, is_package, marshal.dumps(code)))
    index: list[tuple[str, str, bool, int, int, int]] = []
    offset = 0
    for name, relative, is_package, blob in modules:
        size = os.path.getsize(os.path.join(package_dir, *relative.split("/")))
        index.append((name, relative, is_package, size, offset, len(blob)))
        offset += len(blob)
    packed = marshal.dumps(tuple(index))
    target = out or os.path.join(package_dir, FILE_NAME)
    with open(target, "wb") as handle:
        handle.write(HEADER + MAGIC_NUMBER + len(packed).to_bytes(4, "little") + packed)
        for *_, blob in modules:
            handle.write(blob)
    return len(modules)
