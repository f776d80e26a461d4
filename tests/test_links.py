"""Every relative link in the project's Markdown files leads somewhere.

README.md, docs/, benchmarks/README.md and the model cards link to each other's sections by
file and heading; a heading renamed or a section moved to another file breaks such links
silently. Each relative link ``[text](path#anchor)`` must name a file that exists, and an
anchor that one of that file's headings produces (GitHub's rule: lower case, punctuation
dropped, spaces to hyphens, ``-1``, ``-2`` ... for repeated headings).
"""

from __future__ import annotations

import functools
import html
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: ``[text](target)`` or ``[text](target "title")``; the text may hold one level of brackets.
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"```.*?```", flags=re.S)
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", flags=re.M)


def markdown_files() -> list[Path]:
    """The repository's Markdown files, outside hidden folders (.venv, .git, ...)."""
    return sorted(
        p
        for p in ROOT.rglob("*.md")
        if not any(
            part.startswith(".") or part == "node_modules" for part in p.relative_to(ROOT).parts
        )
    )


def _kept(c: str) -> bool:
    """github-slugger keeps letters, marks, digits, letter numbers, connectors, space, hyphen."""
    category = unicodedata.category(c)
    return c in " -" or category[0] in "LM" or category in ("Nd", "Nl", "Pc")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (github-slugger on the rendered text)."""
    text = re.sub(r"<[A-Za-z/][^>]*>", "", heading)  # HTML tags, not a literal "<"
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    text = html.unescape(re.sub(r"[`*~]", "", text)).strip().lower()
    return "".join(c for c in text if _kept(c)).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of every heading of a Markdown text (outside code fences); a repeated
    heading gets -1, -2, ... as github-slugger numbers them."""
    seen: dict[str, int] = {}
    for m in HEADING.finditer(FENCE.sub("", text)):
        base = result = slug(m.group(1))
        while result in seen:
            seen[base] += 1
            result = f"{base}-{seen[base]}"
        seen[result] = 0
    return set(seen)


@functools.cache
def tracked() -> frozenset[Path] | None:
    """The files git tracks (and their folders), or None outside a git work tree."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    files = [ROOT / name for name in out.split("\0") if name]
    return frozenset(files) | frozenset(p for f in files for p in f.parents)


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
        if not dest.is_relative_to(ROOT) and path.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
            continue
        files = tracked()
        if files is not None and path.is_relative_to(ROOT) and dest not in files:
            problems.append(f"{target}: {dest} is not in git (a clone would not have it)")
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


def test_slugs_follow_github():
    assert slug("Hessians (eV/Å²)") == "hessians-evå"  # superscripts go, letters stay
    assert slug("E_int < 4 Å and > 10 Å") == "e_int--4-å-and--10-å"  # a literal < is text
    assert slug("Fish &amp; chips") == "fish--chips"
    assert slug("See [the docs](x.md#y) `now`") == "see-the-docs-now"
    assert anchors("# A\n## A\n## A-1\n") == {"a", "a-1", "a-1-1"}
    assert anchors("# A\n## A-1\n## A\n") == {"a", "a-1", "a-2"}
