"""Progress bars: a live tqdm bar on a terminal; in a log file or a pipe, a whole line now and then.

On a terminal tqdm redraws its bar in place with `\\r` many times a second; written to a file, those redraws
become thousands of `\\r`-joined updates on one line. So when the stream is not a terminal, the bar writes a
plain line at most every LOG_MIN_SECONDS and only after another LOG_FRACTION of the work, plus a first and
a last line.
"""

from __future__ import annotations

import math
import sys

from tqdm.auto import tqdm as terminal_tqdm
from tqdm.std import tqdm as std_tqdm

LOG_MIN_SECONDS = 60.0
LOG_FRACTION = 0.1


def progress_bar(iterable=None, total: int | None = None, desc: str | None = None, enabled: bool = True,
                 stream=None, **kwargs):
    """A tqdm bar over `iterable` on `stream` (default stderr), disabled when not `enabled`."""
    stream = sys.stderr if stream is None else stream
    if not enabled:
        return std_tqdm(iterable, total=total, desc=desc, disable=True, **kwargs)
    if is_terminal(stream):
        return terminal_tqdm(iterable, total=total, desc=desc, file=stream, **kwargs)
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    kwargs.update(leave=True)  # a log keeps the last line (how long it took) instead of erasing it
    return LogLinesBar(iterable, total=total, desc=desc, file=_LineStream(stream), mininterval=LOG_MIN_SECONDS,
                       miniters=max(1, math.ceil(total * LOG_FRACTION)) if total else 1,
                       maxinterval=math.inf,  # else tqdm's monitor thread drops miniters back to 1
                       **kwargs)


class LogLinesBar(std_tqdm):
    """A tqdm bar whose postfix and description changes wait for the next (throttled) line."""

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        super().set_postfix(ordered_dict, refresh=False, **kwargs)

    def set_description(self, desc=None, refresh=True):
        super().set_description(desc, refresh=False)


class _LineStream:
    """Turns tqdm's in-place redraws (`\\r` + bar) into whole lines and drops its clears."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def show_library_bars(enabled: bool) -> None:
    """Hide the bars of transformers and huggingface_hub ("Loading weights", "Writing model shards") under
    --no-progress and whenever stderr is not a terminal (in a log they are only `\\r` noise)."""
    if enabled and is_terminal(sys.stderr):
        return
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    disable_progress_bars()
