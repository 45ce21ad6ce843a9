"""The images, checked without a Docker engine (the compose deployment: test_deploy_compose.py).

Each service image is rebuilt here as a folder from the service Dockerfile's COPY lines, with the
service's build arguments (through .dockerignore), and imported and assembled by a fresh
interpreter that cannot see the checkout nor the `local` and `dev` extras: what the image copies is
all the service needs. The compose file is validated against the Compose specification's JSON
schema (deploy/schemas/compose-spec.json, compose-spec/compose-spec schema/compose-spec.json at
commit 00655e22) and held to the house rules.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.unit.deploy_images_support import (
    PINNED_TAG,
    PYPROJECT,
    ROOT,
    SERVICE_DOCKERFILE,
    TOOLS_DOCKERFILE,
    VERSION,
    build_args,
)
from touchstone.platform.runtime.settings import (
    DEFAULT_GRPC_PORTS,
    DEFAULT_HTTP_PORTS,
    DEFAULT_METRICS_PORTS,
    SERVICES,
)

Instruction = tuple[str, str]  # keyword, arguments


def service_stage(service: str) -> list[Instruction]:
    """The final stage of the service Dockerfile, as built for the service."""
    return final_stage(SERVICE_DOCKERFILE, build_args(service))


def instructions(path: Path, args: dict[str, str] | None = None) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped, and the build
    arguments given put in for ${NAME}."""
    found: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or not (line or pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        for name, value in (args or {}).items():
            rest = rest.replace("${" + name + "}", value)
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    return found


def final_stage(path: Path, args: dict[str, str] | None = None) -> list[Instruction]:
    steps = instructions(path, args)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def base_images(path: Path) -> list[str]:
    """Every FROM's image that is not an earlier stage of the same file."""
    stages: set[str] = set()
    images = []
    for keyword, args in instructions(path):
        if keyword == "FROM":
            words = args.split()
            if words[0] not in stages:
                images.append(words[0])
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
    return images


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in stage:
        if keyword == "ENV":
            for word in shlex.split(args):
                name, _, value = word.partition("=")
                env[name] = value
    return env


def context_copies(stage: list[Instruction]) -> list[tuple[str, str]]:
    """(source, destination) of each COPY from the build context (not from another stage)."""
    copies = []
    for keyword, args in stage:
        if keyword != "COPY":
            continue
        words = shlex.split(args)
        if any(w.startswith("--from") for w in words):
            continue
        *sources, destination = [w for w in words if not w.startswith("--")]
        copies.extend((source, destination) for source in sources)
    return copies


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path, or a folder above it, decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    verdict = False
    for pattern in patterns:
        glob = pattern.removeprefix("!").strip("/")
        globs = {glob, glob.replace("**/", "")}
        if any(fnmatch.fnmatchcase(c, g) for c in candidates for g in globs):
            verdict = not pattern.startswith("!")
    return verdict


def build_tree(stage: list[Instruction], root: Path) -> None:
    """Lay out under root what the final stage copies from the context, as Docker would."""
    patterns = dockerignore()
    for source, destination in context_copies(stage):
        origin = ROOT / source
        target = root / destination.lstrip("/")
        files = sorted(origin.rglob("*")) if origin.is_dir() else [origin]
        sent = [
            f
            for f in files
            if f.is_file() and not ignored(f.relative_to(ROOT).as_posix(), patterns)
        ]
        assert sent, f"COPY {source} sends nothing"
        for file in sent:
            to = target / file.relative_to(origin) if origin.is_dir() else target
            if destination.endswith("/") and not origin.is_dir():
                to = target / file.name
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, to)


def extras_modules() -> list[str]:
    """Top-level modules that only the `local` and `dev` extras' distributions provide (and no
    runtime dependency needs: those are in the images' lock)."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    in_images = (ROOT / "requirements" / "service.lock").read_text().lower().replace("_", "-")
    names = {
        re.split(r"[\s<>=!~\[;]", spec, maxsplit=1)[0].lower().replace("_", "-")
        for spec in [*extras["local"], *extras["dev"]]
    }
    wanted = {name for name in names if f"\n{name}==" not in in_images}
    return sorted(
        module
        for module, dists in metadata.packages_distributions().items()
        if all(d.lower().replace("_", "-") in wanted for d in dists)
    )


PROBE = """
import importlib, importlib.abc, json, sys
from pathlib import Path

