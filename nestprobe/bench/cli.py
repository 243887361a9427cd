"""The ``nestprobe bench`` sub-commands. Handlers return exit codes.

    nestprobe bench [--output F] [--thorough] [--label NAME]
    nestprobe bench compare A.json B.json [...] [--plot out.png|out.svg]
    nestprobe bench import RAW.json --dump MACHINE.dump [--output F] [--label NAME]

Exit codes follow the CLI contract (README "The contract"): 0 done, 3 a capability is
missing here (the TSC or CPUID for ``bench``; matplotlib for ``--plot``), 6 an input is
not a bench result (or raw run, or dump of the same machine), 8 the output could not be
written (raised as OutputError to the CLI, which owns that code), 2 an output path that
cannot be written as asked (a directory, a missing directory, a --plot suffix no format has).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from nestprobe.model.contract import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE


def register(subparsers: Any) -> None:
    """Add ``bench`` (with ``compare`` and ``import``) to the CLI's sub-parsers."""
    bench = subparsers.add_parser(
        "bench",
        help="what this nesting level costs: exits, address translation, page faults",
        description="Run the bench suite (CPUID exits per leaf class, TLB-missing loads on "
        "4 KiB and huge pages, first-touch page faults, and two controls) and write a "
        "bench result: JSON that carries this machine's assessed hypervisor and nesting "
        "level. About 0.5 s; --thorough about 3 s.",
    )
    bench.add_argument("--output", "-o", metavar="FILE",
                       help="write the result here (default: standard output) and print a "
                       "summary table")
    bench.add_argument("--thorough", action="store_true",
                       help="3x the batches and 256 MiB chase buffers")
    bench.add_argument("--label", metavar="NAME", help="the run's name in compare and plots")
    bench.set_defaults(handler=run_bench_command)
    sub = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")

    compare = sub.add_parser(
        "compare", help="per metric, each run's figure and its ratio to the first run",
        description="Compare bench results: runs keep the given order and the first is the "
        "reference. Each run is labelled with its assessed hypervisor and nesting level.")
    compare.add_argument("results", nargs="+", metavar="RESULT.json")
    compare.add_argument("--plot", metavar="OUT.png|OUT.svg",
                         help="also draw the distributions and ratios (needs matplotlib: "
                         "pip install 'nestprobe[plot]')")
    compare.set_defaults(handler=run_compare_command)

    imp = sub.add_parser(
        "import", help="turn the static nestprobe-bench output into a bench result",
        description="Read what csrc/nestprobe-bench printed on a machine without Python, "
        "with a nestprobe dump of the same machine for the assessment.")
    imp.add_argument("raw", metavar="RAW.json")
    imp.add_argument("--dump", required=True, metavar="DUMP",
                     help="nestprobe dump (or nestprobe-dump output) of the same machine")
    imp.add_argument("--output", "-o", metavar="FILE")
    imp.add_argument("--label", metavar="NAME")
    imp.set_defaults(handler=run_import_command)


class _Progress:
    """``batch 3/5`` on stderr, rewritten in place, only on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.live:
            end = "\n" if done == total else ""
            self.stream.write(f"\rnestprobe bench: batch {done}/{total}{end}")
            self.stream.flush()


def _target(path: str | None, option: str) -> Any:
    """Where ``path`` is written (output/destination.py), None for stdout, or the usage
    exit code after saying why it cannot be (a directory, a missing directory ...)."""
    if path is None:
        return None
    from nestprobe.model.safetext import escape
    from nestprobe.output.destination import OutputUsageError, output_target

    try:
        return output_target(path)
    except OutputUsageError as exc:
        print(f"nestprobe: error: cannot write {option} {escape(path)}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _emit(result: dict[str, Any], output: str | None, target: Any, out: TextIO) -> None:
    """The JSON to ``output`` (atomically; then a summary table to ``out``), or to ``out``."""
    text = json.dumps(result, indent=1, allow_nan=False) + "\n"
    if target is None:
        out.write(text)
        return
    from nestprobe.output.destination import sigterm_cleans_up, written

    with sigterm_cleans_up(), written(target) as handle:
        handle.write(text)
    from nestprobe.bench.compare import run_from, summary_table

    out.write(summary_table(run_from(str(output), result)))


def run_bench_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from nestprobe.bench.plan import DEFAULT, THOROUGH
    from nestprobe.bench.result import run_live

    target = _target(args.output, "--output")
    if target == EXIT_USAGE:
        return EXIT_USAGE
    result = run_live(THOROUGH if args.thorough else DEFAULT, label=args.label,
                      progress=_Progress(sys.stderr))
    if result is None:
        print("nestprobe bench: nothing measured: the TSC or CPUID cannot be used here",
              file=sys.stderr)
        return EXIT_UNAVAILABLE
    _emit(result, args.output, target, out or sys.stdout)
    return EXIT_OK


def run_import_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from nestprobe.bench.result import BenchFormatError, import_raw
    from nestprobe.model.errors import DumpFormatError

    target = _target(args.output, "--output")
    if target == EXIT_USAGE:
        return EXIT_USAGE
    try:
        result = import_raw(args.raw, args.dump, label=args.label)
    except (BenchFormatError, DumpFormatError) as exc:
        print(f"nestprobe: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _emit(result, args.output, target, out or sys.stdout)
    return EXIT_OK


def run_compare_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from nestprobe.bench.compare import compare_table, run_from, summary_table
    from nestprobe.bench.result import BenchFormatError, load_result
    from nestprobe.model.safetext import escape

    plot_target = _target(args.plot, "--plot")
    if plot_target == EXIT_USAGE:
        return EXIT_USAGE
    if args.plot and _plot_format(args.plot) is None:
        return EXIT_USAGE
    try:
        runs = [run_from(path, load_result(path)) for path in args.results]
    except BenchFormatError as exc:
        print(f"nestprobe: error: {escape(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    table = compare_table(runs) if len(runs) > 1 else summary_table(runs[0])
    # Cells come from the input files: escape every line.
    (out or sys.stdout).write("".join(escape(line) + "\n" for line in table.splitlines()))
    if args.plot:
        try:
            import matplotlib  # noqa: F401  (only to learn whether it is installed)
        except ImportError:
            print("nestprobe: --plot needs matplotlib: pip install 'nestprobe[plot]'",
                  file=sys.stderr)
            return EXIT_UNAVAILABLE
        from nestprobe.bench.plot import plot
        from nestprobe.output.destination import sigterm_cleans_up, written

        with sigterm_cleans_up(), written(plot_target, binary=True) as handle:
            plot(runs, handle, _plot_format(args.plot))
    return EXIT_OK


#: What ``--plot`` can write, by the file's suffix (matplotlib's own vector and raster
#: formats; checked before any input is read, and without importing matplotlib).
PLOT_FORMATS = ("png", "svg", "svgz", "pdf", "ps", "eps", "jpg", "jpeg", "tif", "tiff",
                "webp")


def _plot_format(path: str) -> str | None:
    from nestprobe.model.safetext import escape

    suffix = path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
    if suffix in PLOT_FORMATS:
        return suffix
    print(f"nestprobe: error: cannot write --plot {escape(path)}: the name must end in one "
          f"of .{', .'.join(PLOT_FORMATS)}", file=sys.stderr)
    return None
