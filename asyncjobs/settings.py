"""Settings from the environment (prefix ``ASYNCJOBS_``) and ``.env``.

``Settings()`` reads the process environment and ``.env`` in the working
directory; pass keyword arguments to override, or ``_env_file=`` to read
another file. Per-job overrides use the nested form
``ASYNCJOBS_JOBS__<job>__<field>=...``; environment names are
case-insensitive, so job names in overrides match case-insensitively.

Every field, its default and one line of meaning are in ``.env.example``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from asyncjobs.durations import parse_duration
from asyncjobs.exceptions import ConfigError

__all__ = ("JobOverride", "NotifyPolicy", "Settings", "load_settings", "split_addresses")

NotifyPolicy = Literal["failure", "always", "success", "never"]
OverlapPolicy = Literal["skip", "queue", "allow", "replace"]


def split_addresses(value: object) -> object:
    """Accept a JSON list or a comma-separated string of addresses."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _seconds(value: object) -> object:
    if isinstance(value, str | timedelta):
        return parse_duration(value, allow_zero=True)
    return value


class JobOverride(BaseModel):
    """Per-job settings from ``ASYNCJOBS_JOBS__<job>__<field>``; unset fields keep the code's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cron: str | None = None
    every: str | float | None = None
    at: str | None = None
    timezone: str | None = None
    enabled: bool | None = None
    timeout: str | float | None = None
    retries: int | None = None
    retry_delay: str | float | None = None
    overlap: OverlapPolicy | None = None
    max_instances: int | None = None
    catch_up: bool | None = None
    jitter: str | float | None = None
    notify: NotifyPolicy | None = None
    notify_to: Annotated[list[str] | None, NoDecode] = None
    heartbeat_url: str | None = Field(default=None, repr=False)  # the URL is the credential

    _split = field_validator("notify_to", mode="before")(split_addresses)


class Settings(BaseSettings):
    """Service-wide settings; see ``.env.example`` for every field."""

    model_config = SettingsConfigDict(
        env_prefix="ASYNCJOBS_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="ignore",
        validate_default=True,
        # Empty values (as in a copied .env.example) mean "unset", not "".
        env_ignore_empty=True,
    )

    app: str | None = Field(default=None, description="MODULE:ATTR of the App to serve")
    timezone: str = Field(default="UTC", description="IANA zone for schedules without their own")
    # A plain str (Settings(store_url="memory://") type-checks), kept out of
    # reprs because a PostgreSQL URL may carry a password; shown redacted.
    store_url: str = Field(
        default="sqlite:///asyncjobs.db",
        repr=False,
        description="run history: memory://, sqlite:///path, postgresql://...",
    )
    misfire_grace_time: float = Field(default=300.0, gt=0)
    max_concurrent_runs: int = Field(default=100, ge=1)
    default_timeout: float = Field(default=3600.0, gt=0)
    shutdown_grace: float = Field(default=30.0, ge=0)
    lease_seconds: float = Field(default=30.0, gt=0)
    history_retention_days: float = Field(default=30.0, ge=0)
    loop_lag_warning: float = Field(default=1.0, gt=0)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    mail_backend: Literal["auto", "smtp", "console", "file", "memory", "disabled"] = "auto"
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout: float = Field(default=30.0, gt=0)
    smtp_ca_file: str | None = None
    smtp_retries: int = Field(
        default=2, ge=0, le=10, description="extra attempts after a transient SMTP failure"
    )
    smtp_max_connections: int = Field(
        default=2, ge=1, description="SMTP sends at once (pooled connections)"
    )
    mail_from: str | None = None
    mail_outbox_dir: str = "outbox"
    notify_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    notify_on: NotifyPolicy = "failure"

    webhook_url: SecretStr | None = None
    http_timeout: float = Field(default=10.0, gt=0)

    jobs: dict[str, JobOverride] = Field(default_factory=dict)

    _split = field_validator("notify_to", mode="before")(split_addresses)
    _durations = field_validator(
        "misfire_grace_time",
        "default_timeout",
        "shutdown_grace",
        "lease_seconds",
        "loop_lag_warning",
        "smtp_timeout",
        "http_timeout",
        mode="before",
    )(_seconds)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().upper()
            if value not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
                raise ValueError(f"expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}")
        return value

    @field_validator("jobs", mode="before")
    @classmethod
    def _lower_job_names(cls, value: Any) -> Any:
        # Environment names are case-insensitive, so overrides are keyed by the
        # lower-cased job name and looked up the same way.
        if isinstance(value, dict):
            return {str(k).lower(): v for k, v in value.items()}
        return value

    def override_for(self, job: str) -> JobOverride | None:
        """The per-job override for ``job`` (matched case-insensitively), if any."""
        return self.jobs.get(job.lower())

    @property
    def store_url_value(self) -> str:
        """The store URL in clear, for the store factory only (display it redacted)."""
        return self.store_url


def load_settings(**values: Any) -> Settings:
    """Build :class:`Settings`, turning validation errors into one-line ``ConfigError``."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise config_error_from(exc) from None


def config_error_from(exc: ValidationError, *, job: str | None = None) -> ConfigError:
    """One-line ``ConfigError`` naming the first bad field (values are not echoed)."""
    err = exc.errors(include_input=False)[0]
    loc = [str(p) for p in err["loc"]]
    if job is None and len(loc) >= 3 and loc[0] == "jobs":
        job, loc = loc[1], loc[2:]
    field = ".".join(loc) or "settings"
    if job is None:
        field = f"settings: {field}"
    message = str(err["msg"])
    return ConfigError(message, job=job, field=field)
