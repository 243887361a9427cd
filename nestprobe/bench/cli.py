"""The ``nestprobe bench`` sub-command: ``bench [--output F] [--thorough]`` and
``bench compare A.json B.json ... [--plot out.png]``. Handlers return exit codes.

Exit codes follow the CLI contract (README "The contract"): 0 done, 3 a capability is
missing here (CPUID unavailable for ``bench``; matplotlib for ``--plot``, as
``nestprobe-dump`` exits 3 without CPUID), 6 an input file is not a bench result.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from nestprobe.model.contract import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNAVAILABLE


def register(subparsers: Any) -> None:
    """Add ``bench`` (with its ``compare`` sub-command) to the CLI's sub-parsers."""
    bench = subparsers.add_parser(
        "bench",
        help="CPUID exit-latency distributions and the level they suggest, as JSON",
        description="Measure CPUID exit latency (per leaf, against an empty bracket) and "
        "write a JSON result; `bench compare` puts results side by side.",
    )
    bench.add_argument("--output", metavar="FILE", help="write the JSON here (default stdout)")
    bench.add_argument("--thorough", action="store_true",
                       help="more batches and samples (about 0.5 s here)")
    bench.set_defaults(handler=run_bench_command)
    sub = bench.add_subparsers(dest="bench_command", metavar="{compare}")
    compare = sub.add_parser("compare", help="bench results side by side")
    compare.add_argument("results", nargs="+", metavar="RESULT.json")
    compare.add_argument("--plot", metavar="PNG",
                         help="draw the distributions (needs `pip install nestprobe[plot]`)")
    compare.set_defaults(handler=run_compare_command)


class _Progress:
    """``batch i/n`` on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.live:
            end = "\n" if done == total else ""
            self.stream.write(f"\rnestprobe bench: batch {done}/{total}{end}")
            self.stream.flush()


def run_bench_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from nestprobe.bench.run import run_bench

    result = run_bench(thorough=args.thorough, progress=_Progress(sys.stderr))
    text = json.dumps(result, indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        (out or sys.stdout).write(text)
    if result["latency"] is None:
        status = result["machine"]["cpuid_status"]
        print(f"nestprobe bench: no latency measured (CPUID {status})", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return EXIT_OK


def _read_result(path: str) -> dict[str, Any]:
    """A bench result read through the one bounded, never-blocking input reader (the
    same cap and FIFO rules as ``--from``); BenchFormatError if it is not one."""
    from nestprobe.bench.run import SCHEMA_VERSION, BenchFormatError
    from nestprobe.model.safetext import escape
    from nestprobe.sources.inputfile import read_input

    data = read_input(path, what="a bench result")  # DumpFormatError: exit 6 as well
    try:
        result = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BenchFormatError(f"{escape(path)}: not a bench result (not UTF-8 JSON)") from None
    if not isinstance(result, dict) or result.get("schema_version") != SCHEMA_VERSION:
        raise BenchFormatError(
            f"{escape(path)}: not a nestprobe bench result (schema_version {SCHEMA_VERSION})"
        )
    for key in ("machine", "cpu", "hypervisor", "level"):
        if not isinstance(result.get(key), dict):
            raise BenchFormatError(f"{escape(path)}: a bench result without its {key!r} object")
    return result


def run_compare_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from nestprobe.bench.run import BenchFormatError, compare_table, plot
    from nestprobe.model.errors import DumpFormatError
    from nestprobe.model.safetext import escape

    try:
        results = [(path, _read_result(path)) for path in args.results]
    except (BenchFormatError, DumpFormatError) as exc:
        print(f"nestprobe: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    table = compare_table(results)  # cells come from the input files: escape each line
    (out or sys.stdout).write("".join(escape(line) + "\n" for line in table.splitlines()))
    if args.plot:
        try:
            plot(results, args.plot)
        except ImportError:
            print("nestprobe: --plot needs matplotlib: pip install 'nestprobe[plot]'",
                  file=sys.stderr)
            return EXIT_UNAVAILABLE
    return EXIT_OK
