"""What the authentication tests, and others, use to call as someone: a token signed by the
deployment's key, and how a call ended."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc

from touchstone.platform.runtime.settings import Settings
from touchstone.tools.ops.dev_keys import mint


def signed(settings: Settings, signing_key: Path | None = None, **changes: object) -> str:
    claims: dict = {
        "subject": "test-manager",
        "roles": ["manager"],
        "issuer": settings.auth_issuer,
        "audience": settings.auth_audience,
    }
    claims.update(changes)
    key = signing_key or settings.auth_signing_key
    assert key is not None
    return mint(key, **claims)


def code_and_details(call: Callable[[], object]) -> tuple[str, str]:
    try:
        call()
    except grpc.RpcError as error:
        return error.code().name, error.details() or ""
    return "OK", ""
