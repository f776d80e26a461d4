"""Every relative link in the project's Markdown files leads somewhere.

README.md, docs/, benchmarks/README.md and the model cards link to each other's sections by
file and heading; a heading renamed or a section moved to another file breaks such links
silently. Each relative link ``[text](path#anchor)`` must name a file that exists, and an
anchor that one of that file's headings produces (GitHub's rule: lower case, punctuation
dropped, spaces to hyphens, ``-1``, ``-2`` ... for repeated headings).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: ``[text](target)`` or ``[text](target "title")``; the text may hold one level of brackets.
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"```.*?```", flags=re.S)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", flags=re.M)


def markdown_files() -> list[Path]:
    """The repository's Markdown files, outside hidden folders (.venv, .git, ...)."""
    return sorted(
        p
        for p in ROOT.rglob("*.md")
        if not any(
            part.startswith(".") or part == "node_modules" for part in p.relative_to(ROOT).parts
        )
    )


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[`*~]", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of every heading of a Markdown text (outside code fences)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for m in HEADING.finditer(FENCE.sub("", text)):
        s = slug(m.group(1))
        n = seen.get(s, 0)
        seen[s] = n + 1
        found.add(s if n == 0 else f"{s}-{n}")
    return found


def broken_links(path: Path, text: str | None = None) -> list[str]:
    """The relative links of one Markdown file that lead nowhere, with the reason."""
    text = path.read_text() if text is None else text
    problems = []
    for m in LINK.finditer(FENCE.sub("", text)):
        target = m.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            problems.append(f"{target}: no file {dest}")
            continue
        if anchor and dest.suffix == ".md":
            dest_text = text if dest == path else dest.read_text()
            if anchor not in anchors(dest_text):
                problems.append(f"{target}: no heading in {dest.name} gives #{anchor}")
    return problems


def test_there_are_files_and_links_to_check():
    files = markdown_files()
    names = {p.relative_to(ROOT).as_posix() for p in files}
    assert {"README.md", "benchmarks/README.md", "docs/api.md"} <= names
    assert sum(len(LINK.findall(p.read_text())) for p in files) > 50


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_somewhere(path):
    assert broken_links(path) == []


def test_the_check_finds_a_missing_file_a_missing_anchor_and_keeps_good_links(tmp_path):
    (tmp_path / "other.md").write_text(
        "# Other\n\n## Molecule–graphene profiles\n\n## A?\n\n## A?\n"
    )
    page = tmp_path / "page.md"
    text = (
        "# Page\n\n[ok](other.md#moleculegraphene-profiles) [ok](other.md#a-1) [ok](#page)"
        " [ok](https://example.org/x#y)\n\n[bad](gone.md) [bad](other.md#profiles)"
        " [bad](#nowhere)\n\n```\n[in code](ignored.md)\n```\n"
    )
    page.write_text(text)
    problems = broken_links(page)
    assert len(problems) == 3, problems
    assert "gone.md" in problems[0] and "#profiles" in problems[1] and "#nowhere" in problems[2]
