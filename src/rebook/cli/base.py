"""What every command shares: Django set-up, the seller it acts for, --json, and one-line errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click

from rebook.errors import RebookError


def setup_django() -> None:
    """Configure Django and bring the database schema up to date (cheap when it already is)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rebook.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        from django.core.exceptions import ImproperlyConfigured

        try:
            django.setup()
        except ImproperlyConfigured as e:  # a setting from the environment that cannot be used, by name
            raise RebookError(str(e)) from None
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)


@dataclass
class Ctx:
    seller: Any
    as_json: bool

    @property
    def tz(self):
        return self.seller.tz

    def now(self) -> datetime:
        from django.utils import timezone

        return timezone.now()

    def time(self, text: str, what: str) -> datetime:
        from rebook.timeparse import parse_time

        return parse_time(text, tz=self.tz, now=self.now(), what=what)


@dataclass
class Result:
    data: Any
    text: str


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def run_guarded(fn: Callable[[], Result | None], as_json: bool) -> None:
    from django.db import Error as DatabaseError

    try:
        result = fn()
    except RebookError as exc:
        fail(str(exc))
    except DatabaseError as exc:
        fail(f"database: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
    else:
        if result is None:
            return
        if as_json:
            click.echo(json.dumps(result.data, indent=2, default=str))
        elif result.text:
            click.echo(result.text)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")(f)


def user_option(f: Callable) -> Callable:
    return click.option(
        "--user", "username", metavar="USERNAME", default=None,
        help="Act for this seller (default: REBOOK_USER, else the only seller).",
    )(f)


def run_for_seller(fn: Callable[..., Result | None], as_json: bool, username: str | None, **kwargs: Any) -> None:
    def body() -> Result | None:
        setup_django()
        from rebook.sellers.services import seller_resolve

        return fn(Ctx(seller_resolve(username), as_json), **kwargs)

    run_guarded(body, as_json)


def seller_command(group: click.Group, name: str, **settings: Any) -> Callable:
    """A command acting for one seller: gets a Ctx first, returns a Result to print."""

    def decorate(fn: Callable[..., Result | None]) -> click.Command:
        @json_option
        @user_option
        @functools.wraps(fn)
        def wrapper(as_json: bool, username: str | None, **kwargs: Any) -> None:
            run_for_seller(fn, as_json, username, **kwargs)

        return group.command(name, **settings)(wrapper)

    return decorate


def parse_id(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise RebookError(f"{what}: {value!r} is not an id (a whole number)") from None
    if number <= 0:
        raise RebookError(f"{what}: {value!r} is not an id (a whole number)")
    return number


def table(rows: list[list[str]], headers: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)).rstrip() for row in [headers, *rows]]
    return "\n".join(lines)
