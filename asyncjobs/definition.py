"""Job definitions: the frozen settings of one job, and the ``Job`` class form.

A definition is made once, when the job is declared, and every value in it is
validated then: a bad value is a :class:`~asyncjobs.ConfigError` naming the
job and the field, never a surprise at fire time. Per-job overrides from the
environment (``ASYNCJOBS_JOBS__<job>__<field>``) are applied here.
"""

from __future__ import annotations

import inspect
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from asyncjobs.durations import parse_duration
from asyncjobs.exceptions import ConfigError
from asyncjobs.settings import JobOverride, NotifyPolicy, OverlapPolicy, Settings
from asyncjobs.triggers import Schedule, get_zone, parse_schedule

if TYPE_CHECKING:
    from asyncjobs.context import RunContext

__all__ = ("Job", "JobDefinition", "JobFunc", "build_definition")

JobFunc = Callable[["RunContext"], Awaitable[Any]] | Callable[["RunContext"], Any]

_OVERLAP = ("skip", "queue", "allow", "replace")
_NOTIFY = ("failure", "always", "success", "never")
_NAME_OK = re.compile(r"^[^\s]+$")


class Job:
    """Base class for jobs that have services to set up.

    Set the schedule and options as class attributes with the same names as
    the ``@app.job`` keywords, implement :meth:`execute`, and add the class
    with ``app.add(MyJob)``. One instance is made per app.
    """

    name: ClassVar[str | None] = None
    cron: ClassVar[str | None] = None
    every: ClassVar[float | int | timedelta | str | None] = None
    at: ClassVar[datetime | str | None] = None
    timezone: ClassVar[str | None] = None
    timeout: ClassVar[float | int | timedelta | str | None] = None
    retries: ClassVar[int] = 0
    retry_delay: ClassVar[float | int | timedelta | str] = 1.0
    overlap: ClassVar[OverlapPolicy] = "skip"
    max_instances: ClassVar[int] = 1
    limiter: ClassVar[str | None] = None
    notify: ClassVar[NotifyPolicy | None] = None
    notify_to: ClassVar[str | list[str] | None] = None
    heartbeat_url: ClassVar[str | None] = None
    catch_up: ClassVar[bool] = True
    enabled: ClassVar[bool] = True
    jitter: ClassVar[float | int | timedelta | str | None] = None
    description: ClassVar[str | None] = None

    async def setup(self) -> None:
        """Prepare services; called once, lazily, before the first run."""

    async def execute(self, ctx: RunContext) -> dict[str, Any] | None:
        """Do the work of one run; return a dict to keep with the result."""
        raise NotImplementedError

    async def teardown(self) -> None:
        """Release services; called at app shutdown if :meth:`setup` ran."""


