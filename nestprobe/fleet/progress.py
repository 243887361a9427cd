"""Progress on a terminal, from tqdm when it is installed (``pip install 'nestprobe[fleet]'``).

Only a terminal on stderr gets a bar, and only once the run has taken a second
(tqdm's ``delay``); piped or redirected output never sees one, and without tqdm there
is none. tqdm is imported here only, when ``nestprobe fleet`` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TextIO

#: Runs shorter than this show nothing.
DELAY_S = 1.0


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...
    def close(self) -> None: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress(total: Callable[[], int], stream: TextIO) -> Progress:
    """A tqdm bar on ``stream`` when it is a terminal and tqdm is importable; else silence.
    ``total`` counts the inputs, called only when there is a bar to show (the run itself
    takes its inputs as they are met, never all of them at once)."""
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent()
    bar: Progress = tqdm(total=total(), file=stream, delay=DELAY_S, unit="machine",
                         desc="nestprobe fleet", leave=False, dynamic_ncols=True)
    return bar
