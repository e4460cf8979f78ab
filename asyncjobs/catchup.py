"""Catch-up after downtime: what happened to the ticks nobody was there for.

At start, for each scheduled job with a recorded last tick, the ticks between
that tick and now were missed by every replica. The latest of them runs once
(``trigger="catch_up"``) when the job has ``catch_up=True`` and the tick is
within ``misfire_grace_time``; the others are recorded ``missed``, at most
:data:`MAX_MISSED_ROWS` rows per job plus one summary row. A job with no
history does not catch up. A one-off ``at=`` job whose time passed runs once
if within the grace, else is recorded ``missed``. Every outcome is claimed
first, so replicas starting together record each tick once.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any

from asyncjobs.definition import JobDefinition
from asyncjobs.runner import Runner
from asyncjobs.triggers import At, build_trigger, fire_times

__all__ = ("MAX_MISSED_ROWS", "SCAN_LIMIT", "catch_up")

log = logging.getLogger("asyncjobs.catchup")

#: Missed ticks recorded one by one per job; older ones are summed up in one row.
MAX_MISSED_ROWS = 100
#: Fire times examined per job (a one-second job down for a week stops here).
SCAN_LIMIT = 20_000

Spawn = Callable[[Coroutine[Any, Any, Any]], object]


async def catch_up(
    runner: Runner,
    definitions: Iterable[JobDefinition],
    now: datetime,
    grace: float,
    spawn: Spawn,
) -> None:
    """Run or record the ticks missed while no replica was running."""
    for definition in definitions:
        schedule = definition.schedule
        if schedule is None or not definition.enabled:
            continue
        if isinstance(schedule, At):
            if schedule.when <= now:
                await _settle(runner, definition, [schedule.when], 0, now, grace, spawn)
            continue
        last = await runner.store.last_tick(definition.name)
        if last is None:
            continue
        recent: deque[datetime] = deque(maxlen=MAX_MISSED_ROWS + 1)
        total = 0
        for tick in fire_times(build_trigger(schedule, job=definition.name), last, now):
            recent.append(tick)
            total += 1
            if total >= SCAN_LIMIT:
                break
        if recent:
            await _settle(runner, definition, list(recent), total - len(recent), now, grace, spawn)


async def _settle(
    runner: Runner,
    definition: JobDefinition,
    ticks: list[datetime],
    unlisted: int,
    now: datetime,
    grace: float,
    spawn: Spawn,
) -> None:
    latest = ticks[-1]
    late = (now - latest).total_seconds()
    missed = ticks[:-1]
    if definition.catch_up and late <= grace:
        log.info("%s: catching up tick %s (%.0fs late)", definition.name, latest.isoformat(), late)
        spawn(runner.run_tick(definition, latest, "catch_up"))
    else:
        missed.append(latest)
    if len(missed) > MAX_MISSED_ROWS:
        unlisted += len(missed) - MAX_MISSED_ROWS
        missed = missed[-MAX_MISSED_ROWS:]
    total = len(missed) + unlisted
    for index, tick in enumerate(missed):
        reason = "no process was running at this time"
        if index == 0 and unlisted:
            reason += f"; {unlisted} older missed tick(s) before it are not listed one by one"
        newest = index == len(missed) - 1
        if newest and total > 1:
            reason += f" ({total} ticks missed in this downtime)"
        # One notification for the whole downtime, on its newest missed tick.
        await runner.record_missed(definition, tick, reason, notify=newest)
