"""csrc/build_ffi.py: which files make the extension, and how csrc/ is put on the path."""

from __future__ import annotations

import importlib.util
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from cffi import FFI
from conftest import REPO

CSRC = REPO / "csrc"


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nestprobe_build_ffi", CSRC / "build_ffi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    return load_builder()


def touch(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text("/* */\n", encoding="utf-8")


def test_cdef_headers_are_the_cdef_files_in_order(builder: ModuleType, tmp_path: Path) -> None:
    touch(tmp_path, "timing_cdef.h", "cpuid_cdef.h", "cpuid.h", "np_cpuid.c", "cdef.h")
    assert [p.name for p in builder.cdef_headers(tmp_path)] == ["cpuid_cdef.h", "timing_cdef.h"]


def test_library_sources_exclude_tools(builder: ModuleType, tmp_path: Path) -> None:
    touch(tmp_path, "np_timing.c", "np_cpuid.c", "tool_nestprobe_dump.c", "cpuid.h", "np_x.h")
    assert [p.name for p in builder.library_sources(tmp_path)] == ["np_cpuid.c", "np_timing.c"]


def test_real_header_for_strips_cdef_suffix(builder: ModuleType) -> None:
    assert builder.real_header_for(Path("/x/cpuid_cdef.h")) == Path("/x/cpuid.h")
    assert builder.real_header_for(Path("timing_cdef.h")) == Path("timing.h")


def test_include_options_use_quote_path_except_msvc(builder: ModuleType) -> None:
    assert builder.include_options("csrc", "linux") == ([], ["-iquote", "csrc"])
    assert builder.include_options("csrc", "darwin") == ([], ["-iquote", "csrc"])
    assert builder.include_options("csrc", "win32") == (["csrc"], [])
    assert "-std=c11" in builder.compile_args("linux")
    assert all(arg.startswith("/") for arg in builder.compile_args("win32"))


def test_repository_headers_pair_up_and_parse(builder: ModuleType) -> None:
    headers = builder.cdef_headers()
    assert CSRC / "cpuid_cdef.h" in headers
    assert CSRC / "np_cpuid.c" in builder.library_sources()
    assert CSRC / "tool_nestprobe_dump.c" not in builder.library_sources()
    for cdef in headers:
        assert builder.real_header_for(cdef).is_file(), cdef
        FFI().cdef(cdef.read_text(encoding="utf-8"))  # cdef-clean on its own


DEFINE = re.compile(r"^#define\s+(NP_\w+)\s+(-?\w+)", re.MULTILINE)


def test_cpuid_constants_match_between_cdef_and_real_header() -> None:
    cdef = dict(DEFINE.findall((CSRC / "cpuid_cdef.h").read_text(encoding="utf-8")))
    real = dict(DEFINE.findall((CSRC / "cpuid.h").read_text(encoding="utf-8")))
    assert cdef
    assert {k: real.get(k) for k in cdef} == cdef


def compile_probe(tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Compile a file that needs the compiler's <cpuid.h>, with csrc/ passed as given."""
    source = tmp_path / "probe.c"
    source.write_text(
        "#include <cpuid.h>\n#include \"cpuid.h\"\n"
        "int main(void) { unsigned a, b, c, d; __cpuid_count(0, 0, a, b, c, d);"
        " return (int)(a & 0) + NP_OK; }\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [shutil.which("cc") or "cc", "-Werror=implicit-function-declaration", *args,
         "-c", str(source), "-o", str(tmp_path / "p.o")],
        capture_output=True, text=True, check=False, timeout=60,
    )


@pytest.mark.skipif(shutil.which("cc") is None or sys.platform == "win32", reason="needs cc")
@pytest.mark.skipif(
    platform.machine().lower() not in {"x86_64", "amd64", "i686", "i386"},
    reason="<cpuid.h> is x86-only",
)
def test_quote_path_keeps_compilers_cpuid_h_visible(builder: ModuleType, tmp_path: Path) -> None:
    include_dirs, extra = builder.include_options(str(CSRC), sys.platform)
    ok = compile_probe(tmp_path, [*(f"-I{d}" for d in include_dirs), *extra])
    assert ok.returncode == 0, ok.stderr
    # The hazard the option avoids: on -I our cpuid.h hides the compiler's.
    shadowed = compile_probe(tmp_path, [f"-I{CSRC}"])
    assert shadowed.returncode != 0
