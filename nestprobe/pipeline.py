"""The pipeline: one Snapshot in, one Report out (assessment + verdicts).

Live probes and replayed dumps take exactly this path, which is why a dump replayed
offline gives the same report as the live probe of the machine it came from. It is also
the applications' one door to the stages (the second half of this module).
"""

from __future__ import annotations

import os

from nestprobe.model.typeshim import TYPE_CHECKING, Callable, Iterator, contextmanager

if TYPE_CHECKING:
    from nestprobe.assess.bands import Band
    from nestprobe.model.assessment import Assessment
    from nestprobe.model.report import Report
    from nestprobe.model.snapshot import Snapshot
    from nestprobe.model.verdicts import Verdicts
    from nestprobe.sources.importers.textcodec import Decoded


def build_report(snapshot: Snapshot) -> Report:
    """The Report of ``snapshot``. A paste whose Windows tools contradict each other
    (sources/importers/multipaste.py merged them) is refused: DumpFormatError naming both
    (exit 6; assess/contradictions.py).

    The stages are imported at the first report, not with the pipeline: a live probe
    begun first (:func:`start_probe`) runs while they load."""
    refuse_contradictions, assess, evaluate, Report = _stages()  # noqa: N806 (the class)
    refuse_contradictions(snapshot)
    assessment = assess(snapshot)
    return Report(snapshot=snapshot, assessment=assessment, verdicts=evaluate(assessment))


if TYPE_CHECKING:
    _Stages = tuple[Callable[[Snapshot], None], Callable[[Snapshot], Assessment],
                    Callable[[Assessment], Verdicts], type[Report]]

#: The stages once imported: a fleet builds a report per dump, each would import them anew.
_IMPORTED: list[_Stages] = []


def _stages() -> _Stages:
    if not _IMPORTED:
        from nestprobe.assess import assess
        from nestprobe.assess.contradictions import refuse_contradictions
        from nestprobe.model.report import Report
        from nestprobe.verdicts.evaluate import evaluate

        _IMPORTED.append((refuse_contradictions, assess, evaluate, Report))
    return _IMPORTED[0]


def probe(
    *, timing: bool = True, thorough: bool = False, cpu: int | None = None, prove: bool = False
) -> Report:
    """Probe this machine (CPUID, OS signals, optionally exit latency) and assess it.

    ``cpu`` runs every CPUID of the probe on that logical CPU, or raises CpuSelectionError.
    ``prove`` also runs a tiny VM here (one vCPU, 24 KiB, about a millisecond on hardware).
    Everything runs in the calling thread (:func:`start_probe` is the CLI's, with a thread).
    """
    from nestprobe.sources.live import live_snapshot

    return build_report(live_snapshot(timing=timing, thorough=thorough, cpu=cpu, prove=prove))


def start_probe(
    *, timing: bool = True, thorough: bool = False, cpu: int | None = None, prove: bool = False
) -> Callable[[], Report]:
    """:func:`probe`, begun: its pinned part (CPUIDs, latency) runs in a thread of its own
    (sources/live.py) while the caller goes on; calling the result finishes the probe and
    assesses it. A ``check`` begins the probe before it imports the assessment, the
    verdicts and its output: ~3.5 ms of native work hidden behind ~5 ms of imports."""
    from nestprobe.sources.live import start_live_snapshot

    snapshot = start_live_snapshot(timing=timing, thorough=thorough, cpu=cpu, prove=prove)

    def finish() -> Report:
        _stages()  # imported while the pinned part runs
        return build_report(snapshot())

    return finish


def load(path: str | os.PathLike[str], *, cpu: int = 0) -> Report:
    """Assess a dump file (nestprobe's own format or any supported importer format)."""
    from nestprobe.sources.load import load_snapshot

    return build_report(load_snapshot(path, cpu=cpu))


# ---- the applications' door to the stages -------------------------------------------------
# design.md: apps (cli, bench, fleet) reach the stages through the pipeline, never past it
# (tests/contract/test_layers.py). Each entry imports its stage on first use, so importing the
# pipeline stays as cheap as it was.


def live_snapshot(*, timing: bool = True, thorough: bool = False,
                  cpu: int | None = None, prove: bool = False) -> Snapshot:
    """This machine's snapshot, unassessed (sources/live.py)."""
    from nestprobe.sources.live import live_snapshot as live

    return live(timing=timing, thorough=thorough, cpu=cpu, prove=prove)


def load_snapshot(path: str | os.PathLike[str], *, cpu: int = 0) -> Snapshot:
    """A dump file's snapshot, unassessed (sources/load.py: any supported format)."""
    from nestprobe.sources.load import load_snapshot as loaded

    return loaded(path, cpu=cpu)


def parse_snapshot(text: str, path: str = "<string>", *, cpu: int = 0, encoding: str = "",
                   encoding_how: str = "") -> Snapshot:
    """The snapshot of a dump's text already read (sources/load.py; ``encoding``: how its
    bytes were read, as :func:`read_dump_text` says)."""
    from nestprobe.sources.load import parse_snapshot as parsed

    return parsed(text, path, cpu=cpu, encoding=encoding, encoding_how=encoding_how)


def format_dump(snapshot: Snapshot) -> str:
    """``snapshot`` in nestprobe's own dump format (sources/dumpfile.py)."""
    from nestprobe.sources.dumpfile import format_dump as formatted

    return formatted(snapshot)


def read_input(path: str, *, limit: int | None = None, what: str = "a dump") -> bytes:
    """An input file's bytes through the one bounded, never-blocking reader
    (sources/inputfile.py); ``limit`` defaults to its MAX_INPUT_BYTES."""
    from nestprobe.sources.inputfile import MAX_INPUT_BYTES
    from nestprobe.sources.inputfile import read_input as read

    return read(path, limit=MAX_INPUT_BYTES if limit is None else limit, what=what)


def read_dump_text(path: str) -> Decoded:
    """An input file as the dump loaders read it: bounded, decoded from whatever encoding
    Windows or a web page wrote it (``.text``, ``.encoding``, ``.how``), with their errors."""
    from nestprobe.sources.importers.common import decode_bytes, read_bytes

    return decode_bytes(read_bytes(path), path)


def warm_up() -> None:
    """Import every stage a report needs (fleet does it once before forking workers),
    the readers a snapshot imports only when it holds their facts included: the Windows
    modules and every vendor's decoder (tests/pipeline/test_lazy_imports.py proves the
    list whole: after it, no input imports anything more)."""
    import nestprobe.sources.importers.common
    import nestprobe.sources.load
    import nestprobe.verdicts.proof
    import nestprobe.verdicts.readiness
    import nestprobe.verdicts.windows
    import nestprobe.verdicts.winsituation  # noqa: F401
    from nestprobe.assess import import_every_reader

    _stages()
    import_every_reader()


@contextmanager
def pinned(cpu: int | None = None) -> Iterator[int | None]:
    """Run the body pinned to one CPU, as the probe runs (sources/affinity.py): yields the
    CPU, or None when the thread could not be pinned; the affinity always comes back."""
    from nestprobe.sources.affinity import pinned as pin

    with pin(cpu) as where:
        yield where


def latency_bands() -> tuple[tuple[Band, ...], float]:
    """``(bands, reference TSC Hz)``: what an exit cost suggests (assess/bands.py)."""
    from nestprobe.assess.bands import BANDS, REFERENCE_TSC_HZ

    return tuple(BANDS), REFERENCE_TSC_HZ
