"""csrc/build_ffi.py: which files make the extension, and how csrc/ is put on the path."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from cffi import FFI
from conftest import REPO, load_script

CSRC = REPO / "csrc"


def load_builder() -> ModuleType:
    return load_script(CSRC / "build_ffi.py", "nestprobe_build_ffi")


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    return load_builder()


def touch(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text("/* */\n", encoding="utf-8")


def test_cdef_headers_are_the_cdef_files_in_order(builder: ModuleType, tmp_path: Path) -> None:
    touch(tmp_path, "np_timing_cdef.h", "np_cpuid_cdef.h", "np_cpuid.h", "np_cpuid.c", "cdef.h")
    assert [p.name for p in builder.cdef_headers(tmp_path)] == [
        "np_cpuid_cdef.h", "np_timing_cdef.h",
    ]


def test_library_sources_exclude_tools(builder: ModuleType, tmp_path: Path) -> None:
    touch(tmp_path, "np_timing.c", "np_cpuid.c", "tool_nestprobe_dump.c", "tool_winfacts.c",
          "np_x.h", "np_dump.c", "np_dump.h", "np_cpuid_cdef.h", "np_timing_cdef.h")
    assert [p.name for p in builder.library_sources(tmp_path)] == ["np_cpuid.c", "np_timing.c"]


def test_real_header_for_strips_cdef_suffix(builder: ModuleType) -> None:
    assert builder.real_header_for(Path("/x/np_cpuid_cdef.h")) == Path("/x/np_cpuid.h")
    assert builder.real_header_for(Path("np_timing_cdef.h")) == Path("np_timing.h")


def test_compile_args_follow_the_compiler_not_the_platform(builder: ModuleType) -> None:
    msvc = builder.compile_args("msvc")
    assert msvc
    assert all(arg.startswith("/") for arg in msvc)
    for gnu in ("unix", "mingw32", "cygwin"):  # mingw-w64 runs on (or for) Windows: a GCC
        args = builder.compile_args(gnu)
        assert "-std=gnu11" in args
        assert all(arg.startswith("-") for arg in args)


def test_setup_py_passes_the_running_compilers_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    """setup.py's build_ext asks build_ffi for flags by the compiler object it was given."""
    import runpy

    setuptools = pytest.importorskip("setuptools", reason="a build-time dependency only")

    captured: dict[str, object] = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
    namespace = runpy.run_path(str(REPO / "setup.py"))
    command_class = captured["cmdclass"]["build_ext"]  # type: ignore[index]
    assert command_class is namespace["build_ext_per_compiler"]

    seen: list[list[str]] = []
    command = command_class.__new__(command_class)
    command.compiler = SimpleNamespace(compiler_type="msvc")
    command.extensions = [SimpleNamespace(extra_compile_args=["/DX"])]
    monkeypatch.setattr(setuptools.command.build_ext.build_ext, "build_extensions",
                        lambda self: seen.append(self.extensions[0].extra_compile_args))
    command.build_extensions()
    assert seen == [["/O2", "/W3", "/DX"]]


def test_no_project_header_can_shadow_a_system_header() -> None:
    headers = sorted(p.name for p in CSRC.glob("*.h"))
    assert "np_cpuid.h" in headers
    assert all(name.startswith("np_") for name in headers), headers


def test_repository_headers_pair_up_and_parse(builder: ModuleType) -> None:
    headers = builder.cdef_headers()
    assert CSRC / "np_cpuid_cdef.h" in headers
    assert CSRC / "np_cpuid.c" in builder.library_sources()
    assert CSRC / "tool_nestprobe_dump.c" not in builder.library_sources()
    assert CSRC / "np_dump.c" not in builder.library_sources()  # the tools' record writer
    for cdef in headers:
        assert builder.real_header_for(cdef).is_file(), cdef
        FFI().cdef(cdef.read_text(encoding="utf-8"))  # cdef-clean on its own


CDEF_DEFINE = re.compile(r"^#define\s+(NPT?_\w+)\s+(.*?)\s*$", re.MULTILINE)
REAL_DEFINE = re.compile(r"^#define\s+(NPT?_\w+)\s+(-?\d+)\b", re.MULTILINE)


@pytest.mark.parametrize("name", ["np_cpuid", "np_timing"])
def test_constants_are_defined_once_in_the_real_header(name: str) -> None:
    """The cdef names each constant with ``...``: its value lives in the real header only."""
    cdef = dict(CDEF_DEFINE.findall((CSRC / f"{name}_cdef.h").read_text(encoding="utf-8")))
    real = dict(REAL_DEFINE.findall((CSRC / f"{name}.h").read_text(encoding="utf-8")))
    assert cdef
    assert set(cdef.values()) == {"..."}
    assert set(cdef) <= set(real)


