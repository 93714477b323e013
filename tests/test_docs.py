"""The README is the reference: every command, option and setting must be in it."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from rebook.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "rebook"):
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            if command.invoke_without_command:  # `rebook outbox` lists, `rebook outbox show` shows
                yield path, command
            yield from _commands(command, path)
        else:
            yield path, command


COMMANDS = list(_commands(cli))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_and_option_is_in_the_readme(path, command):
    heading = f"\n`{path}"  # a reference entry starts a line with the command in backticks
    assert heading in README, f"{path} has no entry in the README's command reference"
    section = README[README.index(heading) + 1 :]
    section = section[: (section.find("\n`rebook ", 1) + 1) or len(section)]
    for param in command.params:
        if isinstance(param, click.Option):
            for flag in param.opts:
                if flag not in ("--json", "--user", "--help"):
                    assert flag in section, f"{flag} of {path} is not documented next to it in README.md"


def test_every_setting_is_in_the_readme():
    from django.conf import settings  # noqa: F401  (reading settings registers the variables)

    from rebook.settings import ENVIRONMENT_VARIABLES

    for name in list(ENVIRONMENT_VARIABLES) + ["REBOOK_PASSWORD"]:
        assert f"`{name}`" in README, f"{name} is not documented in README.md"


def test_every_policy_key_is_in_the_readme():
    from rebook.strategy.policy import policy_keys

    for key in policy_keys():
        assert re.search(rf"`{key}`", README), f"policy key {key} is not documented"
