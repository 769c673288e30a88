"""A strict reader of the Prometheus text format, so tests check what a scraper parses."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAMPLE = re.compile(
    r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    # Label values are quoted and may hold braces (a route template such as
    # /standards/{standard_id}/{version}); the label block is a run of quoted pairs.
    r'(?:\{(?P<labels>(?:[^{}"]|"(?:[^"\\]|\\.)*")*)\})?'
    r" (?P<value>[-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|Inf|NaN))"
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_COMMENT = re.compile(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)")


@dataclass
class Exposition:
    """Samples keyed by (name, sorted label pairs), and each family's declared type."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]
    types: dict[str, str]

    def value(self, metric: str, **labels: str) -> float:
        """One sample's value; 0 when the series does not exist (yet)."""
        return self.samples.get((metric, tuple(sorted(labels.items()))), 0.0)

    def series(self, metric: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Every sample of one metric name, by its labels."""
        return {labels: v for (n, labels), v in self.samples.items() if n == metric}


def parse(text: str) -> Exposition:
    """Parses the exposition, failing on any line a Prometheus scraper would reject."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            comment = _COMMENT.fullmatch(line)
            assert comment, f"bad comment line: {line!r}"
            if comment.group(1) == "TYPE":
                types[comment.group(2)] = comment.group(3)
            continue
        match = _SAMPLE.fullmatch(line)
        assert match, f"bad sample line: {line!r}"
        raw_labels = match.group("labels") or ""
        pairs = _LABEL.findall(raw_labels)
        rebuilt = ",".join(f'{k}="{v}"' for k, v in pairs)
        assert rebuilt == raw_labels, f"bad labels in {line!r}"
        key = (match.group("name"), tuple(sorted(pairs)))
        assert key not in samples, f"duplicate sample {line!r}"
        samples[key] = float(match.group("value").replace("Inf", "inf"))
    return Exposition(samples, types)
