"""tools/build_portable.py and its launcher: what decides the zip's and the MSI's content.

The whole build, run under wine in a prefix without Python (unzip and run; msiexec /i, run
from PATH, msiexec /x, nothing left), is .ci/portable-stage.sh: it needs the network for
the embeddable CPython. These tests check the parts: the modules the build drops are ones
the package never imports, the MSI source, the PATH rows added to the built database, and
the launcher (quoting and exit codes passed through) under wine with a stand-in python.exe.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import REPO, load_script
from wine import (
    MINGW_CC,
    mingw_build,
    module_prefix,
    run_windows,
    unavailable,
)

WIX = "{http://schemas.microsoft.com/wix/2006/wi}"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    return load_script(REPO / "tools" / "build_portable.py", "build_portable")


#: Standard modules backed by an extension the build drops (tools/build_portable.py
#: EMBED_DROP), by the .pyd or .dll each needs on Windows CPython 3.13.
NEEDS_DROPPED = {
    "ssl": "_ssl.pyd", "hashlib": "_hashlib.pyd", "sqlite3": "_sqlite3.pyd",
    "xml": "pyexpat.pyd", "pyexpat": "pyexpat.pyd", "plistlib": "pyexpat.pyd",
    "lzma": "_lzma.pyd", "bz2": "_bz2.pyd", "decimal": "_decimal.pyd",
    "asyncio": "_asyncio.pyd", "uuid": "_uuid.pyd", "zoneinfo": "_zoneinfo.pyd",
    "winsound": "winsound.pyd",
}


def package_imports() -> set[str]:
    """Top-level names of every import in the package (functions and TYPE_CHECKING too)."""
    names: set[str] = set()
    if not (REPO / "nestprobe").is_dir():  # e.g. the Windows stage tests an installed wheel
        pytest.skip("reads the package's source, which is not beside these tests")
    for path in (REPO / "nestprobe").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_dropped_modules_are_never_imported(tool: ModuleType) -> None:
    assert set(NEEDS_DROPPED.values()) <= tool.EMBED_DROP
    used = {name: pyd for name, pyd in NEEDS_DROPPED.items() if name in package_imports()}
    assert not used, f"the portable build drops what these imports need: {used}"


def test_kept_modules_are_the_ones_the_package_needs(tool: ModuleType) -> None:
    # ctypes (the Windows facts), unicodedata, select and multiprocessing (fleet) stay.
    assert not {"_ctypes.pyd", "libffi-8.dll", "unicodedata.pyd", "select.pyd",
                "_multiprocessing.pyd", "_overlapped.pyd", "_socket.pyd"} & tool.EMBED_DROP
    assert {"ctypes", "multiprocessing", "unicodedata"} <= package_imports()


def test_pth_names_the_stdlib_and_lib_only(tool: ModuleType) -> None:
    text = tool.pth_text()
    assert text.split("\r\n") == ["python313.zip", ".", "..\\lib", ""]
    assert "import site" not in text  # no site: sys.path is exactly these


def make_tree(root: Path) -> Path:
    for rel in ("nestprobe.exe", "README.txt", "python/python.exe", "python/python313._pth",
                "lib/nestprobe/__init__.py", "lib/nestprobe/model/contract.py",
                "lib/cffi-2.dist-info/licenses/LICENSE", "LICENSES/CPython-LICENSE.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


def test_wxs_installs_every_file_once(tool: ModuleType, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "nestprobe-0.1.0")
    text = tool.wxs_text(root, root.name, "0.1.0")
    assert text == tool.wxs_text(root, root.name, "0.1.0")  # stable: the GUIDs too
    tree = ET.fromstring(text)
    package = tree.find(f"{WIX}Product/{WIX}Package")
    assert package is not None
    assert package.get("InstallScope") == "perMachine"
    files = [f.get("Source") for f in tree.iter(f"{WIX}File")]
    expected = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert sorted(files) == expected  # relative: wixl runs in the folder
    components = list(tree.iter(f"{WIX}Component"))
    assert len({c.get("Guid") for c in components}) == len(components)
    assert len(components) == len({p.parent for p in root.rglob("*") if p.is_file()})
    refs = {r.get("Id") for r in tree.iter(f"{WIX}ComponentRef")}
    assert refs == {c.get("Id") for c in components}
    # C0 is the install folder's own: the PATH row hangs on it.
    top = next(c for c in components if c.get("Id") == "C0")
    assert {f.get("Name") for f in top.iter(f"{WIX}File")} == {"nestprobe.exe", "README.txt"}
    install = next(d for d in tree.iter(f"{WIX}Directory") if d.get("Id") == "INSTALLDIR")
    assert install.get("Name") == "nestprobe"


def test_msi_appends_to_the_system_path(tool: ModuleType, tmp_path: Path) -> None:
    """Built with wixl, the database carries the PATH row and both standard actions."""
    if shutil.which("wixl") is None or shutil.which("msiinfo") is None:
        unavailable("needs wixl and msitools (apt-get install wixl msitools)")
    root = make_tree(tmp_path / "nestprobe-0.1.0")
    msi = tool.build_msi(root, tmp_path / "x.msi", tmp_path)

    def table(name: str) -> list[list[str]]:
        out = subprocess.run(["msiinfo", "export", str(msi), name], capture_output=True,
                             text=True, check=True).stdout
        return [line.split("\t") for line in out.splitlines()[3:]]

    assert table("Environment") == [["PATH", "=-*PATH", "[~];[INSTALLDIR]", "C0"]]
    actions = {row[0]: int(row[2]) for row in table("InstallExecuteSequence")}
    assert actions["RemoveEnvironmentStrings"] < actions["RemoveFiles"]
    assert actions["InstallFiles"] < actions["WriteEnvironmentStrings"] < actions["InstallFinalize"]
    assert {row[0] for row in table("File")} >= {"C0F0", "C0F1"}


# ---- the launcher, under wine, with a stand-in python.exe ------------------------------------

FAKE_PYTHON = r"""
#include <windows.h>
#include <stdio.h>
#include <wchar.h>
int wmain(int argc, wchar_t **argv)
{
    /* Prints the command line it was given; exits with the number after "exit", if any. */
    fputws(GetCommandLineW(), stdout);
    fputws(L"\n", stdout);
    for (int i = 1; i + 1 < argc; i++)
        if (wcscmp(argv[i], L"exit") == 0)
            return _wtoi(argv[i + 1]);
    return 0;
}
"""


@pytest.fixture(scope="module")
def launcher_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with module_prefix(tmp_path_factory, "launcher-prefix",
                       "cross-builds on the Linux host") as prefix:
        folder = prefix / "drive_c" / "np"
        (folder / "python").mkdir(parents=True)
        source = folder / "fake.c"
        source.write_text(FAKE_PYTHON, encoding="ascii")
        for out, src in ((folder / "python" / "python.exe", source),
                         (folder / "nestprobe.exe", REPO / "tools" / "windows" / "launcher.c")):
            mingw_build(src, out, "-municode", "-O2", "-Wall", "-Wextra", "-Werror", "-s",
                        "-static")
        yield folder


def launch(folder: Path, *args: str) -> tuple[int, str, str]:
    done = run_windows(folder.parent.parent, "C:\\np\\nestprobe.exe", *args)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_launcher_runs_the_bundled_python_isolated(launcher_dir: Path) -> None:
    code, out, _ = launch(launcher_dir, "check", "wsl2", "--ready")
    assert code == 0
    assert out.strip() == '"C:\\np\\python\\python.exe" -I -B -m nestprobe check wsl2 --ready'


def test_launcher_passes_arguments_as_typed(launcher_dir: Path) -> None:
    code, out, _ = launch(launcher_dir, "report", "--from", "C:\\a b\\x.dump", 'q"uote')
    assert code == 0
    # The command line's own text after the program name: quoting as the caller wrote it.
    assert out.strip().endswith(' -m nestprobe report --from "C:\\a b\\x.dump" q\\"uote')


@pytest.mark.parametrize("exit_code", [0, 1, 2, 5, 9, 10, 130])
def test_launcher_passes_the_exit_code(launcher_dir: Path, exit_code: int) -> None:
    assert launch(launcher_dir, "exit", str(exit_code))[0] == exit_code


def test_launcher_without_python_says_so(launcher_dir: Path) -> None:
    alone = launcher_dir.parent / "alone"
    alone.mkdir(exist_ok=True)
    shutil.copy(launcher_dir / "nestprobe.exe", alone / "nestprobe.exe")
    done = run_windows(launcher_dir.parent.parent, "C:\\alone\\nestprobe.exe", "--version")
    assert done.returncode == 7  # the contract's internal error
    assert b"python\\python.exe is missing" in done.stderr


# ---- signing with the organisation's own certificate ----------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A throw-away code-signing certificate: PFX, its password file, the CA (itself)."""
    if shutil.which("openssl") is None or shutil.which("osslsigncode") is None:
        unavailable("needs openssl and osslsigncode (apt-get install osslsigncode)")
    where = tmp_path_factory.mktemp("cert")
    key, cert, pfx, password = (where / n for n in ("k.pem", "c.pem", "c.pfx", "pass"))
    password.write_text("test-only", encoding="ascii")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=nestprobe test signer", "-addext",
                    "extendedKeyUsage=codeSigning", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(cert),
                    "-out", str(pfx), "-passout", f"file:{password}"],
                   check=True, capture_output=True, timeout=120)
    return pfx, password, cert


