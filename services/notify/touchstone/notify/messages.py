"""The messages notify sends customers, in their language
(services/notify/touchstone/notify/messages/<lang>.yaml,
or TOUCHSTONE_MESSAGES_DIR): one subject and body per step action, English the fallback."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from touchstone.notify.deliveries import MESSAGE_CHANNELS
from touchstone.notify.playbooks import Playbooks
from touchstone.platform.runtime.config_files import ConfigFileError, Lined, shipped, yaml_mapping

FALLBACK = "en"
PLACEHOLDERS = ("date", "site")


class MessagesError(ConfigFileError):
    """Message templates that cannot be used: every problem, each naming where it is."""


@dataclass(frozen=True)
class Message:
    """A message as it goes out."""

    language: str
    subject: str
    body: str


@dataclass(frozen=True)
class Templates:
    """Subject and body by language, then by step action."""

    by_language: Mapping[str, Mapping[str, tuple[str, str]]]

    def language_for(self, preferred: str) -> str:
        """The language to write in: the customer's (its primary subtag: "vi-VN" is "vi") if
        there are templates in it, else English."""
        primary = preferred.split("-")[0].strip().lower()
        return primary if primary in self.by_language else FALLBACK

    def check_covers(self, playbooks: Playbooks) -> None:
        """MessagesError unless every step the system sends a message for has a template."""
        sent = {
            step.action
            for steps in playbooks.playbooks.values()
            for step in steps
            if step.owner == "system" and step.channel in MESSAGE_CHANNELS
        }
        missing = sorted(sent - set(self.by_language[FALLBACK]))
        if missing:
            problems = [
                f"no message for {a}, which a playbook's system step sends" for a in missing
            ]
            raise MessagesError("messages", problems)

    def render(
        self, action: str, language: str, site_id: str, moment_at: datetime, zone: str
    ) -> Message:
        """The action's message in the language, for a visit to the site; the date is the
        visit's day in the site's time zone."""
        subject, body = self.by_language[language][action]
        values = {"date": moment_at.astimezone(ZoneInfo(zone)).date().isoformat(), "site": site_id}
        return Message(language, subject.format(**values), body.format(**values))


def default_messages_dir() -> Path:
    """The templates that ship with Touchstone."""
    return shipped("touchstone.notify", "messages")


def load_templates(directory: Path | None = None) -> Templates:
    """Every <language>.yaml in the directory (the shipped ones if None); MessagesError naming
    each problem. English is required, and every language must cover English's actions."""
    source = directory or default_messages_dir()
    problems: list[str] = []
    by_language: dict[str, dict[str, tuple[str, str]]] = {}
    for path in sorted(source.glob("*.yaml")):
        by_language[path.stem] = _templates(_read(path), path.stem, problems)
    if FALLBACK not in by_language:
        problems.append(f"{FALLBACK}.yaml: English is required, the fallback for every customer")
    for language, actions in by_language.items():
        missing = set(by_language.get(FALLBACK, {})) - set(actions)
        if missing:
            problems.append(f"{language}.yaml: no message for {', '.join(sorted(missing))}")
    if problems:
        raise MessagesError(str(source), problems)
    return Templates(by_language)


def _read(path: Path) -> dict[str, Any]:
    def refuse(found: list[str]) -> MessagesError:
        return MessagesError(path.name, found)

    return yaml_mapping(path.read_text(encoding="utf-8"), path.name, refuse, "one entry per action")


def _templates(
    doc: Mapping[str, object], language: str, problems: list[str]
) -> dict[str, tuple[str, str]]:
    found = {}
    for action, entry in doc.items():
        line = doc.line_of(str(action)) if isinstance(doc, Lined) else "?"
        where = f"{language}.yaml:{line}: {action}"
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("subject", "body")
        ):
            problems.append(f"{where}: needs a subject and a body")
            continue
        for part in ("subject", "body"):
            fields = {
                name for _, name, _, _ in string.Formatter().parse(entry[part]) if name is not None
            }
            if fields - set(PLACEHOLDERS):
                at = entry.line_of(part) if isinstance(entry, Lined) else line
                problems.append(
                    f"{language}.yaml:{at}: {action}.{part}: placeholders are some of "
                    f"{', '.join(PLACEHOLDERS)}"
                )
        found[str(action)] = (entry["subject"], entry["body"])
    return found
