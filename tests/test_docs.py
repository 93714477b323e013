"""The documentation site in docs/ is the reference, and it must stay true.

It builds with ``mkdocs build --strict`` (a broken link or anchor, or a page left out of the nav, fails), its
command reference is generated from the `rebook` command itself (so every command and option must say what it
does), every setting and policy key is on its page, and every shell example runs, unless it says why it cannot
run offline.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import click
import pytest

from rebook.cli import cli
from tests.clirunner import Rebook

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _commands(group: click.Group, prefix: str = "rebook"):
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


COMMANDS = list(_commands(cli))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}"
    return out


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_the_site_builds_strictly_with_every_page(site):
    for page in DOCS.glob("*.md"):
        built = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.exists(), f"{page.name} was not built"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_and_option_says_what_it_does(path, command):
    assert (command.help or "").strip(), f"{path} has no help text: the reference is generated from it"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"{param.opts[0]} of {path} has no help text"


def test_the_command_reference_is_generated_from_the_command(site):
    page = (site / "commands" / "index.html").read_text()
    for path, command in COMMANDS:
        anchor = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
        assert f'id="{anchor}"' in page, f"{path} is missing from the command reference"
        section = page[page.index(f'id="{anchor}"'):]
        following = re.search(r'<h\d id="rebook-', section[1:])
        section = _text(section[: following.start() + 1 if following else len(section)])
        first_line = inspect_first_line(command)
        assert first_line in " ".join(section.split()), f"{path}'s help is not on the page"
        for param in command.params:
            if isinstance(param, click.Option):
                for flag in param.opts:
                    assert flag in section, f"{flag} of {path} is not in its reference entry"


def inspect_first_line(command: click.Command) -> str:
    return " ".join(re.sub(r"`", "", command.help or "").split())[:60]


def test_every_setting_is_documented():
    from django.conf import settings  # noqa: F401  (reading settings registers the variables)

    from rebook.settings import ENVIRONMENT_VARIABLES

    page = (DOCS / "settings.md").read_text()
    for name in list(ENVIRONMENT_VARIABLES) + ["REBOOK_PASSWORD"]:
        assert f"`{name}`" in page, f"{name} is not documented in docs/settings.md"


def test_every_policy_key_is_documented():
    from rebook.strategy.policy import policy_keys

    page = (DOCS / "policy.md").read_text()
    for key in policy_keys():
        assert re.search(rf"`{key}`", page), f"policy key {key} is not documented in docs/policy.md"


# The shell examples. A block fenced as ```sh (or one whose lines start with `rebook`) is run, line by line, on a
# fresh database, in the order of its page; one that cannot run offline says why on the line before its fence:
# <!-- not run: starts a server -->.

FENCE = re.compile(r"(?:<!-- not run: (?P<why>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


@dataclass
class Example:
    page: Path
    line: int
    body: str
    why_not: str | None

    @property
    def commands(self) -> list[list[str]]:
        return [words for text in self.body.splitlines() if (words := shlex.split(text, comments=True))]


def _examples(page: Path) -> list[Example]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        body = match["body"]
        shell = match["lang"] in ("sh", "bash", "console", "shell") or (
            not match["lang"] and body.lstrip().startswith("rebook "))
        if shell:
            line = text[: match.start("body")].count("\n")
            found.append(Example(page, line, body, match["why"]))
    return found


EXAMPLES = [example for page in PAGES for example in _examples(page)]


def test_the_docs_have_shell_examples_that_run():
    assert sum(example.why_not is None for example in EXAMPLES) >= 3


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.why_not is not None],
                         ids=lambda e: f"{e.page.name}:{e.line}")
def test_an_example_not_run_says_why(example):
    assert len(example.why_not.split()) >= 2, f"{example.page.name}:{example.line}: say why it is not run"


PAGES_WITH_EXAMPLES = sorted({e.page for e in EXAMPLES if e.why_not is None})


@pytest.mark.django_db(transaction=True, reset_sequences=True)
@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=lambda p: p.name)
def test_the_shell_examples_run(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rebook = Rebook()
    for example in (e for e in EXAMPLES if e.page == page and e.why_not is None):
        for words in example.commands:
            where = f"{page.name}, the block at line {example.line}: {shlex.join(words)}"
            env = {}
            while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                name, value = words.pop(0).split("=", 1)
                env[name] = value
            assert words and words[0] == "rebook", (
                f"{where}: only `rebook` commands run offline; mark the block <!-- not run: why -->")
            with monkeypatch.context() as patched:
                for name, value in env.items():
                    patched.setenv(name, value)
                result = rebook(*words[1:], ok=False)
            assert result.exit_code == 0, f"{where} failed: {result.stderr or result.output}"
