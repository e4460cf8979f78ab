"""One HTTP notification (webhook post or heartbeat ping) with a deadline and bounded retries."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from asyncjobs.http import redact

__all__ = ("HttpPolicy", "deliver")

log = logging.getLogger("asyncjobs.notifications")


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """How hard to try: ``deadline`` bounds the whole delivery, retries and backoff included."""

    deadline: float = 10.0
    retries: int = 2
    retry_delay: float = 0.5


# Errors where the request surely or probably did not reach the application;
# a read timeout is not here: the endpoint may be working on it, and the
# deadline is spent anyway.
_RETRY_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


async def deliver(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    policy: HttpPolicy,
    *,
    what: str,
    **kwargs: Any,
) -> str | None:
    """Send one request; ``None`` when it got a 2xx, else why not (never raises, never a URL).

    5xx replies and connection errors are retried; redirects are not followed
    (a 3xx is a failure); a 4xx is not retried.
    """
    try:
        async with asyncio.timeout(policy.deadline):
            return await _attempts(client, method, url, policy, what=what, **kwargs)
    except (TimeoutError, httpx.TimeoutException):
        return f"timed out after {policy.deadline:g}s"
    except Exception as exc:  # never raise out of a notification
        return redact(f"{type(exc).__name__}: {exc}")


async def _attempts(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    policy: HttpPolicy,
    *,
    what: str,
    **kwargs: Any,
) -> str | None:
    for attempt in range(policy.retries + 1):
        last = attempt == policy.retries
        try:
            response = await client.request(
                method, url, timeout=policy.deadline, follow_redirects=False, **kwargs
            )
        except _RETRY_ERRORS as exc:
            error = redact(f"{type(exc).__name__}: {exc}".rstrip(": "))
            if last:
                return error
        else:
            if response.is_success:
                return None
            error = f"HTTP {response.status_code}"
            if response.is_redirect:
                return f"{error} (redirects are not followed)"
            if response.status_code < 500 or last:
                return error
        delay = policy.retry_delay * 2**attempt
        log.info("%s: %s; retrying in %.1fs", what, error, delay)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
