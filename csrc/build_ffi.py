"""cffi out-of-line API-mode builder for ``nestprobe._native``.

The C layer only fills buffers (CPUID leaves, timing samples); it decides nothing.
Every ``csrc/*_cdef.h`` is a cdef-clean header (declarations, and constants as
``#define NAME ...`` whose values cffi reads from the real header) for a real header
``csrc/<name>.h``; every ``csrc/np_<name>.c`` with a ``np_<name>_cdef.h`` is a library
source. Programs with their own ``main`` (``tool_*.c``) and the code only they share
(``np_dump.c``: the dump record writer, no cdef) are not part of the extension.
"""

from __future__ import annotations

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent


def cdef_headers(directory: Path = HERE) -> list[Path]:
    """The cdef-clean headers, in a stable order."""
    return sorted(directory.glob("*_cdef.h"))


def library_sources(directory: Path = HERE) -> list[Path]:
    """The C files compiled into the extension: those it declares (a cdef header each),
    never the standalone tools nor what only they share."""
    return sorted(p for p in directory.glob("np_*.c")
                  if p.with_name(f"{p.stem}_cdef.h").is_file())


def real_header_for(cdef: Path) -> Path:
    """``np_cpuid_cdef.h`` -> ``np_cpuid.h``: the header the C sources include."""
    return cdef.with_name(cdef.name.replace("_cdef.h", ".h"))


def compile_args(compiler_type: str) -> list[str]:
    """Warnings and optimisation flags in the dialect of the compiler that will run.

    ``compiler_type`` is setuptools' ``CCompiler.compiler_type``: ``"msvc"`` (cl.exe, also
    clang-cl behind it) speaks ``/flags``; ``"unix"``, ``"mingw32"`` and ``"cygwin"`` are
    GCC or Clang. The platform does not decide: mingw-w64 on Windows is a GCC.
    """
    if compiler_type == "msvc":
        return ["/O2", "/W3"]
    # gnu11, not c11: cffi's generated module calls alloca(), which a strict ISO mode leaves
    # undeclared under mingw-w64 (a link error once a cdef takes pointer arguments).
    return ["-O2", "-std=gnu11", "-Wall", "-Wextra"]


#: csrc/ as the build sees it (relative: setuptools runs from the project root). Every
#: header in it is ``np_``-prefixed, so a plain include path shadows no system header.
CSRC = str(HERE.relative_to(HERE.parent))

ffibuilder = FFI()
for header in cdef_headers():
    ffibuilder.cdef(header.read_text(encoding="utf-8"))

# Flags are added per compiler when it is known (setup.py's build_ext); here only what
# every compiler reads the same way.
ffibuilder.set_source(
    "nestprobe._native",
    "\n".join(f'#include "{real_header_for(h).name}"' for h in cdef_headers()),
    sources=[str(p.relative_to(HERE.parent)) for p in library_sources()],
    include_dirs=[CSRC],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
