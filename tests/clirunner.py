"""Run `rebook` in-process, as a user would type it."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rebook.cli import cli


class Rebook:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True):
        result = self.runner.invoke(cli, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.stderr or result.output
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)

    def error(self, *args: str) -> str:
        result = self(*args, ok=False)
        assert result.exit_code != 0
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]
