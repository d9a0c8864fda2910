"""docs/cli.md: the command-line reference, generated from the commands' own --help."""

from __future__ import annotations

import click

from .cli import cli


def _walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            out += _walk(cmd.commands[name], path + [name])
    return out


def reference() -> str:
    lines = [
        "# Command-line reference",
        "",
        "Generated from `kg ... --help` by `make docs`; a test fails when it is stale.",
        "",
    ]
    for path, cmd in _walk(cli, ["kg"]):
        ctx = click.Context(
            cmd,
            info_name=" ".join(path),
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],
        )
        lines += [f"## `{' '.join(path)}`", "", "```", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference(), end="")
