"""ConsoleStream: the CLI's Console as a text stream for bench and fleet. A failing write or
an explicit flush is an OutputError (exit 8); closing the wrapper, which the garbage
collector may do at any time after its owner closed the stream, never raises."""

from __future__ import annotations

import gc
import io
import sys

import pytest

from nestprobe.output.console import Console, ConsoleStream, OutputError


def test_an_explicit_flush_into_a_closed_stream_is_an_output_error() -> None:
    target = io.TextIOWrapper(io.BytesIO())  # a file's kind: flush fails once closed
    stream = ConsoleStream(Console(target))
    stream.write("text")
    target.close()
    with pytest.raises(OutputError, match="closed"):
        stream.flush()


def test_closing_or_collecting_the_wrapper_after_its_stream_closed_raises_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    target = io.TextIOWrapper(io.BytesIO())  # a file's kind: flush fails once closed
    stream = ConsoleStream(Console(target))
    stream.write("text")
    target.close()
    stream.close()
    assert stream.closed
    other = ConsoleStream(Console(target))
    del other  # io's finaliser closes it, as the collector would
    gc.collect()
    assert unraisable == []
