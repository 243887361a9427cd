"""Every kind of path a user can hand to ``--from``, ``load()`` or ``bench compare``.

:func:`made_input` builds one for real (FIFOs with and without a writer, pipes, devices,
sockets, symlinks, sparse giants) and cleans up after it.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from hostile import pipe_with_writer

INPUT_KINDS = (
    "file", "empty", "huge-sparse", "directory", "missing", "dangling-symlink",
    "symlink-to-file", "nul-in-path", "fifo-no-writer", "fifo-with-writer",
    "fifo-writer-gone", "pipe-with-writer", "endless-pipe", "dev-null", "dev-zero",
    "dev-urandom", "dev-tty", "symlink-to-dev-zero", "socket",
)


def _fifo_writer(path: Path, data: bytes, linger_s: float = 0.1) -> threading.Thread:
    """A connected writer that has written ``data`` (at most a pipe buffer) and closes
    ``linger_s`` later: the reader sees the data, then waits for end-of-file.

    Deterministic, unlike a thread waiting in open(): a helper reader lets the writer
    open without blocking, the data waits in the pipe buffer, the helper leaves.
    """
    helper = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    os.write(writer, data[:65536])
    os.close(helper)

    def close_later() -> None:
        threading.Event().wait(linger_s)
        os.close(writer)

    thread = threading.Thread(target=close_later, daemon=True)
    thread.start()
    return thread


@contextmanager
def made_input(kind: str, base: Path, data: bytes) -> Iterator[str | None]:  # noqa: PLR0912, PLR0915 (a case table, read top to bottom)
    """The path of one ``kind`` of input holding ``data`` where it can; None where this
    platform cannot make that kind."""
    base.mkdir(parents=True, exist_ok=True)
    target = base / "input"
    with ExitStack() as stack:
        if kind == "file":
            target.write_bytes(data)
        elif kind == "empty":
            target.write_bytes(b"")
        elif kind == "huge-sparse":
            with target.open("wb") as stream:
                stream.truncate(600 << 20)
        elif kind == "directory":
            target.mkdir()
        elif kind == "missing":
            pass
        elif kind == "dangling-symlink":
            target.symlink_to(base / "nowhere")
        elif kind == "symlink-to-file":
            (base / "real").write_bytes(data)
            target.symlink_to(base / "real")
        elif kind == "nul-in-path":
            yield str(target) + "\x00x"
            return
        elif kind.startswith("fifo"):
            if not hasattr(os, "mkfifo"):
                yield None
                return
            os.mkfifo(target)
            if kind == "fifo-with-writer":
                stack.callback(_fifo_writer(target, data).join, 10)
            elif kind == "fifo-writer-gone":
                # A writer that came and went: opened, wrote nothing, closed.
                fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
                os.close(os.open(target, os.O_WRONLY | os.O_NONBLOCK))
                os.close(fd)
        elif kind in ("pipe-with-writer", "endless-pipe"):
            if not Path("/dev/fd").is_dir():
                yield None
                return
            path = stack.enter_context(
                pipe_with_writer(data or b"x", forever=kind == "endless-pipe"))
            yield path
            return
        elif kind.startswith("dev-"):
            device = Path("/dev") / kind.removeprefix("dev-")
            yield str(device) if device.exists() else None
            return
        elif kind == "symlink-to-dev-zero":
            target.symlink_to("/dev/zero")
        elif kind == "socket":
            if not hasattr(socket, "AF_UNIX") or len(str(target)) > 100:
                yield None
                return
            server = socket.socket(socket.AF_UNIX)
            server.bind(str(target))
            stack.callback(server.close)
        else:
            raise ValueError(kind)
        yield str(target)
