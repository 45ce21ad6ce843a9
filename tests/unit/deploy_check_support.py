"""What the deploy-check tests share: the checker (deploy/check_manifests.py, loaded as when run
as a script), a copy of the tree to break, and small helpers."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
NO_KUBECTL = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not on PATH: cannot build the overlays"
)


def _checker() -> ModuleType:
    sys.path.insert(0, str(ROOT / "deploy"))  # as when run as a script: its policy module
    spec = importlib.util.spec_from_file_location(
        "check_manifests", ROOT / "deploy/check_manifests.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_manifests"] = module
    spec.loader.exec_module(module)
    return module


cm = _checker()


def copied_tree(tmp_path: Path) -> Path:
    """A copy of deploy/, .yamllint.yaml and the shipped config files to break."""
    shutil.copytree(
        ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / ".yamllint.yaml", tmp_path)
    for shipped in cm.COPIES:
        src, dst = ROOT / shipped, tmp_path / shipped
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    return tmp_path


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace old by new in the file; old must be there."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def run(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = cm.check(root)
    return status, capsys.readouterr().out.splitlines()
