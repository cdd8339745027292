"""Duration statistics as every report shows them: count, median, p90, mean, in seconds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LIST_VALUES_BELOW = 5


@dataclass(frozen=True)
class Stats:
    """``count``, ``median_s``, ``p90_s`` (nearest rank) and ``mean_s`` of some durations.

    With fewer than five values the values themselves are listed too, because a
    median of three numbers hides more than it tells.
    """

    count: int
    median_s: float | None
    p90_s: float | None
    mean_s: float | None
    values_s: tuple[float, ...] | None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "count": self.count,
            "median_s": self.median_s,
            "p90_s": self.p90_s,
            "mean_s": self.mean_s,
        }
        if self.values_s is not None:
            data["values_s"] = list(self.values_s)
        return data


def nearest_rank(ordered: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile of sorted values: the ceil(p/100 × n)-th smallest."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def describe(values: Sequence[float]) -> Stats:
    """The statistics of ``values`` (seconds); all ``None`` but the count when empty."""
    ordered = sorted(values)
    listed = tuple(_tidy(v) for v in ordered) if len(ordered) < LIST_VALUES_BELOW else None
    if not ordered:
        return Stats(0, None, None, None, listed)
    return Stats(
        count=len(ordered),
        median_s=_tidy(statistics.median(ordered)),
        p90_s=_tidy(nearest_rank(ordered, 90)),
        mean_s=_tidy(statistics.fmean(ordered)),
        values_s=listed,
    )


def _tidy(value: float) -> float:
    return round(float(value), 3)


def human_duration(seconds: float | None) -> str:
    """``1h 05m``, ``3d 4h``, ``45s``; ``-`` for no value."""
    if seconds is None:
        return "-"
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"
