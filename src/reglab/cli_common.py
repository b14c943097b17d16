"""Pieces shared by the ``reglab`` command-line verbs: list-valued option
types, and the translation of reglab's errors into a message and exit code."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from ._validation import ReglabError

EXIT_INPUT = 2  # bad input: the same code click uses for usage errors
EXIT_FAILED = 1  # the job ran and its verdict is "fail" (reproduce, gradcheck)


class CommandError(click.ClickException):
    """A clean ``error: ...`` line and exit code 2, never a traceback."""

    exit_code = EXIT_INPUT

    def format_message(self) -> str:
        return self.message


def guarded(fn):
    """Run a command body, turning reglab's and the OS's errors into :class:`CommandError`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ReglabError, ValueError, TypeError) as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None

    return wrapper


class NumberList(click.ParamType):
    """``20,3`` -> ``(20, 3)``; ``0.9,0.8`` -> ``(0.9, 0.8)``."""

    def __init__(self, kind: type, name: str):
        self.kind = kind
        self.name = name

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return tuple(self.kind(v) for v in str(value).split(",") if v.strip() != "")
        except ValueError:
            self.fail(f"expected comma-separated {self.name}s such as "
                      f"{'20,3' if self.kind is int else '0.9,0.8'}, got {value!r}", param, ctx)


INT_LIST = NumberList(int, "integer")
FLOAT_LIST = NumberList(float, "number")


def write_json(path, payload: dict) -> None:
    """Write ``payload`` as indented JSON, creating the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