args = json.loads(sys.argv[1])
checkout = Path(args["checkout"]).resolve()
sys.path[:] = [p for p in sys.path if not Path(p or ".").resolve().is_relative_to(checkout)]
# the editable install's finders would find the checkout's modules: only the image is seen
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in repr(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in repr(h)]


class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in args["refused"]:
            raise ImportError(f"{name} belongs to an extra the image leaves out")
        return None


sys.meta_path.insert(0, NotInTheImage())
for name in args["imports"]:
    importlib.import_module(name)
if args["assemble"]:
    from touchstone.platform.runtime.settings import Settings

    class Unopened:  # a store whose pool never opens: assembling reads config files, no I/O
        def __getattr__(self, name):
            return None

    spec = importlib.import_module(f"touchstone.{args['assemble']}.service").SPEC
    settings = Settings.from_env({})
    spec.handler(Unopened(), settings)
    spec.servicer(Unopened(), settings)
    if spec.background:
        spec.background(Unopened(), settings)
    for source in spec.migration_sources:
        assert source.is_file() or any(source.glob("*.sql")), f"no migrations at {source}"
loaded = [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
print(json.dumps(sorted({f for f in loaded if Path(f).resolve().is_relative_to(checkout)})))
"""


def probe(image_root: Path, imports: list[str], assemble: str | None = None) -> list[str]:
    """Import (and assemble) in a fresh interpreter that sees image_root, not the checkout;
    the files under the repository it loaded."""
    args = {
        "checkout": str(ROOT / "services"),
        "refused": extras_modules(),
        "imports": imports,
        "assemble": assemble,
    }
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(image_root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-P", "-c", PROBE, json.dumps(args)],
        cwd=image_root.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_image_carries_everything_its_service_imports(
    service: str, tmp_path: Path
) -> None:
    stage = service_stage(service)
    pythonpath = env_of(stage)["PYTHONPATH"]
    build_tree(stage, tmp_path)
    image_root = tmp_path / pythonpath.lstrip("/")

    from_checkout = probe(
        image_root,
        [f"touchstone.{service}.service", "touchstone.platform.runtime.health"],
        assemble=service,
    )

    assert from_checkout == [], "loaded from the checkout, not the image"
    namespace = image_root / "touchstone"
    assert {p.name for p in image_root.iterdir()} == {"touchstone"}
    assert {p.name for p in namespace.iterdir()} == {
        "platform",
        "shared_kernel",
        "annotations",
        "audit",
        *SERVICES,
    }
    for other in set(SERVICES) - {service}:  # another service: its contract, none of its code
        assert {p.name for p in (namespace / other).iterdir()} == {"__init__.py", "v1"}
    assert not list(image_root.rglob("__pycache__")), ".dockerignore lets caches in"


def test_the_operator_commands_need_neither_the_local_nor_the_dev_extra(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for root in (ROOT / "services").glob("*/touchstone"):  # the namespace, as pip installs it
        shutil.copytree(root, site / "touchstone", dirs_exist_ok=True)
    commands = [
        "touchstone.tools.cli",
        "touchstone.tools.dev.stack",
        "touchstone.tools.dev.simulator",
    ]

    from_checkout = probe(site, [*commands, *[f"touchstone.{s}.service" for s in SERVICES]])

    assert from_checkout == []


@pytest.mark.parametrize("path", [SERVICE_DOCKERFILE, TOOLS_DOCKERFILE])
def test_an_image_is_pinned_labelled_and_runs_as_nobody_in_particular(path: Path) -> None:
    stage = final_stage(path)
    users = [args for keyword, args in stage if keyword == "USER"]
    labels = " ".join(args for keyword, args in stage if keyword == "LABEL")

    assert all(PINNED_TAG.match(image) for image in base_images(path)), base_images(path)
    assert users and re.fullmatch(r"[1-9]\d{3,}(:[1-9]\d{3,})?", users[-1]), users
    assert f'org.opencontainers.image.version="{VERSION}"' in labels
    assert "org.opencontainers.image.title=" in labels
    assert "local]" not in path.read_text()  # no `pip install .[local]`


@pytest.mark.parametrize("path", [SERVICE_DOCKERFILE, TOOLS_DOCKERFILE])
def test_an_image_installs_the_locked_runtime_dependencies_checking_their_hashes(
    path: Path,
) -> None:
    steps = instructions(path)
    installs = [args for keyword, args in steps if keyword == "RUN" and "pip install" in args]

    assert ("COPY", "requirements/service.lock ./") in steps
    assert "--require-hashes --no-deps" in installs[0] and installs[0].endswith("service.lock")
    assert all("--no-deps" in args for args in installs)  # nothing resolved at build time


def stage_named(path: Path, name: str) -> list[Instruction]:
    """The instructions of the Dockerfile's stage `FROM ... AS name`."""
    steps = instructions(path)
    start = next(i for i, (k, a) in enumerate(steps) if k == "FROM" and a.endswith(f" AS {name}"))
    end = next((i for i in range(start + 1, len(steps)) if steps[i][0] == "FROM"), len(steps))
    return steps[start:end]


def test_the_console_image_runs_the_console_as_nobody_and_probes_it() -> None:
    stage = dict(stage_named(TOOLS_DOCKERFILE, "console"))
    assert stage["FROM"] == "runtime AS console"  # the tools image's layers
    assert stage["ENTRYPOINT"] == '["touchstone", "console"]'
    assert stage["EXPOSE"] == "8080"
    assert "/healthz" in stage["HEALTHCHECK"]
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", stage["USER"])
    assert 'org.opencontainers.image.title="touchstone-console"' in stage["LABEL"]
    assert f'org.opencontainers.image.version="{VERSION}"' in stage["LABEL"]
    assert env_of(stage_named(TOOLS_DOCKERFILE, "console"))["TOUCHSTONE_CONSOLE_HOST"] == "0.0.0.0"


def test_every_image_builds_on_one_python() -> None:
    paths = [SERVICE_DOCKERFILE, TOOLS_DOCKERFILE]
    assert len({image for path in paths for image in base_images(path)}) == 1


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_image_probes_its_own_health_and_runs_its_service(service: str) -> None:
    stage = service_stage(service)
    steps = dict(stage)

    assert env_of(stage)["TOUCHSTONE_SERVICE"] == service  # what the entrypoint and probe run
    probe = 'exec python -m touchstone.platform.runtime.health \\"$TOUCHSTONE_SERVICE\\"'
    assert steps["HEALTHCHECK"].endswith(f'["/bin/sh", "-c", "{probe}"]')
    run = 'exec python -m \\"touchstone.$TOUCHSTONE_SERVICE\\"'
    assert steps["ENTRYPOINT"] == f'["/bin/sh", "-c", "{run}"]'
    assert steps["EXPOSE"].split() == [
        str(DEFAULT_GRPC_PORTS[service]),
        str(DEFAULT_METRICS_PORTS[service]),
        str(DEFAULT_HTTP_PORTS[service]),
    ]
    assert f'org.opencontainers.image.title="touchstone-{service}"' in steps["LABEL"]
    assert env_of(stage)["TOUCHSTONE_GRPC_HOST"] == "0.0.0.0"


def test_one_dockerfile_builds_every_service_and_refuses_a_build_that_names_none() -> None:
    stage = final_stage(SERVICE_DOCKERFILE)  # no arguments: ${SERVICE} as written
    copy = "services/${SERVICE}/touchstone/${SERVICE}/ /app/touchstone/${SERVICE}/"
    assert ("COPY", copy) in stage
    (check,) = [args for keyword, args in stage if keyword == "RUN"]
    assert check.startswith('test -f "/app/touchstone/${SERVICE}/__main__.py"')
    for service in SERVICES:
        assert (ROOT / "services" / service / "touchstone" / service / "__main__.py").exists()


def test_the_build_context_is_the_package_sources_only() -> None:
    patterns = dockerignore()
    sent = [
        "pyproject.toml",
        "README.md",
        "requirements/service.lock",
        "services/platform/touchstone/shared_kernel/maps/phone.yaml",
    ]
    kept_out = [
        ".venv/bin/python",
        ".git/HEAD",
        ".touchstone/logs/journey.log",
        "tests/unit/test_deploy_images.py",
        "deploy/k8s/base/kustomization.yaml",
        "services/platform/touchstone.egg-info/PKG-INFO",
        "services/journey/touchstone/journey/__pycache__/api.cpython-311.pyc",
        "requirements/dev.lock",
        ".mypy_cache/3.11/journey/api.data.json",
    ]

    assert [p for p in sent if ignored(p, patterns)] == []
    assert [p for p in kept_out if not ignored(p, patterns)] == []


# compose
