"""How the `rebook` command reads its command line: one `error:` line and exit status 1 for every
mistake (click's own usage errors included), negative numbers read as values, and a flag pair such as
--valid/--not-valid given once."""

from __future__ import annotations

import re
import sys

import click

NEGATIVE_NUMBER = re.compile(r"-\d[\d.,_]*$")


class RebookCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _refuse_both_sides_of_a_flag(ctx, self, args)
        return super().parse_args(ctx, _negative_numbers_as_values(self, args))


class RebookGroup(click.Group):
    command_class = RebookCommand
    group_class = type  # subgroups are RebookGroups too

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"error: {one_line(e)}", err=True)
            sys.exit(1)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def one_line(error: click.ClickException) -> str:
    message = " ".join(error.format_message().split())
    if isinstance(error, click.UsageError) and error.ctx is not None:
        message = f"{error.ctx.command_path.removeprefix('rebook ') or 'rebook'}: {message[:1].lower()}{message[1:]}"
        message += f" (see `{error.ctx.command_path} --help`)"
    return message


def _value_options(command: click.Command) -> set[str]:
    return {name for p in command.params if isinstance(p, click.Option) and not p.is_flag and not p.count
            for name in p.opts}


def _negative_numbers_as_values(command: click.Command, args: list[str]) -> list[str]:
    """`policy set strike_limit -1` and `appt book -1`: a bare negative number is an argument, not an option.
    Such arguments (and every argument after the first of them) move behind `--`, in their order."""
    takes_value = _value_options(command)
    kept: list[str] = []
    moved: list[str] = []
    expecting_value = False
    for i, token in enumerate(args):
        if token == "--":  # the rest is arguments already
            if moved:
                moved += args[i + 1:]
            else:
                kept += args[i:]
            break
        if expecting_value:
            kept.append(token)
            expecting_value = False
        elif NEGATIVE_NUMBER.match(token) or (moved and not token.startswith("-")):
            moved.append(token)
        else:
            kept.append(token)
            expecting_value = token in takes_value
    return [*kept, "--", *moved] if moved else kept


def _refuse_both_sides_of_a_flag(ctx: click.Context, command: click.Command, args: list[str]) -> None:
    for param in command.params:
        if isinstance(param, click.Option) and param.is_flag and param.secondary_opts:
            on = next((o for o in param.opts if o in args), None)
            off = next((o for o in param.secondary_opts if o in args), None)
            if on and off:
                raise click.UsageError(f"{on} and {off} contradict each other: give one of them", ctx=ctx)
