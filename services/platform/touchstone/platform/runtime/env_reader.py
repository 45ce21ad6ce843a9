"""Typed, checked reads of environment variables: the settings fail closed, naming the variable
(settings.py reads each TOUCHSTONE_* variable through one)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar


class SettingError(ValueError):
    """A variable whose value the setting does not take; the message names the variable, what it
    holds and what it takes (a service stops on it rather than guess)."""


YES = frozenset({"1", "true", "yes", "on"})
NO = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class EnvReader:
    """Typed, checked reads of environment variables: an unset variable is its default; a set
    one is what it says or a SettingError. Nothing is guessed (a typo in TOUCHSTONE_AUTH must not
    turn authentication off)."""

    env: Mapping[str, str]

    def flag(self, name: str, default: bool) -> bool:
        """A yes/no setting: 1/0, true/false, yes/no or on/off, in any case."""
        value = self.env.get(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in YES or word in NO:
            return word in YES
        raise SettingError(
            f"{name}={value!r} is not yes or no: use 1/0, true/false, yes/no or on/off"
        )

    def integer(self, name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
        """A whole number from low to high."""
        value = self.env.get(name)
        if value is None:
            return default
        try:
            number = int(value.strip().replace("_", ""))
        except ValueError:
            raise SettingError(f"{name}={value!r} is not a whole number") from None
        return self._within(name, value, number, low, high)

    def number(self, name: str, default: float, *, low: float = 0.0) -> float:
        """A finite number, at least low."""
        value = self.env.get(name)
        if value is None:
            return default
        try:
            number = float(value.strip())
        except ValueError:
            raise SettingError(f"{name}={value!r} is not a number") from None
        if not math.isfinite(number):
            raise SettingError(f"{name}={value!r} is not a finite number")
        return self._within(name, value, number, low, None)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """One of the choices, in any case (as the choices spell it)."""
        value = self.env.get(name)
        if value is None:
            return default
        for choice in choices:
            if value.strip().lower() == choice.lower():
                return choice
        shown = ", ".join(repr(c) for c in choices)
        raise SettingError(f"{name}={value!r} is not one of {shown}")

    def path(self, name: str) -> Path | None:
        """A file or folder; unset or empty: none."""
        value = self.env.get(name)
        return Path(value) if value else None

    @staticmethod
    def _within(name: str, value: str, number: _N, low: float, high: float | None) -> _N:
        if number < low or (high is not None and number > high):
            bounds = f"at least {low}" if high is None else f"from {low} to {high}"
            raise SettingError(f"{name}={value!r} is out of range: it must be {bounds}")
        return number


_N = TypeVar("_N", int, float)
