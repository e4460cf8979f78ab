"""Finding the app to serve: ``--app``, then ``ASYNCJOBS_APP`` (else the CLI serves the demo).

``MODULE:ATTR`` names an :class:`~asyncjobs.App` instance, or a function
taking no arguments that returns one (a factory). ``MODULE`` alone means
``MODULE:app``. The current directory is importable, as with ``python -m``.

``--env-file`` is applied by :func:`apply_env_file` *before* the user's module
is imported: that module builds its own ``App()`` at import time, and
``App()`` reads :class:`~asyncjobs.Settings` from the process environment.
Exporting the file's variables is the one way that reaches every ``App()``
(and every ``Settings()`` the user's code makes) without changing their code.
Variables already set in the environment win, as they do over ``.env``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from asyncjobs.app import App
from asyncjobs.exceptions import ConfigError

__all__ = ("apply_env_file", "load_app")


def apply_env_file(path: str) -> list[str]:
    """Export the variables of a dotenv file that the environment does not set.

    Returns the names exported. Raises :class:`ConfigError` when the file
    cannot be read. Values are never echoed.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no such file: {path}", field="--env-file")
    # python-dotenv is what pydantic-settings itself uses to read .env files,
    # so both parse the same syntax.
    from dotenv import dotenv_values

    try:
        values = dotenv_values(file, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", field="--env-file") from None
    exported = []
    for key, value in values.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
            exported.append(key)
    return exported


def load_app(spec: str) -> App:
    """Import ``MODULE:ATTR`` and return the :class:`App` it names.

    Raises :class:`ConfigError` (field ``--app``) when the module cannot be
    imported or the attribute is not an app. A ``ConfigError`` raised while
    the module is imported (a bad schedule or override) propagates unchanged,
    since it already names the job and the field.
    """
    module_name, _, attr = spec.partition(":")
    attr = attr or "app"
    if not module_name or not all(part.isidentifier() for part in module_name.split(".")):
        raise ConfigError(f"expected MODULE:ATTR, got {spec!r}", field="--app")
    # ``python -m asyncjobs`` from a project directory should find the
    # project's modules, as ``python -m yourmodule`` would.
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ConfigError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise ConfigError(
                f"cannot import module {module_name!r} (is it on the path?)", field="--app"
            ) from None
        raise ConfigError(f"importing {module_name!r} failed: {exc}", field="--app") from exc
    except Exception as exc:
        # Kept as the cause, so that --debug shows the module's own traceback.
        raise ConfigError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}", field="--app"
        ) from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(
                f"module {module_name!r} has no attribute {attr!r}", field="--app"
            ) from None
    if not isinstance(target, App) and callable(target):
        target = target()
    if not isinstance(target, App):
        raise ConfigError(
            f"{spec!r} is a {type(target).__name__}, not an asyncjobs App", field="--app"
        )
    return target
