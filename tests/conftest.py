"""Shared test fixtures: corpus location, the repository's own stand-ins for it, and
hypothesis profiles.

Everything that reads ../shared/corpus goes through here: a test either skips with its
reason when the corpus is not beside the clone, or runs on the repository's own fixtures
(tests/fixtures/: nestprobe-format snapshots of the corpus dumps' registers, each naming
its public source, and pastes written for these tests), so a lone clone passes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

#: os.geteuid is POSIX-only: on Windows no test runs as root.
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
REPO = Path(__file__).resolve().parent.parent
#: Third-party data is read in place, never copied into the project. NESTPROBE_CORPUS names
#: another place (a path that does not exist runs the suite as a clone with nothing beside it).
CORPUS = Path(os.environ.get("NESTPROBE_CORPUS") or REPO.parent / "shared" / "corpus")
DUMPS = CORPUS / "dumps"
VIRT_WHAT = CORPUS / "virt-what"
PASTES = CORPUS / "windows"
#: The repository's own inputs (never third-party text).
FIXTURES = REPO / "tests" / "fixtures"
#: CPU 0's registers of each corpus dump in nestprobe's format (tools/derive_corpus_fixtures.py).
OWN_DUMPS = FIXTURES / "corpus"
#: Pastes written for these tests in each tool's format (windows/: Coreinfo, systeminfo,
#: Get-ComputerInfo, msinfo32; cpuid/: the register-dump tools the importers read).
OWN_PASTES = FIXTURES / "pastes"

#: quick: the default, a hundred examples per target; fuzz: long runs
#: (HYPOTHESIS_PROFILE=fuzz python -m pytest -k fuzz); ci: what CI sets.
settings.register_profile("quick", deadline=None, max_examples=100)
settings.register_profile("dev", deadline=None, max_examples=100)  # the old name of quick
settings.register_profile(
    "ci", deadline=None, max_examples=200, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz", deadline=None, max_examples=20_000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "quick")
)


@pytest.fixture(scope="session")
def corpus_dumps() -> Path:
    if not DUMPS.is_dir():
        pytest.skip(f"corpus not found at {DUMPS}")
    return DUMPS


@pytest.fixture(scope="session")
def dumps() -> Path:
    """A folder of dumps: the corpus's, else the repository's snapshots of them (never skips)."""
    return dumps_folder()


@pytest.fixture(scope="session")
def virt_what_roots() -> Path:
    if not VIRT_WHAT.is_dir():
        pytest.skip(f"virt-what fixtures not found at {VIRT_WHAT}")
    return VIRT_WHAT


def own_dump(name: str) -> Path:
    """The repository's snapshot of corpus dump ``name`` (``x.txt`` -> ``x.dump``)."""
    return OWN_DUMPS / (name.removesuffix(".txt") + ".dump")


def dump_path(name: str) -> Path:
    """Corpus dump ``name`` where ../shared is beside the clone (as the tests always read
    it), else the repository's own snapshot of its registers; skip when neither exists."""
    if (DUMPS / name).is_file():
        return DUMPS / name
    if own_dump(name).is_file():
        return own_dump(name)
    pytest.skip(f"corpus dump {name} not found at {DUMPS}, and no own snapshot of it")


def dumps_folder() -> Path:
    """The corpus dumps folder, else the folder of the repository's own snapshots of them."""
    return DUMPS if DUMPS.is_dir() else OWN_DUMPS


def every_dump() -> list[Path]:
    """Every file of :func:`dumps_folder`, sorted."""
    return sorted(p for p in dumps_folder().iterdir() if p.is_file())


def every_windows_paste() -> list[Path]:
    """The corpus's Windows pastes where ../shared is beside the clone, else the repository's
    own (tests/fixtures/pastes/windows)."""
    folder = PASTES if PASTES.is_dir() else OWN_PASTES / "windows"
    return sorted(p for p in folder.glob("*.txt") if p.is_file()) if folder.is_dir() else []


def cases(values: list[Any], reason: str) -> list[Any]:
    """``values`` for a parametrization, or one visibly skipped case saying why there are none:
    an empty parametrization would otherwise collect nothing and pass in silence."""
    return values or [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="none")]


@pytest.fixture
def one_cpu() -> Iterator[int]:
    """Pin this process (the threads and children it starts later too: wine and its
    program) to its lowest CPU: some leaves are per-CPU. tests/native uses it."""
    if sys.platform == "win32":
        yield from windows_one_cpu()
        return
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no sched_setaffinity")
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


def windows_one_cpu() -> Iterator[int]:
    """The process (every thread, and threads started later) on its lowest CPU, with
    SetProcessAffinityMask, then the original mask back."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    size_p = ctypes.POINTER(ctypes.c_size_t)
    kernel32.GetProcessAffinityMask.argtypes = [wintypes.HANDLE, size_p, size_p]
    kernel32.SetProcessAffinityMask.argtypes = [wintypes.HANDLE, ctypes.c_size_t]
    process = kernel32.GetCurrentProcess()
    mask, system = ctypes.c_size_t(), ctypes.c_size_t()
    assert kernel32.GetProcessAffinityMask(process, ctypes.byref(mask), ctypes.byref(system))
    cpu = (mask.value & -mask.value).bit_length() - 1
    assert kernel32.SetProcessAffinityMask(process, ctypes.c_size_t(1 << cpu))
    try:
        yield cpu
    finally:
        assert kernel32.SetProcessAffinityMask(process, mask)


def load_script(path: Path, name: str) -> ModuleType:
    """A repository script that is no package module (tools/*.py, csrc/build_ffi.py),
    imported from its file under ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
