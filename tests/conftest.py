"""Shared test fixtures: corpus location and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

#: os.geteuid is POSIX-only: on Windows no test runs as root.
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
REPO = Path(__file__).resolve().parent.parent
#: Third-party data is read in place, never copied into the project.
CORPUS = REPO.parent / "shared" / "corpus"
DUMPS = CORPUS / "dumps"
VIRT_WHAT = CORPUS / "virt-what"

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
def virt_what_roots() -> Path:
    if not VIRT_WHAT.is_dir():
        pytest.skip(f"virt-what fixtures not found at {VIRT_WHAT}")
    return VIRT_WHAT