# Keywords of @app.job and Job attributes, in one place.
OPTION_NAMES = (
    "cron",
    "every",
    "at",
    "timezone",
    "timeout",
    "retries",
    "retry_delay",
    "overlap",
    "max_instances",
    "limiter",
    "notify",
    "notify_to",
    "heartbeat_url",
    "catch_up",
    "enabled",
    "jitter",
    "description",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobDefinition:
    """Everything the runner and scheduler need to know about one job, validated."""

    name: str
    func: Callable[..., Any] = field(repr=False)
    is_async: bool
    instance: Job | None = field(default=None, repr=False)
    schedule: Schedule | None
    timezone: str
    timeout: float
    retries: int
    retry_delay: float
    overlap: OverlapPolicy
    max_instances: int
    limiter: str | None
    notify: NotifyPolicy | None
    notify_to: tuple[str, ...] | None
    heartbeat_url: str | None = field(repr=False)
    catch_up: bool
    enabled: bool
    jitter: float | None
    description: str | None
    #: ``asyncjobs.job.<name>``, the job's ``ctx.log`` (made once, not per run)
    log: logging.Logger = field(repr=False, compare=False)

    @property
    def scheduled(self) -> bool:
        """True when the job has a schedule and is enabled."""
        return self.schedule is not None and self.enabled

    def describe_schedule(self) -> str:
        """``cron '0 6 * * *'``, ``every 5m``, ``at ...`` or ``manual``."""
        return self.schedule.describe() if self.schedule is not None else "manual"


def validate_name(name: object) -> str:
    """A job name: non-empty text without whitespace or control characters."""
    if not isinstance(name, str) or not name:
        raise ConfigError("must be a non-empty string", job=str(name), field="name")
    if not _NAME_OK.match(name) or any(unicodedata.category(c).startswith("C") for c in name):
        raise ConfigError(
            "must not contain whitespace or control characters", job=repr(name)[1:-1], field="name"
        )
    return name


def _duration(job: str, fieldname: str, value: object, *, allow_zero: bool = False) -> float:
    try:
        return parse_duration(value, allow_zero=allow_zero)
    except ValueError as exc:
        raise ConfigError(str(exc), job=job, field=fieldname) from None


def _apply_override(options: dict[str, Any], override: JobOverride | None) -> dict[str, Any]:
    if override is None:
        return options
    merged = dict(options)
    values = override.model_dump(exclude_unset=True)
    if any(k in values for k in ("cron", "every", "at")):
        # A schedule from the environment replaces the code's, whatever its kind.
        merged.update(cron=None, every=None, at=None)
    merged.update(values)
    return merged


def build_definition(
    name: str,
    func: Callable[..., Any],
    options: Mapping[str, Any],
    settings: Settings,
    *,
    instance: Job | None = None,
) -> JobDefinition:
    """Validate one job's options (with its environment override applied)."""
    name = validate_name(name)
    unknown = set(options) - set(OPTION_NAMES)
    if unknown:
        raise ConfigError("unknown option", job=name, field=sorted(unknown)[0])
    opts = _apply_override(dict(options), settings.override_for(name))

    timezone = opts.get("timezone") or settings.timezone
    get_zone(timezone, job=name)
    schedule = parse_schedule(
        job=name,
        cron=opts.get("cron"),
        every=opts.get("every"),
        at=opts.get("at"),
        timezone=timezone,
    )
    timeout_value = opts.get("timeout")
    timeout = (
        settings.default_timeout
        if timeout_value is None
        else _duration(name, "timeout", timeout_value)
    )
    retries = opts.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(
            f"must be a whole number >= 0, got {retries!r}", job=name, field="retries"
        )
    retry_delay = _duration(name, "retry_delay", opts.get("retry_delay", 1.0), allow_zero=True)
    overlap = opts.get("overlap", "skip")
    if overlap not in _OVERLAP:
        raise ConfigError(
            f"must be one of {', '.join(_OVERLAP)}, got {overlap!r}", job=name, field="overlap"
        )
    max_instances = opts.get("max_instances", 1)
    if isinstance(max_instances, bool) or not isinstance(max_instances, int) or max_instances < 1:
        raise ConfigError(
            f"must be a whole number >= 1, got {max_instances!r}", job=name, field="max_instances"
        )
    notify = opts.get("notify")
    if notify is not None and notify not in _NOTIFY:
        raise ConfigError(
            f"must be one of {', '.join(_NOTIFY)}, got {notify!r}", job=name, field="notify"
        )
    notify_to = opts.get("notify_to")
    if isinstance(notify_to, str):
        notify_to = [a.strip() for a in notify_to.split(",") if a.strip()]
    if notify_to is not None:
        notify_to = tuple(notify_to)
        if not all(isinstance(a, str) and "@" in a for a in notify_to):
            raise ConfigError("expected email addresses", job=name, field="notify_to")
    jitter_value = opts.get("jitter")
    jitter = (
        None if jitter_value is None else _duration(name, "jitter", jitter_value, allow_zero=True)
    )
    limiter = opts.get("limiter")
    if limiter is not None and (not isinstance(limiter, str) or not limiter):
        raise ConfigError(f"expected a limiter name, got {limiter!r}", job=name, field="limiter")
    for flag in ("catch_up", "enabled"):
        if not isinstance(opts.get(flag, True), bool):
            raise ConfigError(f"expected true or false, got {opts[flag]!r}", job=name, field=flag)
    if not callable(func):
        raise ConfigError("expected a function", job=name, field="func")
    obj: Any = func  # a callable object: look at its __call__
    target = func if inspect.isroutine(func) else obj.__call__
    is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(target)
    return JobDefinition(
        name=name,
        func=func,
        is_async=is_async,
        instance=instance,
        schedule=schedule,
        timezone=timezone,
        timeout=timeout,
        retries=retries,
        retry_delay=retry_delay,
        overlap=overlap,
        max_instances=max_instances,
        limiter=limiter,
        notify=notify,
        notify_to=notify_to,
        heartbeat_url=opts.get("heartbeat_url"),
        catch_up=opts.get("catch_up", True),
        enabled=opts.get("enabled", True),
        jitter=jitter or None,
        description=opts.get("description"),
        log=logging.getLogger(f"asyncjobs.job.{name}"),
    )


def options_from_class(cls: type[Job]) -> dict[str, Any]:
    """The ``@app.job`` keywords a ``Job`` subclass sets as class attributes."""
    return {name: getattr(cls, name) for name in OPTION_NAMES}


def class_job_name(cls: type[Job]) -> str:
    """``cls.name``, or the class name in snake_case."""
    if cls.name:
        return cls.name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
