"""Running Windows programs under wine from the Linux test suite (helpers, not tests).

Wine quirks that matter here (../shared/reference/windows.md): standard handles must be
pipes or /dev/null, never regular files; drive Z: is the host's `/`, so a program is run
from C:\\ (the prefix's drive_c) with its files copied there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

WINE = shutil.which("wine")
MINGW_CC = shutil.which("x86_64-w64-mingw32-gcc")


def wine_env(prefix: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(WINEPREFIX=str(prefix), WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
    return env


def make_prefix(prefix: Path) -> Path:
    """A wine prefix at ``prefix`` (reused when one is there); its drive_c."""
    assert WINE is not None
    drive_c = prefix / "drive_c"
    if not (prefix / "system.reg").is_file():
        subprocess.run([WINE, "wineboot", "-i"], env=wine_env(prefix), stdin=subprocess.DEVNULL,
                       capture_output=True, check=True, timeout=300)
    assert drive_c.is_dir()
    return drive_c


def run_windows(prefix: Path, exe: Path, *args: str, timeout: float = 120
                ) -> subprocess.CompletedProcess[bytes]:
    """``exe`` (inside the prefix's drive_c) under wine; its exit code and raw output."""
    assert WINE is not None
    return subprocess.run([WINE, str(exe), *args], env=wine_env(prefix), cwd=exe.parent,
                          stdin=subprocess.DEVNULL, capture_output=True, check=False,
                          timeout=timeout)


def windows_path(drive_c: Path, path: Path) -> str:
    """``path`` (under drive_c) as the Windows program sees it: C:\\..."""
    return "C:\\" + "\\".join(path.relative_to(drive_c).parts)
