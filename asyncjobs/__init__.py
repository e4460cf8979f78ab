"""asyncjobs: async-first scheduled jobs for Python.

Define coroutine jobs on an :class:`App`; they run on cron, interval or
one-off schedules in one asyncio event loop, each run bounded by a timeout,
limited, retried, recorded and reported. See the README for a tour.
"""

from asyncjobs.app import App as App
from asyncjobs.app import JobHandle as JobHandle
from asyncjobs.context import RunContext as RunContext
from asyncjobs.definition import Job as Job
from asyncjobs.definition import JobDefinition as JobDefinition
from asyncjobs.exceptions import AsyncJobsError as AsyncJobsError
from asyncjobs.exceptions import ConfigError as ConfigError
from asyncjobs.exceptions import UnknownJobError as UnknownJobError
from asyncjobs.mail.base import Mailer as Mailer
from asyncjobs.mail.memory import MemoryMailer as MemoryMailer
from asyncjobs.result import JobResult as JobResult
from asyncjobs.result import RunStatus as RunStatus
from asyncjobs.settings import Settings as Settings
from asyncjobs.stores.base import Store as Store
from asyncjobs.stores.memory import MemoryStore as MemoryStore

__version__ = "0.1.0"

__all__ = (
    "App",
    "AsyncJobsError",
    "ConfigError",
    "Job",
    "JobDefinition",
    "JobHandle",
    "JobResult",
    "Mailer",
    "MemoryMailer",
    "MemoryStore",
    "RunContext",
    "RunStatus",
    "Settings",
    "Store",
    "UnknownJobError",
    "__version__",
)
