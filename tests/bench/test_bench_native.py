"""The bench samplers through the extension: argument checks, what the chase mappings get,
cleanup, and a live run of the suite. Figures are never asserted, only their shape."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from nestprobe.bench import cli, result
from nestprobe.bench.collect import collect_suite, native_bench
from nestprobe.bench.plan import DEFAULT, EMULATED_GUEST, SERIES, SuitePlan
from nestprobe.bench.raw import RawSuite

pytestmark = pytest.mark.native

SMALL = SuitePlan("small", batches=2, gap_us=100, cpuid_rounds=20, cpuid_warmup=2,
                  floor_samples=20, register_iterations=100, register_samples=10,
                  getppid_calls=4, getppid_samples=10, warmup=1, touch_pages=16,
                  chase_bytes=4 << 20, chase_pages=256, chase_steps=16, chase_samples=10,
                  chase_warmup_laps=1, seed=7)
LINUX = sys.platform == "linux" and os.path.exists("/proc/self/smaps")


@pytest.fixture(scope="module")
def native() -> tuple[Any, Any]:
    """The C API itself (these tests are the native layer's): nestprobe.native's pair."""
    from nestprobe import native as door

    pair = door.load_lib()
    if pair is None or not native_bench():
        pytest.skip("needs the compiled extension, with a usable TSC and CPUID")
    return pair.ffi, pair.lib


def anonymous_mappings() -> list[str]:
    """Address ranges of /proc/self/maps entries without a backing path."""
    lines = Path("/proc/self/maps").read_text().splitlines()
    return [line.split()[0] for line in lines if len(line.split()) == 5]


@pytest.fixture
def chase(native: tuple[Any, Any]) -> Iterator[Any]:
    ffi, lib = native
    opened: list[Any] = []

    def open_chase(size: int, huge: bool, pages: int = 0) -> Any:
        holder = ffi.new("npb_chase **")
        assert lib.npb_chase_open(size, pages, int(huge), 3, holder) == lib.NPB_OK
        opened.append(holder[0])
        facts = ffi.new("npb_chase_facts *")
        assert lib.npb_chase_facts_of(holder[0], facts) == lib.NPB_OK
        return holder[0], facts

    yield open_chase
    for handle in opened:
        lib.npb_chase_close(handle)


def test_samplers_refuse_bad_arguments(native: tuple[Any, Any]) -> None:
    ffi, lib = native
    out = ffi.new("uint64_t[]", 4)
    einval = lib.NPB_EINVAL
    assert lib.npb_floor(0, out) == einval
    assert lib.npb_floor(4, ffi.NULL) == einval
    assert lib.npb_register_loop(0, 0, 4, out) == einval
    assert lib.npb_getppid(4, 0, 0, out) in (einval, lib.NPB_ENOTSUP)
    assert lib.npb_first_touch(0, out) == einval
    holder = ffi.new("npb_chase **")
    assert lib.npb_chase_open(0, 0, 0, 1, holder) == einval
    assert lib.npb_chase_open((4 << 30) + 1, 0, 0, 1, holder) == einval
    assert lib.npb_chase_open(1 << 20, 0, 0, 1, ffi.NULL) == einval
    assert lib.npb_chase_sample(ffi.NULL, 1, 0, 1, out) == einval
    assert lib.npb_chase_facts_of(ffi.NULL, ffi.new("npb_chase_facts *")) == einval
    lib.npb_chase_close(ffi.NULL)  # a no-op, not a crash


def test_every_sampler_fills_its_buffer(native: tuple[Any, Any], chase: Any) -> None:
    ffi, lib = native
    out = ffi.new("uint64_t[]", 8)
    assert lib.npb_floor(8, out) == lib.NPB_OK
    assert all(v < 1_000_000 for v in out)  # an empty bracket, not garbage
    for code in (lib.npb_register_loop(50, 1, 8, out), lib.npb_first_touch(8, out)):
        assert code == lib.NPB_OK
        assert all(v > 0 for v in out)
    handle, _ = chase(2 << 20, False)
    assert lib.npb_chase_sample(handle, 32, 1, 8, out) == lib.NPB_OK
    assert all(v > 0 for v in out)
    if os.name == "posix":
        assert lib.npb_getppid(4, 1, 8, out) == lib.NPB_OK


def test_chase_buffers_round_up_and_report_their_pages(native: tuple[Any, Any],
                                                       chase: Any) -> None:
    _, lib = native
    _, small = chase(3 << 20, False)  # rounded up to whole 2 MiB huge-page frames
    page = lib.npb_page_bytes()
    assert (small.bytes, small.page_bytes, small.nodes) == (4 << 20, page, (4 << 20) // page)
    _, spread = chase(8 << 20, False, pages=512)  # every 4th page of 2,048
    assert (spread.bytes, spread.nodes) == (8 << 20, 512)
    _, capped = chase(2 << 20, False, pages=10**6)  # no more nodes than pages
    assert capped.nodes == (2 << 20) // page
    if LINUX:
        if small.advice == 0:  # MADV_NOHUGEPAGE honoured: not one huge page
            assert small.huge_kib == 0
        _, huge = chase(8 << 20, True)
        assert huge.huge_kib == -1 or 0 <= huge.huge_kib <= 8 << 10
    else:
        assert small.huge_kib == -1


@pytest.mark.skipif(not LINUX, reason="reads /proc/self/maps")
def test_mappings_are_released(native: tuple[Any, Any]) -> None:
    ffi, lib = native
    out = ffi.new("uint64_t[]", 64)

    def run() -> None:
        assert lib.npb_first_touch(64, out) == lib.NPB_OK
        assert collect_suite(SMALL) is not None

    def leaves_none() -> bool:
        before = anonymous_mappings()
        run()
        return anonymous_mappings() == before

    # Python's own heap may map (or merge) a 1 MiB arena during any run, once; a mapping
    # the C code keeps would show in every run. A first run brings the lazy imports and the
    # heap to their size, then one clean run of three is the release.
    run()
    assert any(leaves_none() for _ in range(3))


def test_live_suite_has_the_plans_shape(native: tuple[Any, Any]) -> None:
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    progress: list[tuple[int, int]] = []
    raw = collect_suite(SMALL, progress=lambda done, total: progress.append((done, total)))
    assert raw is not None
    assert progress == [(1, 2), (2, 2)]
    assert RawSuite.from_dict(json.loads(json.dumps(raw.to_dict()))) == raw
    assert set(raw.series) == set(SERIES)
    for name, series in raw.series.items():
        if name == "control.getppid" and os.name != "posix":
            assert series.status == "unsupported"
            continue
        if name.startswith("guest.") and "no VM ran here" in (series.detail or ""):
            continue  # no VM can be created here (WHP absent under wine, or no /dev/kvm access)
        assert series.status == "ok", (name, series.detail)
        assert [len(b) for b in series.batches] == [SMALL.per_batch(name)] * SMALL.batches
    if affinity is not None:
        assert os.sched_getaffinity(0) == affinity
        assert raw.pinned_cpu in affinity


def test_bench_command_end_to_end(tmp_path: Path) -> None:
    out_file = tmp_path / "run.json"
    top = argparse.ArgumentParser(prog="nestprobe")
    cli.register(top.add_subparsers(dest="command"))
    args = top.parse_args(["bench", "--output", str(out_file), "--label", "here"])
    table = io.StringIO()
    assert args.handler(args, table) == cli.EXIT_OK
    doc = result.load_result(out_file)
    schema = json.loads(resources.files("nestprobe.bench").joinpath("bench.schema.json")
                        .read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert (doc["runner"], doc["assessed_from"], doc["label"]) == ("nestprobe", "live", "here")
    assert doc["level"]["at_least"] >= 0
    assert any(e["source"].startswith("timing:") for e in doc["level"]["evidence"])
    for name, metric in doc["metrics"].items():
        if metric["status"] == "ok":
            figures = metric["ticks"]
            assert figures["min"] <= figures["estimate"] <= figures["max"], name
            assert metric["samples"] == DEFAULT.batches * DEFAULT.per_batch(name)
    assert table.getvalue().startswith("here: ")
    assert "| register multiply-add | iteration |" in table.getvalue()


@pytest.mark.skipif(not hasattr(os, "setuid") or os.geteuid() != 0,
                    reason="dropping to nobody needs root to start with")
def test_bench_needs_no_root(native: tuple[Any, Any]) -> None:
    """The suite runs as nobody: no privileged call, no file it cannot read."""
    code = textwrap.dedent("""
        import os, sys
        from nestprobe.bench.collect import collect_suite
        from nestprobe.bench.plan import SuitePlan
        from nestprobe import native
        native.load_lib()  # this interpreter lives under /root: load before dropping
        plan = SuitePlan("small", 2, 100, 20, 2, 20, 100, 10, 4, 10, 1, 16, 4 << 20, 256,
                         16, 10, 1, 7)
        os.setgroups([]); os.setgid(65534); os.setuid(65534)
        raw = collect_suite(plan)
        # The guest metrics need /dev/kvm, which nobody may not open (mode 0600 here):
        # they may say why they did not run, never crash the suite.
        bad = [n for n, s in raw.series.items() if s.status != "ok"
               and not (n.startswith("guest.") and "no VM ran here" in (s.detail or ""))]
        print("ok" if not bad else bad, raw.series["tlb.huge"].facts.get("huge_kib"))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120, cwd="/",
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2])))
    assert done.returncode == 0, done.stderr
    status, huge_kib = done.stdout.split()
    assert status == "ok"
    if LINUX:
        assert int(huge_kib) >= 0  # nobody can still read its own /proc/self/smaps


PVM_HERE = os.path.isdir("/sys/module/kvm_pvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)


@pytest.mark.skipif(not PVM_HERE, reason="needs /dev/kvm served by kvm_pvm (the dev machine)")
def test_the_created_guest_under_pvm_is_labelled_emulated(native: tuple[Any, Any]) -> None:
    """On the PVM machine (NP-DEV) the bench's created guest runs emulated: its figures say so."""
    from nestprobe.bench.collect import _guest_batch, _Series

    io, cpuid = _Series("guest.io_exit", 1), _Series("guest.cpuid_exit", 1)
    _guest_batch(DEFAULT, io, cpuid)
    for series in (io.frozen(), cpuid.frozen()):
        assert series.status == "ok", series.detail
        assert (series.detail or "").startswith(EMULATED_GUEST), series.detail
