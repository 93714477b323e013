"""The `rebook` command: the front door to Rebook. It sets Django up itself; no manage.py needed."""

from __future__ import annotations

import click

from rebook import __version__
from rebook.cli.parsing import RebookGroup


@click.group(cls=RebookGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rebook")
def cli() -> None:
    """Rebook: turn cancelled appointments into connecting moments, and stop chasing prospects
    who are not really interested.

    Times accept ISO 8601 (2026-03-14T10:00) or phrases like "tomorrow 10am", read in the
    seller's time zone. Every command takes --json and --user USERNAME.
    """


from rebook.cli import api, appointments, calendars, leads, mail, messages, overview, serve, transfer  # noqa: E402,F401  (they register their commands)


def main() -> None:
    cli(prog_name="rebook")
