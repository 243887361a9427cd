"""Writing an output file (``fleet --output``, ``bench -o``, ``bench import -o``,
``bench compare --plot``) to what the path is.

- A regular file or a new path: a temporary file beside it, renamed over the path only
  once complete (atomic: a textfile collector never reads half a file, a full disk
  leaves the old file, not a truncated one); an existing file keeps its owner and mode,
  a new one gets what a shell redirection would give it.
- A symbolic link is written through, to its target, whose nature is kept.
- A character device (``/dev/null``, a terminal) or a FIFO is opened and written, as a
  shell redirection would: never replaced by a regular file (as root, replacing
  ``/dev/null`` would break the system).
- A directory, a block device, a socket, or a path whose directory is missing: a usage
  error (:class:`OutputUsageError`, exit 2), found before any work is done.

Failures while writing (a full disk) are :class:`~nestprobe.output.console.OutputError`
(exit 8). SIGTERM while writing removes the temporary file, then ends the process as
SIGTERM would have (:func:`sigterm_cleans_up`).
"""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from nestprobe.model.safetext import escape
from nestprobe.output.console import OutputError

#: (kind, real path): "new" or "file" (written through a temporary file), "stream".
Target = tuple[str, str]


class OutputUsageError(ValueError):
    """An output path nobody can write as asked: a usage error (exit 2)."""


def _words(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def output_target(path: str) -> Target:
    """What ``path`` is and where to write it; :class:`OutputUsageError` says why not."""
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except FileNotFoundError:
        parent = os.path.dirname(real)
        if not os.path.isdir(parent):
            raise OutputUsageError("its directory does not exist") from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputUsageError("its directory is not writable") from None
        return ("new", real)
    except OSError as exc:
        raise OutputUsageError(_words(exc)) from None
    except ValueError:  # a NUL in the path
        raise OutputUsageError("a NUL in the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputUsageError("it is a directory")
    if stat.S_ISBLK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        raise OutputUsageError("it is a block device or a socket, not written")
    if not stat.S_ISREG(info.st_mode):
        return ("stream", real)
    if not os.access(real, os.W_OK):
        raise OutputUsageError("the file is not writable")
    if not os.access(os.path.dirname(real), os.W_OK | os.X_OK):
        return ("stream", real)  # a writable file in a locked directory: written in place
    return ("file", real)


def _keep_owner_and_mode(tmp: str, real: str) -> bool:
    """Give ``tmp`` the owner and mode of the file it replaces; False if it cannot."""
    try:
        info = os.stat(real)
        mine = os.stat(tmp)
        if (info.st_uid, info.st_gid) != (mine.st_uid, mine.st_gid):
            os.chown(tmp, info.st_uid, info.st_gid)
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
    except (OSError, AttributeError):  # not ours to give away; no chown on Windows
        return False
    return True


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask  # what a shell redirection creates


@contextmanager
def written(target: Target, binary: bool = False) -> Iterator[IO[Any]]:
    """A stream for ``target``; the path holds the complete output only once the block
    ends without an exception. OSError from opening or finishing is OutputError."""
    kind, real = target
    mode = "wb" if binary else "w"
    text: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
    if kind == "stream":
        try:
            stream = open(real, mode, **text)  # noqa: SIM115 (closed below, errors mapped)
        except OSError as exc:
            raise OutputError(f"{escape(real)}: {_words(exc)}") from None
        try:
            yield stream
        finally:
            try:
                stream.close()
            except OSError as exc:
                raise OutputError(f"{escape(real)}: {_words(exc)}") from None
        return
    import tempfile  # here: the rest of the CLI starts faster without it

    try:
        fd, tmp = tempfile.mkstemp(prefix=".nestprobe-out.", dir=os.path.dirname(real))
    except OSError as exc:
        raise OutputError(f"{escape(real)}: {_words(exc)}") from None
    try:
        with os.fdopen(fd, mode, **text) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if kind == "new":
            os.chmod(tmp, _new_file_mode())
        elif not _keep_owner_and_mode(tmp, real):
            raise OutputError(f"{escape(real)}: cannot keep its owner and mode")
        os.replace(tmp, real)
    except OSError as exc:
        os.unlink(tmp)
        raise OutputError(f"{escape(real)}: {_words(exc)}") from None
    except BaseException:
        os.unlink(tmp)
        raise


class Terminated(BaseException):
    """SIGTERM while an output is being written: unwind, so the temporary file goes."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def sigterm_cleans_up() -> Iterator[None]:
    """Within the block, SIGTERM unwinds (``finally`` and ``written`` clean up), then the
    process ends as SIGTERM ends it. Only the main thread can take signals: elsewhere
    (a library caller's thread) the block runs unchanged."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:
        yield
        return
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