def compile_probe(tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Compile a file that needs the compiler's <cpuid.h> next to the project's headers."""
    source = tmp_path / "probe.c"
    source.write_text(
        "#include <cpuid.h>\n#include \"np_cpuid.h\"\n#include \"np_timing.h\"\n"
        "int main(void) { unsigned a, b, c, d; __cpuid_count(0, 0, a, b, c, d);"
        " return (int)(a & 0) + NP_OK + NPT_OK; }\n",
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
def test_plain_include_path_keeps_compilers_cpuid_h_visible(tmp_path: Path) -> None:
    done = compile_probe(tmp_path, [f"-I{CSRC}"])
    assert done.returncode == 0, done.stderr
    # The hazard the np_ prefix removes: a project cpuid.h on -I hides the compiler's.
    shadow = tmp_path / "inc"
    shadow.mkdir()
    (shadow / "cpuid.h").write_text("/* not the compiler's */\n", encoding="utf-8")
    shadowed = compile_probe(tmp_path, [f"-I{shadow}", f"-I{CSRC}"])
    assert shadowed.returncode != 0


# ---- the MSVC path, checked with clang in MSVC mode ---------------------------------------

CLANG = shutil.which("clang")
#: C library and Windows API declarations for the check: mingw-w64's headers (Debian's
#: mingw-w64-common), since the Windows SDK cannot be installed here.
MINGW_INCLUDE = next(
    (d for d in (Path("/usr/share/mingw-w64/include"), Path("/usr/x86_64-w64-mingw32/include"))
     if (d / "windows.h").is_file()),
    None,
)
needs_clang_msvc = pytest.mark.skipif(
    CLANG is None or MINGW_INCLUDE is None,
    reason="needs clang and the mingw-w64 headers (apt-get install clang mingw-w64-common)",
)


def clang_msvc(*args: str) -> subprocess.CompletedProcess[str]:
    """clang as an MSVC-like compiler (_MSC_VER defined, no GNU extensions assumed).

    clang's own intrin.h (the MSVC intrinsics) is read first: mingw's _mingw.h, pulled in by
    any C library header, defines __attribute__ away for non-GNU compilers and would break
    it; -ffreestanding and skipping mm_malloc.h keep intrin.h from including stdlib.h early.
    """
    assert CLANG is not None
    assert MINGW_INCLUDE is not None
    return subprocess.run(
        [CLANG, "--target=x86_64-pc-windows-msvc", "-std=c11", "-Wall", "-Wextra", "-Werror",
         "-ffreestanding", "-D__MM_MALLOC_H", "-include", "intrin.h",
         "-idirafter", str(MINGW_INCLUDE), "-I", str(CSRC), *args],
        capture_output=True, text=True, check=False, timeout=120,
    )


def own_lines(preprocessed: str, source: Path) -> str:
    """The lines of ``preprocessed`` that come from ``source`` itself (not its headers)."""
    keep, out = False, []
    for line in preprocessed.splitlines():
        if line.startswith("# "):
            keep = line.split('"')[1].endswith(source.name) if '"' in line else keep
        elif keep:
            out.append(line)
    return "\n".join(out)


@needs_clang_msvc
@pytest.mark.parametrize("name", ["np_cpuid.c", "np_timing.c"])
def test_library_sources_pass_an_msvc_mode_syntax_check(builder: ModuleType, name: str) -> None:
    source = CSRC / name
    assert source in builder.library_sources()
    done = clang_msvc("-fsyntax-only", str(source))
    assert done.returncode == 0, done.stderr


@needs_clang_msvc
def test_msvc_mode_takes_the_intrinsics_path() -> None:
    source = CSRC / "np_timing.c"
    done = clang_msvc("-E", str(source))
    assert done.returncode == 0, done.stderr
    body = own_lines(done.stdout, source)
    for intrinsic in ("__cpuidex(", "__rdtsc(", "__rdtscp(", "_mm_lfence(",
                      "QueryPerformanceCounter(", "SetThreadAffinityMask("):
        assert intrinsic in body, intrinsic
    assert "__asm__" not in body  # GNU inline asm is the GCC/Clang path only
    cpuid = CSRC / "np_cpuid.c"
    cpuid_body = own_lines(clang_msvc("-E", str(cpuid)).stdout, cpuid)
    assert "__cpuidex(" in cpuid_body
    assert "__cpuid_count" not in cpuid_body


@needs_clang_msvc
def test_msvc_mode_check_rejects_a_misused_intrinsic(tmp_path: Path) -> None:
    """The check can fail: __cpuidex takes three arguments (learn.microsoft.com, __cpuid)."""
    bad = tmp_path / "bad.c"
    bad.write_text("void f(void) { int r[4]; __cpuidex(r, 0); }\n", encoding="utf-8")
    done = clang_msvc("-fsyntax-only", str(bad))
    assert done.returncode != 0
    assert "__cpuidex" in done.stderr
