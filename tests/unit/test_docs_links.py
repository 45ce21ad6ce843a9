"""The front pages' links lead somewhere: every relative link in the README and deploy's READMEs
names a file that exists, and an anchor one of its headings. (docs/ itself is checked by
`mkdocs build --strict` in `make test`: every link and anchor between its pages.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "deploy").rglob("README.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """A heading's anchor as MkDocs and GitHub make it (lower case, punctuation dropped)."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"\s+", "-", text)


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, flags=re.MULTILINE)}


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return [link for link in LINK.findall(text) if not re.match(r"[a-z]+:", link)]


def broken_links(page: Path) -> list[str]:
    """Each relative link of the page that leads nowhere, and why."""
    broken = []
    for link in relative_links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{link}: no heading #{anchor} in {target.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_names_a_file_and_a_heading_that_exist(page: Path) -> None:
    assert broken_links(page) == []


def test_the_readme_is_a_front_page_that_links_every_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    guides = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    linked = {Path(link.partition("#")[0]).name for link in relative_links(ROOT / "README.md")}
    assert guides - linked == set()


def test_a_broken_link_or_anchor_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A page\n\n## Its part\n")
    page = tmp_path / "README.md"
    page.write_text("[ok](a.md#its-part) [gone](b.md) [no part](a.md#other) [web](https://x.y)\n")
    assert broken_links(page) == ["b.md: no such file", "a.md#other: no heading #other in a.md"]
