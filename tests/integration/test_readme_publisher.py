"""The README's publishing example, as written, on the real broker: the touchpoint it builds
arrives on the topic keyed by the customer, with its CloudEvents headers."""

from __future__ import annotations

import re
import uuid
from functools import partial
from pathlib import Path

import pytest

from touchstone.contacts.v1.touchpoint_pb2 import Touchpoint
from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.log_reader import read_log
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.ops.publisher import TouchpointPublisher, new_touchpoint

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
GUIDE = README.parent / "docs" / "publishing.md"  # shows the same example ("From Python")
IMPORT = "from touchstone.tools.ops.publisher import TouchpointPublisher, new_touchpoint"


def readme_example() -> str:
    """The python block that publishes with touchstone.tools.ops.publisher (the publishing
    guide shows the same one: this test holds both)."""
    found = [
        [b for b in re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL) if IMPORT in b]
        for page in (README, GUIDE)
    ]
    (example,), (in_guide,) = found
    assert in_guide == example
    return example


def test_the_readme_publisher_example_runs_and_its_touchpoint_arrives(infra: Settings) -> None:
    topic = f"readme.touchpoints.{uuid.uuid4().hex[:8]}"  # not the services' intake
    ensure_topics(infra.kafka, [topic], 1)
    example = readme_example().replace("127.0.0.1:19092", infra.kafka_bootstrap)
    code = example.replace(IMPORT, "")  # the names below, the second on its own topic
    exec(  # the README's own example
        code,
        {
            "TouchpointPublisher": partial(TouchpointPublisher, topic=topic),
            "new_touchpoint": new_touchpoint,
        },
    )

    (record,) = read_log(infra.kafka, [topic], lambda r: True)
    touchpoint = Touchpoint.FromString(record.value or b"")
    assert (touchpoint.site_id, touchpoint.stage) == ("hcm-01", "enter_store")
    assert record.key == b"loyalty_card:LC-000123"
    assert dict(record.headers)["ce_type"] == b"touchstone.contacts.v1.Touchpoint"
