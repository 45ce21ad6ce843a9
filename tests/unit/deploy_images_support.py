"""What the image and compose tests share: where the deployment files are, the house's image
rules, and the build arguments compose passes for each service."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from touchstone.platform.runtime.settings import (
    DEFAULT_GRPC_PORTS,
    DEFAULT_HTTP_PORTS,
    DEFAULT_METRICS_PORTS,
)

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DOCKERFILE = ROOT / "deploy" / "docker" / "tools.Dockerfile"
SERVICE_DOCKERFILE = ROOT / "deploy" / "docker" / "service.Dockerfile"
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
COMPOSE_README = ROOT / "deploy" / "compose" / "README.md"
COMPOSE_SCHEMA = ROOT / "deploy" / "schemas" / "compose-spec.json"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
PINNED_TAG = re.compile(r"^[\w./-]+:v?\d+(\.\d+)+[\w.-]*(@sha256:[0-9a-f]{64})?$")
HARDENED = {"read_only": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"]}


def build_args(service: str) -> dict[str, str]:
    """What compose (and a docker build by hand) passes to build the service's image."""
    return {
        "SERVICE": service,
        "GRPC_PORT": str(DEFAULT_GRPC_PORTS[service]),
        "HTTP_PORT": str(DEFAULT_HTTP_PORTS[service]),
        "METRICS_PORT": str(DEFAULT_METRICS_PORTS[service]),
    }
