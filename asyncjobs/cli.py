"""The command line: ``python -m asyncjobs [options] COMMAND``.

Thin by design: it parses arguments (argparse, from the standard library, so
the CLI adds no dependency and no import time), finds the app
(:mod:`asyncjobs.loader`) and calls the library; tables and summaries live in
:mod:`asyncjobs.cli_output`, the job template in :mod:`asyncjobs.scaffold`.

Exit codes: 0 success; 1 a triggered run did not succeed, or a test email
failed; 2 a usage or configuration error, printed as one ``error: ...`` line
(``--debug`` adds the traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import traceback
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn

from asyncjobs import __version__
from asyncjobs.app import App
from asyncjobs.exceptions import AsyncJobsError, ConfigError
from asyncjobs.result import RunStatus

__all__ = ("build_parser", "main")

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class _UsageError(Exception):
    """A bad command line (argparse's complaint), reported as ``error: ...``, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the usage block and exit; one line keeps the
        # error contract the same for usage and configuration mistakes.
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; global options are accepted before or after the command."""
    common = _Parser(add_help=False)
    # SUPPRESS: an option given after the command does not reset one given before it.
    common.add_argument(
        "--app",
        metavar="MODULE:ATTR",
        default=argparse.SUPPRESS,
        help="the App to use (default: $ASYNCJOBS_APP, else the built-in demo)",
    )
    common.add_argument(
        "--env-file",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="read settings from this dotenv file (the environment still wins)",
    )
    common.add_argument(
        "--log-level",
        type=str.upper,
        choices=_LEVELS,
        default=argparse.SUPPRESS,
        help="override ASYNCJOBS_LOG_LEVEL",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks for errors",
    )
    parser = _Parser(
        prog="python -m asyncjobs",
        parents=[common],
        description="Serve, inspect and run asyncjobs jobs.",
    )
    parser.add_argument("--version", action="version", version=f"asyncjobs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common])

    add("run", "serve the jobs until SIGINT/SIGTERM, then drain and stop")
    p = add("list", "jobs, schedules, next run times and last status")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p = add("trigger", "run one job now and print its result (exit 1 unless it succeeded)")
    p.add_argument("name", help="job name")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-notify", action="store_true", help="send no notifications")
    p = add("history", "recorded runs, newest first")
    p.add_argument("name", nargs="?", help="only this job")
    p.add_argument("--limit", type=_positive_int, default=20, help="at most N runs (20)")
    p.add_argument("--status", choices=[s.value for s in RunStatus], help="only this status")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p = add("check", "load the app and settings, validate schedules, open the store")
    p.add_argument("--smtp", action="store_true", help="also log in to the SMTP server")
    p = add("new-job", "write jobs/NAME.py and tests/test_NAME.py in the current directory")
    p.add_argument("name", help="job name (a Python identifier)")
    p = add("send-test-email", "send one message with the configured mailer")
    p.add_argument("to", help="recipient address")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130
    except (_UsageError, AsyncJobsError) as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "new-job":
        from asyncjobs.scaffold import write_job

        for path in write_job(args.name):
            print(f"created {path}")
        return 0

    from asyncjobs.loader import apply_env_file, load_app
    from asyncjobs.logs import configure_logging

    if getattr(args, "env_file", None):
        apply_env_file(args.env_file)
    spec = getattr(args, "app", None)
    settings = None
    if not spec:
        from asyncjobs.settings import load_settings

        # Only read here when needed: the user's App() reads its own settings.
        settings = load_settings()
        spec = settings.app
    if spec:
        app, source = load_app(spec), spec
    else:
        from asyncjobs.demo import create_app

        print(
            "asyncjobs: no app given (--app MODULE:ATTR or ASYNCJOBS_APP); "
            "using the built-in demo app",
            file=sys.stderr,
        )
        app, source = create_app(settings), "the built-in demo app"
    level = getattr(args, "log_level", None) or app.settings.log_level
    configure_logging(level, app.settings.log_format)
    command = _COMMANDS[args.command]
    return asyncio.run(command(app, args, source))


async def _cmd_run(app: App, args: argparse.Namespace, source: str) -> int:
    from asyncjobs.cli_output import startup_summary

    app.validate()
    # A service's output goes to a pipe or the journal: line by line, not in 8 KiB blocks.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)
    print(startup_summary(app, source), flush=True)
    await app.serve()
    return 0


async def _cmd_list(app: App, args: argparse.Namespace, source: str) -> int:
    from asyncjobs.cli_output import job_row, jobs_table

    app.validate()
    rows = []
    if app.jobs:
        # One store session for every job, rather than one per history() call.
        async with app.store as store:
            for definition in app.jobs.values():
                last = await store.history(definition.name, 1)
                rows.append(job_row(app, definition, last[0] if last else None))
    print(json.dumps(rows, indent=2) if args.json else jobs_table(app, rows))
    return 0


async def _cmd_trigger(app: App, args: argparse.Namespace, source: str) -> int:
    result = await app.run_async(args.name, notify=not args.no_notify)
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        print(result.summary())
    return 0 if result.success else 1


async def _cmd_history(app: App, args: argparse.Namespace, source: str) -> int:
    from asyncjobs.cli_output import history_table

    results = await app.history(args.name, limit=args.limit, status=args.status)
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in results], indent=2))
    else:
        print(history_table(results, app.settings.timezone))
    return 0


async def _cmd_check(app: App, args: argparse.Namespace, source: str) -> int:
    from asyncjobs.cli_output import describe_mailer, format_time
    from asyncjobs.stores import redact_url

    # Schedules and overrides were validated when the app's module defined its
    # jobs; what is left is what needs every job defined, the store and the mailer.
    app.validate()
    for definition in app.jobs.values():
        next_run = app.next_run_time(definition.name)
        print(
            f"ok  job {definition.name}: {definition.describe_schedule()}, "
            f"next {format_time(next_run, definition.timezone)}"
        )
    async with app.store:
        pass
    print(f"ok  store {redact_url(app.settings.store_url_value)}")
    mail = describe_mailer(app)
    if args.smtp:
        from asyncjobs.mail import MailError
        from asyncjobs.smtp_check import verify_smtp

        try:
            await verify_smtp(app.mailer)
        except MailError as exc:
            raise ConfigError(str(exc), field="--smtp") from exc
        print(f"ok  mail {mail}: logged in")
    else:
        print(f"ok  mail {mail}")
    print(f"ok  {len(app.jobs)} job(s) from {source}")
    return 0


async def _cmd_send_test_email(app: App, args: argparse.Namespace, source: str) -> int:
    from asyncjobs.cli_output import describe_mailer
    from asyncjobs.mail import MailError

    mailer = app.mailer
    text = (
        "This is a test message from asyncjobs.\n\n"
        f"Mail backend: {describe_mailer(app)}\n"
        "If you can read this, notifications can reach you.\n"
    )
    try:
        async with mailer:
            await mailer.send(args.to, "asyncjobs test message", text=text)
    except MailError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"sent a test message to {args.to} ({describe_mailer(app)})")
    return 0


_COMMANDS: dict[str, Callable[[App, argparse.Namespace, str], Coroutine[Any, Any, int]]] = {
    "run": _cmd_run,
    "list": _cmd_list,
    "trigger": _cmd_trigger,
    "history": _cmd_history,
    "check": _cmd_check,
    "send-test-email": _cmd_send_test_email,
}
