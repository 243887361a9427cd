"""Write tests/fixtures/corpus/: the repository's own nestprobe-format snapshot of each
corpus dump's registers, so a clone without ../shared tests the same decisions.

    python tools/derive_corpus_fixtures.py [../shared/corpus/dumps]

Each snapshot holds only what nestprobe read from the dump (CPUID registers, CPU 0, and the
header lines of docs/dump-format.md): register values are facts, and each file names the
public source its registers come from (the corpus file's SOURCE line). No third-party text
is carried over: a dump whose only content is such text (a /proc/cpuinfo listing) is
skipped, and the repository's own hand-written pastes stand in for it
(tests/fixtures/pastes/). Reports of a snapshot and its corpus file are compared by
tests/sources/test_corpus_fixtures.py wherever ../shared is beside the clone.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nestprobe.sources.dumpfile import format_dump  # noqa: E402
from nestprobe.sources.load import load_snapshot  # noqa: E402

OUT = REPO / "tests" / "fixtures" / "corpus"
#: The longest provenance line kept (a SOURCE line names repository, path and commit).
MAX_SOURCE = 400


def fixture_name(corpus_name: str) -> str:
    """``firecracker-t2.txt`` -> ``firecracker-t2.dump`` (conftest.dump_path's rule)."""
    return corpus_name.removesuffix(".txt") + ".dump"


def provenance(path: Path) -> str:
    """The corpus file's first SOURCE line (its public origin), without the comment mark."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:40]:
        text = line.lstrip("# ").strip()
        if "SOURCE:" in text:
            return text[text.index("SOURCE:") + len("SOURCE:"):].strip()[:MAX_SOURCE]
    raise SystemExit(f"{path}: no SOURCE line in its header")


def derive(path: Path) -> str | None:
    snapshot = load_snapshot(path)
    if not snapshot.cpuid:
        return None  # no registers: nothing that is a fact to carry over
    return (
        f"# Registers of CPU 0 of ../shared/corpus/dumps/{path.name} "
        f"({snapshot.origin.format} format), as nestprobe read them.\n"
        f"# Public source: {provenance(path)}\n"
        "# Written by tools/derive_corpus_fixtures.py; the corpus file's header says why its\n"
        "# truth is what it is.\n"
        + format_dump(snapshot)
    )


def main(argv: list[str]) -> int:
    corpus = Path(argv[1]) if len(argv) > 1 else REPO.parent / "shared" / "corpus" / "dumps"
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted(corpus.iterdir()):
        text = derive(path)
        if text is None:
            print(f"skipped {path.name}: no CPUID registers")
            continue
        (OUT / fixture_name(path.name)).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
