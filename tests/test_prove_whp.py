"""The Windows proof path (WHP): documented signatures, call order, and under wine, the
missing DLL as a state (never an error) with the exit-code contract intact.

The signatures are checked by the compiler against mingw-w64's ``winhvplatform.h`` (the
WinHvPlatform.h prototypes, learn.microsoft.com/virtualization/api/hypervisor-platform):
``np_prove.c`` built with ``-DNPP_CHECK_SIGNATURES`` assigns each real function to the
function type the run-time loader uses, and an incompatible pointer is an error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from wine import MINGW_CC, WINE, keep_server, make_prefix, run_windows, unavailable

from nestprobe.assess.proof import FIX_WHP
from nestprobe.model.contract import STATUS_EXIT
from nestprobe.pipeline import build_report
from nestprobe.sources.dumpfile import parse_dump

CSRC = REPO / "csrc"
SOURCE = CSRC / "np_prove.c"
#: The documented order: capability, partition, its processor count, setup, memory, the
#: virtual processor, its registers, run (the "Windows Hypervisor Platform" API overview).
SETUP_ORDER = ["GetCapability", "CreatePartition", "SetPartitionProperty", "SetupPartition",
               "MapGpaRange", "CreateVirtualProcessor", "SetVirtualProcessorRegisters",
               "RunVirtualProcessor"]
#: Teardown in reverse: processor, memory, partition.
RELEASE_ORDER = ["DeleteVirtualProcessor", "UnmapGpaRange", "DeletePartition"]


def _needs_mingw() -> None:
    if sys.platform == "win32":
        pytest.skip("cross-checks on the Linux host")
    if MINGW_CC is None:
        unavailable("needs mingw-w64 (apt-get install gcc-mingw-w64-x86-64)")


def _check(source: Path) -> subprocess.CompletedProcess[str]:
    assert MINGW_CC is not None
    return subprocess.run(
        [MINGW_CC, "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-DNPP_CHECK_SIGNATURES",
         f"-I{CSRC}", "-fsyntax-only", str(source)],
        capture_output=True, text=True, check=False, timeout=120,
    )


def test_whp_function_types_match_the_documented_prototypes(tmp_path: Path) -> None:
    _needs_mingw()
    done = _check(SOURCE)
    assert done.returncode == 0, done.stderr
    # The check can fail: one parameter dropped from one type is an error.
    text = SOURCE.read_text()
    wrong = text.replace("(WINAPI *npp_WHvCreatePartition)(WHV_PARTITION_HANDLE *)",
                         "(WINAPI *npp_WHvCreatePartition)(WHV_PARTITION_HANDLE)")
    assert wrong != text
    bad = tmp_path / "np_prove.c"
    bad.write_text(wrong)
    failed = _check(bad)
    assert failed.returncode != 0
    assert "WHvCreatePartition" in failed.stderr


def _whp_calls(body: str) -> list[str]:
    return re.findall(r"w->api\.(\w+)\(", body)


def test_whp_calls_follow_the_documented_sequence() -> None:
    text = SOURCE.read_text()
    whp = text[text.index("#elif NPP_WHP"):text.index("#endif /* platforms */")]
    setup = whp[whp.index("static int npp_whp_setup"):whp.index("static DWORD WINAPI")]
    run = whp[whp.index("static void npp_whp_run"):whp.index("static void npp_whp_release")]
    release = whp[whp.index("static void npp_whp_release"):whp.index("static int npp_prove_whp")]
    watchdog = whp[whp.index("static DWORD WINAPI"):whp.index("static void npp_whp_run")]
    assert _whp_calls(setup) + _whp_calls(run)[:1] == SETUP_ORDER
    assert _whp_calls(release) == RELEASE_ORDER
    assert _whp_calls(watchdog) == ["CancelRunVirtualProcessor"]
    # Loaded at run time from system32 only, never linked.
    assert 'LoadLibraryExW(L"WinHvPlatform.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32)' in whp
    assert "WinHvPlatform.lib" not in text


@pytest.fixture(scope="module")
def exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _needs_mingw()
    if shutil.which("make") is None:
        unavailable("needs make")
    directory = tmp_path_factory.mktemp("exe")
    for source in [CSRC / "Makefile", *CSRC.glob("*.h"), *CSRC.glob("*.c")]:
        shutil.copy(source, directory / source.name)
    done = subprocess.run(["make", "-s", "-C", str(directory), "nestprobe-dump.exe"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return directory / "nestprobe-dump.exe"


def test_under_wine_the_missing_platform_is_a_state_with_its_fix(
    exe: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if WINE is None:
        unavailable("needs wine (apt-get install wine64)")
    prefix = tmp_path_factory.mktemp("wineprefix")
    drive = make_prefix(prefix)
    keep_server(prefix, persistent=True)
    try:
        placed = drive / "np" / exe.name
        placed.parent.mkdir(exist_ok=True)
        shutil.copy(exe, placed)
        done = run_windows(prefix, placed, "--prove")
    finally:
        keep_server(prefix, persistent=False)
    assert done.returncode == 0, done.stderr  # the dumper's contract: 0 when CPUID ran
    snapshot = parse_dump(done.stdout.decode("ascii"), "wine")
    record = snapshot.proof
    assert record is not None
    # wine ships no WinHvPlatform.dll (or one without the exports): never an error.
    assert (record.platform, record.outcome) == ("whp", "unavailable")
    assert record.step in ("load-library", "get-proc")
    report = build_report(snapshot)
    proof = report.assessment.proof
    assert proof is not None
    assert proof.state == "unavailable"
    assert proof.fix == FIX_WHP
    verdict = report.verdicts["third-party"]
    assert verdict.status in STATUS_EXIT
    assert any(FIX_WHP in fix.steps for fix in verdict.remediation)
