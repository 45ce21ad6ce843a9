"""make contracts-check: buf lint is clean on protos/, and buf breaking fails, naming the field,
when a released contract changes in a way that breaks its clients."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "tools" / "buf" / "node_modules" / ".bin" / "buf"
RELEASES = sorted((ROOT / "protos" / "releases").glob("v*.binpb"))


@pytest.fixture
def buf() -> Path:
    if not BUF.exists():
        pytest.fail("buf is not installed: `make contracts-check` installs it (make test does)")
    return BUF


def run(buf: Path, where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(buf), *args], cwd=where, capture_output=True, text=True, timeout=120)


def test_the_contracts_are_lint_clean(buf: Path) -> None:
    done = run(buf, ROOT, "lint")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_renamed_field_breaks_the_released_contract(buf: Path, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "protos", tmp_path / "protos")
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    touchpoint = tmp_path / "protos/touchstone/contacts/v1/touchpoint.proto"
    text = touchpoint.read_text()
    assert "string stage = " in text
    touchpoint.write_text(text.replace("string stage = ", "string step = "))

    done = run(buf, tmp_path, "breaking", "--against", str(RELEASES[-1]))

    assert done.returncode != 0
    assert 'changed name from "stage" to "step"' in done.stdout


def test_an_added_field_breaks_nothing(buf: Path, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "protos", tmp_path / "protos")
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    touchpoint = tmp_path / "protos/touchstone/contacts/v1/touchpoint.proto"
    text = touchpoint.read_text()
    touchpoint.write_text(
        text.replace("message Touchpoint {", "message Touchpoint {\n  string added_later = 99;", 1)
    )

    done = run(buf, tmp_path, "breaking", "--against", str(RELEASES[-1]))

    assert done.returncode == 0, done.stdout + done.stderr
