"""The data the services judge and act by: maps, standards, calendars, models, playbooks,
messages. Each ships with Touchstone; a variable points a service at your own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.runtime.settings.declared import setting


@dataclass(frozen=True)
class DataFileSettings:
    """Where the data files are, when not the shipped ones."""

    maps_dir: Path | None = setting(
        "TOUCHSTONE_MAPS_DIR",
        None,
        shown="the shipped maps",
        doc="a folder of journey map YAML files",
    )
    standards_file: Path | None = setting(
        "TOUCHSTONE_STANDARDS_FILE",
        None,
        shown="the shipped standards",
        doc="the service standards journey scores by (check it with `touchstone standards "
        "validate`)",
    )
    calendars_file: Path | None = setting(
        "TOUCHSTONE_CALENDARS_FILE",
        None,
        shown="the shipped example",
        doc="sites' business calendars: time zone, working days, hours, country (public "
        "holidays) and days off",
    )
    churn_model_file: Path | None = setting(
        "TOUCHSTONE_CHURN_MODEL_FILE",
        None,
        shown="the shipped model",
        doc="loyalty's churn model (`services/loyalty/touchstone/loyalty/churn/default.yaml` "
        "shows the fields; a bad file stops loyalty at start, naming each field)",
    )
    tiers_file: Path | None = setting(
        "TOUCHSTONE_TIERS_FILE",
        None,
        shown="the shipped tiers",
        doc="loyalty's tier cuts by share of a site's customers "
        "(`services/loyalty/touchstone/loyalty/tiers.yaml`)",
    )
    playbooks_file: Path | None = setting(
        "TOUCHSTONE_PLAYBOOKS_FILE",
        None,
        shown="the shipped playbooks",
        doc="notify's recovery playbooks: rules that pick one per case, each step's action, "
        "owner, channel and due time, and how fast recovery must go (`recovery`: "
        "respond_within, escalate_after, lost_after, escalate_at_risk) "
        "(`services/notify/touchstone/notify/playbooks/default.yaml`)",
    )
    messages_dir: Path | None = setting(
        "TOUCHSTONE_MESSAGES_DIR",
        None,
        shown="the shipped templates",
        doc="notify's messages, one `<language>.yaml` per language "
        "(`services/notify/touchstone/notify/messages/`)",
    )
