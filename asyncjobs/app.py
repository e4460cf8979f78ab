"""``App``: the registry of jobs and the lifecycle that runs them.

::

    app = App()

    @app.job(cron="0 6 * * *", timeout=300)
    async def daily_report(ctx: RunContext) -> dict: ...

    async with app:          # scheduler running in this loop
        ...
    await app.run_async("daily_report")   # works started or not
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload

from asyncjobs.definition import (
    Job,
    JobDefinition,
    build_definition,
    class_job_name,
    options_from_class,
    validate_name,
)
from asyncjobs.exceptions import ConfigError, UnknownJobError
from asyncjobs.limits import validate_limiter
from asyncjobs.logs import install_record_factory
from asyncjobs.mail.base import Mailer
from asyncjobs.result import JobResult, RunStatus
from asyncjobs.runner import Listener
from asyncjobs.runtime import Runtime
from asyncjobs.service import Service
from asyncjobs.settings import Settings, load_settings
from asyncjobs.stores.base import Store
from asyncjobs.triggers import At, build_trigger, next_fire_time

__all__ = ("App", "JobHandle")

log = logging.getLogger("asyncjobs")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class JobHandle(Generic[P, R]):
    """What ``@app.job`` returns: run the job through the app, or call the function."""

    __slots__ = ("_app", "_func", "definition")

    def __init__(self, app: App, definition: JobDefinition, func: Callable[P, R]) -> None:
        self._app = app
        self._func = func
        self.definition = definition

    @property
    def name(self) -> str:
        """The job's name."""
        return self.definition.name

    async def run_async(self, *, notify: bool = True) -> JobResult:
        """``await app.run_async(name)`` for this job."""
        return await self._app.run_async(self.name, notify=notify)

    def run(self, *, notify: bool = True) -> JobResult:
        """``app.run(name)`` for this job (sync callers only)."""
        return self._app.run(self.name, notify=notify)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the original function directly (no run, no record)."""
        return self._func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<JobHandle {self.name!r} {self.definition.describe_schedule()}>"


@dataclass(eq=False, slots=True)
class _Session:
    """A runtime shared by the calls made in one loop while the app is not started."""

    runtime: Runtime
    opened: asyncio.Future[None]
    users: int = 0


class App:
    """The job registry plus the lifecycle: settings, store, scheduler, runner, mailer.

    ``App()`` reads :class:`Settings` from the environment and ``.env``;
    pass ``settings=`` to give one. ``store=`` injects a store object (tests,
    or a shared :class:`~asyncjobs.stores.MemoryStore`) instead of
    ``settings.store_url``.
    """

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None) -> None:
        self.settings = settings if settings is not None else load_settings()
        install_record_factory()
        self._definitions: dict[str, JobDefinition] = {}
        self._folded_names: set[str] = set()  # lower-cased, for the case-insensitive check
        self._limiters: dict[str, int] = {}
        self._listeners: list[Listener] = []
        self._store = store
        self._mailer: Mailer | None = None
        self._service: Service | None = None
        self._sessions: dict[asyncio.AbstractEventLoop, _Session] = {}
        self._session_lock = threading.Lock()

    # ------------------------------------------------------------------ registry

    @overload
    def job(self, func: Callable[P, R], /) -> JobHandle[P, R]: ...

    @overload
    def job(
        self, name: str | None = None, /, **options: Any
    ) -> Callable[[Callable[P, R]], JobHandle[P, R]]: ...

    def job(self, name: Any = None, /, **options: Any) -> Any:
        """Declare a job: ``@app.job(cron="0 6 * * *", timeout=300)`` over a function.

        ``async def`` jobs run in the loop; a plain ``def`` runs in a worker
        thread. Keywords are listed in the README; every bad value is a
        :class:`ConfigError` naming the job and the field, raised here.
        """
        if callable(name):
            return self._register(name.__name__, name, options)

        def decorator(func: Callable[P, R]) -> JobHandle[P, R]:
            return self._register(func.__name__ if name is None else name, func, options)

        return decorator

    def add(self, job: type[Job] | Job) -> JobHandle[..., Any]:
        """Add a :class:`Job` subclass (or an instance of one)."""
        instance = job() if isinstance(job, type) else job
        cls = type(instance)
        if not isinstance(instance, Job):
            raise ConfigError("expected a Job subclass", job=repr(job), field="class")
        name = class_job_name(cls)
        if cls.execute is Job.execute:
            raise ConfigError("a Job subclass must implement execute()", job=name, field="execute")
        return self._register(name, instance.execute, options_from_class(cls), instance=instance)

    def _register(
        self,
        name: str,
        func: Callable[P, R],
        options: Mapping[str, Any],
        instance: Job | None = None,
    ) -> JobHandle[P, R]:
        name = validate_name(name)
        # Overrides match names case-insensitively, so names must differ by more than case.
        if name.lower() in self._folded_names:
            raise ConfigError("a job with this name is already defined", job=name, field="name")
        if self._service is not None:
            raise ConfigError(
                "jobs cannot be added while the app is running", job=name, field="name"
            )
        definition = build_definition(name, func, options, self.settings, instance=instance)
        self._definitions[definition.name] = definition
        self._folded_names.add(definition.name.lower())
        return JobHandle(self, definition, func)

    def limiter(self, name: str, capacity: int) -> None:
        """Declare a named limit shared by the jobs that say ``limiter=name``."""
        name, capacity = validate_limiter(name, capacity)
        self._limiters[name] = capacity

    def add_listener(self, listener: Callable[[JobResult], Awaitable[None] | None]) -> None:
        """Call ``listener(result)`` (sync or async) with every final result."""
        self._listeners.append(listener)

    @property
    def jobs(self) -> Mapping[str, JobDefinition]:
        """Job name → definition (read-only)."""
        return MappingProxyType(self._definitions)

    @property
    def mailer(self) -> Mailer:
        """The configured mailer (``MemoryMailer`` with ``mail_backend="memory"``)."""
        if self._mailer is None:
            from asyncjobs.mail import build_mailer

            self._mailer = build_mailer(self.settings)
        return self._mailer

    @property
    def store(self) -> Store:
        """The run-history store (opened by the app when it needs it)."""
        if self._store is None:
            from asyncjobs.stores import open_store

            self._store = open_store(self.settings.store_url_value)
        return self._store

    @property
    def running(self) -> bool:
        """True while the app is started (``async with app:`` or ``serve``)."""
        return self._service is not None

    def validate(self) -> None:
        """Check what can only be checked once every job is defined.

        Raises :class:`ConfigError` for an override naming an unknown job or
        a job naming an undeclared limiter.
        """
        known = {name.lower() for name in self._definitions}
        for name in self.settings.jobs:
            if name not in known:
                raise ConfigError(
                    "override for a job that is not defined", job=name, field="ASYNCJOBS_JOBS"
                )
        for definition in self._definitions.values():
            if definition.limiter is not None and definition.limiter not in self._limiters:
                raise ConfigError(
                    f"unknown limiter {definition.limiter!r}; declare it with app.limiter()",
                    job=definition.name,
                    field="limiter",
                )

    def _get(self, name: str) -> JobDefinition:
        try:
            return self._definitions[name]
        except KeyError:
            raise UnknownJobError(name, list(self._definitions)) from None

    def next_run_time(self, name: str) -> datetime | None:
        """The next scheduled tick of ``name`` (aware UTC), or ``None`` (manual, disabled, done)."""
        definition = self._get(name)
        if self._service is not None:
            return self._service.next_run_time(name)
        if not definition.scheduled or definition.schedule is None:
            return None
        now = datetime.now(UTC)
        if isinstance(definition.schedule, At):
            return definition.schedule.when if definition.schedule.when > now else None
        return next_fire_time(build_trigger(definition.schedule, job=name), now)

    # ------------------------------------------------------------------ running jobs

    async def run_async(self, name: str, *, notify: bool = True) -> JobResult:
        """Run job ``name`` once now and return its result.

        Never raises for the job's own failure (the result says so); raises
        :class:`UnknownJobError` for an unknown name. Works whether or not
        the app is started: when it is not, it opens what the run needs and
        closes it afterwards. ``notify=False`` sends no notifications.
        """
        definition = self._get(name)
        service = self._service
        if service is not None:
            if service.loop is asyncio.get_running_loop():
                return await service.runtime.runner.run_manual(definition, notify=notify)
            return await self._in_app_loop(self.run_async(name, notify=notify))
        async with self._session() as session:
            return await session.runner.run_manual(definition, notify=notify)

    async def _in_app_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` in the loop the app serves in (called from another loop)."""
        assert self._service is not None
        loop = self._service.loop
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    def run(self, name: str, *, notify: bool = True) -> JobResult:
        """Run job ``name`` from synchronous code and return its result.

        From a thread without a running loop it runs the job in a fresh loop;
        while the app serves in another thread it submits the run to that
        loop. Inside a running loop it raises ``RuntimeError``: use
        ``await app.run_async(name)`` there.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                f"app.run({name!r}) was called from a running event loop; "
                f"use 'await app.run_async({name!r})' instead"
            )
        self._get(name)
        service = self._service
        if service is not None and service.loop.is_running():
            return asyncio.run_coroutine_threadsafe(
                self.run_async(name, notify=notify), service.loop
            ).result()
        return asyncio.run(self.run_async(name, notify=notify))

    async def history(
        self, job: str | None = None, limit: int = 50, status: RunStatus | str | None = None
    ) -> list[JobResult]:
        """Recorded runs, newest first, from this process and any other on the same store."""
        if job is not None:
            self._get(job)
        if status is not None:
            try:
                status = RunStatus(status)
            except ValueError:
                allowed = ", ".join(s.value for s in RunStatus)
                raise ConfigError(
                    f"must be one of {allowed}, got {status!r}", field="status"
                ) from None
        service = self._service
        if service is not None:
            if service.loop is asyncio.get_running_loop():
                return await service.runtime.store.history(job, limit, status)
            return await self._in_app_loop(self.history(job, limit, status))
        async with self._session():
            return await self.store.history(job, limit, status)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Runtime]:
        """A runtime for calls made while the app is not started.

        Concurrent calls in one loop share one runtime (one open store); the
        last to leave closes it.
        """
        self.validate()
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None:
            runtime = Runtime(
                self.settings, self.store, self.mailer, self._listeners, self._limiters
            )
            session = self._sessions[loop] = _Session(runtime, loop.create_future())
            try:
                await runtime.open()
            except BaseException as exc:
                del self._sessions[loop]
                session.opened.set_exception(exc)
                session.opened.exception()  # retrieved: the opener raises it below
                raise
            session.opened.set_result(None)
        else:
            await asyncio.shield(session.opened)
        session.users += 1
        try:
            yield session.runtime
        finally:
            session.users -= 1
            if session.users == 0:
                del self._sessions[loop]
                await session.runtime.runner.teardown_jobs(self._definitions)
                await session.runtime.aclose()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Open the store, recover abandoned runs, catch up and start the scheduler."""
        if self._service is not None:
            raise RuntimeError("the app is already started")
        self.validate()
        runtime = Runtime(self.settings, self.store, self.mailer, self._listeners, self._limiters)
        service = Service(self.settings, self._definitions, runtime)
        await service.start()
        self._service = service
        log.info("asyncjobs started with %d job(s)", len(self._definitions))

    async def stop(self, grace: float | None = None) -> None:
        """Stop scheduling, drain runs up to ``shutdown_grace``, cancel the rest, close."""
        service = self._service
        if service is None:
            return
        try:
            await service.stop(self.settings.shutdown_grace if grace is None else grace)
        finally:
            self._service = None
            log.info("asyncjobs stopped")

    def cancel_running(self, reason: str = "shutdown forced") -> None:
        """Cancel every run in flight now (a second Ctrl-C); they are recorded ``cancelled``."""
        if self._service is not None:
            self._service.cancel_running(reason)

    async def serve(self) -> None:
        """Run until cancelled or until SIGINT/SIGTERM, then drain and stop.

        A second signal while draining cancels the runs still going at once.
        """
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []

        def on_signal() -> None:
            if stop.is_set():
                log.warning("second signal: cancelling running jobs now")
                self.cancel_running()
            else:
                log.info(
                    "signal received: stopping (draining up to %gs)", self.settings.shutdown_grace
                )
                stop.set()

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, on_signal)
                    installed.append(sig)
                except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
                    pass
        try:
            async with self:
                await stop.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<App {len(self._definitions)} job(s) {state}>"
