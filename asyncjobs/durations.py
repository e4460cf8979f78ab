"""One converter for every duration asyncjobs accepts.

Seconds as ``int`` or ``float``, a :class:`~datetime.timedelta`, or a short
string: ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"1.5h"``, ``"250ms"`` or a
bare number of seconds (``"30"``), so that environment variables read well.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

__all__ = ("Duration", "parse_duration")

Duration = int | float | timedelta | str

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)


def parse_duration(value: object, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a number of seconds, or raise ``ValueError``.

    The message says what was wrong without naming a field: callers add the
    job and field (see :class:`~asyncjobs.ConfigError`).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if match is None:
            raise ValueError(
                f"expected a duration such as 30, 1.5, '90s', '5m', '2h' or '1d', got {value!r}"
            )
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    else:
        raise ValueError(f"expected a duration, got {type(value).__name__}")
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"expected a finite duration, got {value!r}")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f"must be positive, got {value!r}")
    return seconds
