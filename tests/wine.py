"""Running Windows programs under wine from the Linux test suite (helpers, not tests).

Wine quirks that matter here (../shared/reference/windows.md): standard handles must be
pipes or /dev/null, never regular files; drive Z: is the host's `/`, so a program is run
from C:\\ (the prefix's drive_c) with its files copied there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

WINE = shutil.which("wine")
MINGW_CC = shutil.which("x86_64-w64-mingw32-gcc")
#: .ci/run sets NESTPROBE_REQUIRE_WINE=1 once it has installed wine and mingw-w64: from then
#: on a missing tool fails these tests instead of skipping them (a Linux host only: under
#: wine itself there is no wine to run).
REQUIRED = os.environ.get("NESTPROBE_REQUIRE_WINE") == "1" and sys.platform == "linux"


def unavailable(reason: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(f"NESTPROBE_REQUIRE_WINE=1 but {reason}")
    pytest.skip(reason)


def wine_env(prefix: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(WINEPREFIX=str(prefix), WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
    return env


def make_prefix(prefix: Path) -> Path:
    """A wine prefix at ``prefix`` (reused when one is there); its drive_c."""
    assert WINE is not None
    drive_c = prefix / "drive_c"
    if not (prefix / "system.reg").is_file():
        # No pipes: the services wineboot starts inherit its handles and outlive it.
        subprocess.run([WINE, "wineboot", "-i"], env=wine_env(prefix), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       timeout=300)
    assert drive_c.is_dir()
    return drive_c


def keep_server(prefix: Path, persistent: bool) -> None:
    """Keep the prefix's wineserver running between programs (each start is then quick),
    or stop it. ``-p`` exits 2 when a server runs already: that is fine."""
    server = shutil.which("wineserver")
    if server is None:
        return
    # DEVNULL, not pipes: a server that daemonizes keeps them open, and run() would wait.
    subprocess.run([server, "-p" if persistent else "-k"], env=wine_env(prefix),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False, timeout=60)


@contextmanager
def module_prefix(factory: pytest.TempPathFactory, name: str, why_linux: str
                  ) -> Iterator[Path]:
    """A fresh wine prefix for a test module's fixture, its wineserver kept running until
    the module is done. Skipped under Windows (``why_linux``: what the host must do); fails
    or skips, as :func:`unavailable` says, without wine and mingw-w64."""
    if sys.platform == "win32":
        pytest.skip(why_linux)
    if WINE is None or MINGW_CC is None:
        unavailable("needs wine and mingw-w64 (apt-get install wine64 gcc-mingw-w64-x86-64)")
    prefix = factory.mktemp(name)
    make_prefix(prefix)
    keep_server(prefix, persistent=True)
    try:
        yield prefix
    finally:
        keep_server(prefix, persistent=False)


def mingw_build(source: Path, out: Path, *flags: str) -> None:
    """``source`` compiled for Windows x64 into ``out`` with mingw-w64."""
    assert MINGW_CC is not None
    subprocess.run([MINGW_CC, *flags, "-o", str(out), str(source)], check=True, timeout=120)


#: What wine's launcher prints when it could not start the program at all (seen once in a CI
#: run, wine's cmd starting a batch file): nothing of the program ran, so it is tried again.
LAUNCH_FAILED = b"ShellExecuteEx failed"


def launched(run: Callable[[], subprocess.CompletedProcess[bytes]]
             ) -> subprocess.CompletedProcess[bytes]:
    """``run()``, run once more when wine could not start its program (:data:`LAUNCH_FAILED`);
    a second such failure is returned as it is, for the test to report."""
    done = run()
    if LAUNCH_FAILED in done.stdout or LAUNCH_FAILED in done.stderr:
        done = run()
    return done


def run_windows(prefix: Path, exe: str | Path, *args: str, timeout: float = 120
                ) -> subprocess.CompletedProcess[bytes]:
    """``exe`` under wine, from drive_c; its exit code and raw output.

    Output goes through files, not pipes: a wine service started on the way (services.exe,
    winedevice.exe) inherits the handles and would hold a pipe open long after the program
    ended. (A Windows *Python* needs pipes instead: see .ci/windows-stage.sh.)
    """
    assert WINE is not None
    wine = WINE

    def run() -> subprocess.CompletedProcess[bytes]:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            done = subprocess.run([wine, str(exe), *args], env=wine_env(prefix),
                                  cwd=prefix / "drive_c", stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=err, check=False, timeout=timeout)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(done.args, done.returncode, out.read(),
                                               err.read())

    return launched(run)


def windows_path(drive_c: Path, path: Path) -> str:
    """``path`` (under drive_c) as the Windows program sees it: C:\\..."""
    return "C:\\" + "\\".join(path.relative_to(drive_c).parts)
