"""cffi out-of-line API-mode builder for ``nestprobe._native``.

The C layer only fills buffers (CPUID leaves, timing samples); it decides nothing.
Every ``csrc/*_cdef.h`` is a cdef-clean header (declarations only) that mirrors a
real header ``csrc/<name>.h``; every ``csrc/np_*.c`` is a library source. Programs
with their own ``main`` (``tool_*.c``) are not part of the extension.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent


def cdef_headers(directory: Path = HERE) -> list[Path]:
    """The cdef-clean headers, in a stable order."""
    return sorted(directory.glob("*_cdef.h"))


def library_sources(directory: Path = HERE) -> list[Path]:
    """The C files compiled into the extension (never the standalone tools)."""
    return sorted(directory.glob("np_*.c"))


def real_header_for(cdef: Path) -> Path:
    """``cpuid_cdef.h`` -> ``cpuid.h``: the header the C sources include."""
    return cdef.with_name(cdef.name.replace("_cdef.h", ".h"))


def include_options(directory: str, platform: str = sys.platform) -> tuple[list[str], list[str]]:
    """``(include_dirs, extra_compile_args)`` that make ``directory`` visible to the sources.

    ``csrc/cpuid.h`` shares its name with the compiler's ``<cpuid.h>``; on an ``-I`` path it
    would shadow it, so GCC/Clang get ``-iquote`` (only ``#include "..."`` looks there).
    MSVC has no ``<cpuid.h>`` and no ``-iquote``.
    """
    if platform == "win32":
        return [directory], []
    return [], ["-iquote", directory]


def compile_args(platform: str = sys.platform) -> list[str]:
    """Warnings and optimisation flags in the compiler's own dialect."""
    if platform == "win32":
        return ["/O2", "/W3"]
    return ["-O2", "-std=c11", "-Wall", "-Wextra"]


CSRC = str(HERE.relative_to(HERE.parent))
_include_dirs, _include_args = include_options(CSRC)

ffibuilder = FFI()
for header in cdef_headers():
    ffibuilder.cdef(header.read_text(encoding="utf-8"))

ffibuilder.set_source(
    "nestprobe._native",
    "\n".join(f'#include "{real_header_for(h).name}"' for h in cdef_headers()),
    sources=[str(p.relative_to(HERE.parent)) for p in library_sources()],
    include_dirs=_include_dirs,
    extra_compile_args=compile_args() + _include_args,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
