"""The `touchstone` command explains itself: every command and option has help, and --version
names the version pyproject.toml gives."""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from touchstone.tools.cli import main, parser

ROOT = Path(__file__).resolve().parents[2]


def undocumented(p: argparse.ArgumentParser, path: str = "touchstone") -> Iterator[str]:
    """Every command or option under p that has no help text."""
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, command in action.choices.items():
                if not helps.get(name):
                    yield f"{path} {name}"
                yield from undocumented(command, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            if not action.help or action.help == argparse.SUPPRESS:
                yield f"{path} {'/'.join(action.option_strings) or action.dest}"


def test_every_command_and_option_says_what_it_is_for() -> None:
    assert list(undocumented(parser())) == []


def test_a_command_or_option_without_help_is_found() -> None:
    bare = argparse.ArgumentParser()
    commands = bare.add_subparsers()
    commands.add_parser("quiet").add_argument("--loud")
    assert list(undocumented(bare, "x")) == ["x quiet", "x quiet --loud"]


def test_version_is_the_projects(capsys: pytest.CaptureFixture[str]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"touchstone {version}"
