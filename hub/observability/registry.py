"""A small Prometheus registry: counters, histograms and scrape-time gauges, text format.

Written here rather than taken from prometheus-client because the hub needs a handful of
series and an in-process text rendering, nothing more. Each process has its own registry:
with `hub serve --workers N` a scrape reaches one worker and sees only that worker's counts
(the README says how to scrape several workers).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

LabelValues = tuple[str, ...]

# Prometheus' own default buckets: they span 5 ms to 10 s, which covers a GraphQL read
# (milliseconds) as well as a 1,000-record declareBatch (seconds).
DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    inner = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + inner + "}"


def _header(name: str, help_text: str, kind: str) -> list[str]:
    return [f"# HELP {name} {_escape(help_text)}", f"# TYPE {name} {kind}"]


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: Mapping[str, str]) -> LabelValues:
        if set(labels) != set(self.labelnames):
            raise ValueError(
                f"{self.name} takes labels {sorted(self.labelnames)}, got {sorted(labels)}"
            )
        return tuple(str(labels[n]) for n in self.labelnames)

    def render(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A value that only goes up; `name` should end in `_total`."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        super().__init__(name, help_text, labelnames)
        self._values: dict[LabelValues, float] = {}
        if not self.labelnames:
            # An unlabelled counter is exported at 0 from the start, so a rate() over it
            # works before the first event instead of seeing the series appear later.
            self._values[()] = 0.0

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Adds `amount` (≥ 0) to the series named by `labels`."""
        if amount < 0:
            raise ValueError("a counter cannot decrease")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value of one series (0 when never incremented)."""
        return self._values.get(self._key(labels), 0.0)

    def render(self) -> list[str]:
        lines = _header(self.name, self.help, self.kind)
        with self._lock:
            items = sorted(self._values.items())
        lines += [f"{self.name}{_labels(self.labelnames, k)} {_format_value(v)}" for k, v in items]
        return lines


@dataclass
class _HistogramSeries:
    buckets: list[int]
    total: float = 0.0
    count: int = 0


class Histogram(_Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ):
        super().__init__(name, help_text, labelnames)
        self.bounds = tuple(sorted(buckets))
        self._series: dict[LabelValues, _HistogramSeries] = {}

    def observe(self, value: float, **labels: str) -> None:
        """Counts one observation (e.g. a duration in seconds)."""
        key = self._key(labels)
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _HistogramSeries([0] * len(self.bounds))
            for i, bound in enumerate(self.bounds):
                if value <= bound:
                    series.buckets[i] += 1
            series.total += value
            series.count += 1

    def render(self) -> list[str]:
        lines = _header(self.name, self.help, self.kind)
        with self._lock:
            items = sorted(
                (k, _HistogramSeries(list(s.buckets), s.total, s.count))
                for k, s in self._series.items()
            )
        names = (*self.labelnames, "le")
        for key, series in items:
            for bound, count in zip(self.bounds, series.buckets, strict=True):
                le = _labels(names, (*key, _format_value(bound)))
                lines.append(f"{self.name}_bucket{le} {count}")
            lines.append(f"{self.name}_bucket{_labels(names, (*key, '+Inf'))} {series.count}")
            plain = _labels(self.labelnames, key)
            lines.append(f"{self.name}_sum{plain} {_format_value(series.total)}")
            lines.append(f"{self.name}_count{plain} {series.count}")
        return lines


@dataclass(frozen=True)
class GaugeFamily:
    """Gauge samples computed at scrape time (pool state, memory), rendered once."""

    name: str
    help: str
    labelnames: tuple[str, ...] = ()
    samples: tuple[tuple[LabelValues, float], ...] = ()

    def render(self) -> list[str]:
        lines = _header(self.name, self.help, "gauge")
        lines += [
            f"{self.name}{_labels(self.labelnames, k)} {_format_value(v)}" for k, v in self.samples
        ]
        return lines


def render(metrics: Iterable[_Metric | GaugeFamily]) -> str:
    """The text exposition format (version 0.0.4) of the given metrics."""
    lines: list[str] = []
    for metric in metrics:
        lines += metric.render()
    return "\n".join(lines) + "\n"
