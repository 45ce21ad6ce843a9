"""How a setting is declared: once, on its field (`setting`, `per_service`), with the variable
that sets it, its bounds, and what it means. Reading the environment (`read_declared`), handing
the settings on to a child process (`declared_env`) and the configuration guide's table
(`touchstone.tools.dev.settings_table`) all follow from the declarations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, field, fields
from pathlib import Path
from typing import Any

from touchstone.platform.runtime.env_reader import EnvReader

SERVICES = ("contacts", "journey", "loyalty", "notify")  # a per_service setting's services


def setting(
    env: str,
    default: Any,
    *,
    doc: str,
    shown: str = "",
    low: float | None = None,
    high: int | None = None,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    handed_on: bool = True,
) -> Any:
    """A field read from the variable `env` (the one place it is named): read_declared reads it,
    checked against low, high or the choices; declared_env hands it on to child processes
    (unless not handed_on); a secret is left out of repr. doc says what it means, and shown the
    default in words where its value does not say it (the configuration guide's table)."""
    meta = {
        "env": env,
        "doc": doc,
        "shown": shown,
        "low": low,
        "high": high,
        "choices": choices,
        "handed_on": handed_on,
    }
    return field(default=default, repr=not secret, metadata=meta)


def per_service(
    pattern: str,
    defaults: Mapping[str, Any],
    *,
    doc: str,
    shown: str = "",
    high: int | None = None,
) -> Any:
    """A field with one variable a service (pattern with {} for its name in capitals)."""
    meta = {
        "env": pattern,
        "doc": doc,
        "shown": shown,
        "high": high,
        "per_service": True,
        "handed_on": True,
    }
    return field(default_factory=lambda: dict(defaults), metadata=meta)


def declared(cls: type) -> list[Field[Any]]:
    """The fields of a settings class that are declared with a variable."""
    return [f for f in fields(cls) if "env" in f.metadata]


def read_declared(cls: type, env: Mapping[str, str]) -> dict[str, Any]:
    """Each declared field's value from its variable (an unset one keeps its default), checked as
    the field's type and bounds say; SettingError naming the variable otherwise."""
    read = EnvReader(env)
    return {f.name: _read(read, f) for f in declared(cls)}


def declared_env(settings: object) -> dict[str, str]:
    """The variables that hand these settings to a child process."""
    env: dict[str, str] = {}
    for f in declared(type(settings)):
        value = getattr(settings, f.name)
        if not f.metadata.get("handed_on") or value is None:
            continue
        if f.metadata.get("per_service"):
            named = f.metadata["env"]
            env.update({named.format(s.upper()): str(v) for s, v in value.items()})
        elif isinstance(value, bool):
            env[f.metadata["env"]] = "1" if value else "0"
        else:
            env[f.metadata["env"]] = str(value)
    return env


def env_names(cls: type) -> dict[str, str]:
    """Each declared field's variable, by field name (for a class that reads its own)."""
    return {f.name: f.metadata["env"] for f in declared(cls)}


def default_of(f: Field[Any]) -> Any:
    return f.default_factory() if callable(f.default_factory) else f.default


def _read(read: EnvReader, f: Field[Any]) -> Any:
    name, default, meta = f.metadata["env"], default_of(f), f.metadata
    low, high = meta.get("low"), meta.get("high")
    if meta.get("per_service"):
        if f.type == "Mapping[str, int]":
            return {
                s: read.integer(name.format(s.upper()), port, high=high)
                for s, port in default.items()
            }
        variables = {s: read.env.get(name.format(s.upper()), "").strip() for s in SERVICES}
        return {s: value for s, value in variables.items() if value}
    if f.type == "bool":
        return read.flag(name, default)
    if f.type == "int":
        return read.integer(name, default, low=int(low or 0), high=high)
    if f.type == "float":
        return read.number(name, default, low=float(low or 0.0))
    if f.type == "Path":
        return Path(read.env.get(name, str(default)))
    if f.type == "Path | None":
        return read.path(name)
    if meta.get("choices"):
        return read.choice(name, default, meta["choices"])
    return read.env.get(name, default)