def test_sign_signs_the_unsigned_binaries(tool: ModuleType, tmp_path: Path,
                                          certificate: tuple[Path, Path, Path]) -> None:
    if MINGW_CC is None:
        unavailable("needs mingw-w64")
    pfx, password, cert = certificate
    exe = tool.build_launcher(tmp_path / "nestprobe.exe")
    (tmp_path / "notes.txt").write_text("not a binary", encoding="ascii")
    assert tool.authenticode_size(exe) == 0
    assert tool.authenticode_size(tmp_path / "notes.txt") is None
    assert tool.unsigned_binaries(tmp_path) == [exe]
    tool.sign(exe, pfx, password, None)
    assert tool.authenticode_size(exe) > 0
    assert tool.unsigned_binaries(tmp_path) == []
    verify = subprocess.run(["osslsigncode", "verify", "-CAfile", str(cert), "-in", str(exe)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "nestprobe test signer" in verify.stdout


def test_sign_signs_the_msi(tool: ModuleType, tmp_path: Path,
                            certificate: tuple[Path, Path, Path]) -> None:
    if shutil.which("wixl") is None:
        unavailable("needs wixl (apt-get install wixl msitools)")
    pfx, password, cert = certificate
    msi = tool.build_msi(make_tree(tmp_path / "nestprobe-0.1.0"), tmp_path / "x.msi", tmp_path)
    tool.sign(msi, pfx, password, None)
    verify = subprocess.run(["osslsigncode", "verify", "-CAfile", str(cert), "-in", str(msi)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
