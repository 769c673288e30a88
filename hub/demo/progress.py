"""A single updating progress line for long CLI commands (demo loading, chain verification).

The line is drawn on stderr only when stdout is a terminal: piped or captured output (CI,
tests, `> file`) then holds nothing but the command's result.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

# Redrawing more often than this only costs time; people cannot read faster.
_MIN_INTERVAL = 0.1


class Progress:
    """Reports `done / total` and the rate; draws nothing unless it is enabled."""

    def __init__(self, *, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._width = 0

    def __call__(self, done: int, total: int) -> None:
        """Records progress; redraws the line at most ten times a second and at the end."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self._last_draw < _MIN_INTERVAL:
            return
        self._last_draw = now
        elapsed = max(now - self.started, 1e-9)
        share = f" ({done / total:.0%})" if total else ""
        line = f"{self.label}: {done:,} / {total:,}{share}, {done / elapsed:,.0f}/s"
        # Pad with spaces so a shorter line fully covers the previous one.
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Ends the line so that whatever is printed next starts on a fresh one."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def terminal_progress(*, label: str) -> Progress:
    """A progress line on stderr that is drawn only when stdout is a terminal."""
    return Progress(label=label, enabled=sys.stdout.isatty())
