"""Help texts for the terminal: docstrings' inline markup made plain, paragraphs kept.

Subcommands may use their module docstring as ``description=``; reST and Markdown inline
markup (````x````, ```x```, ``:role:`x```) would show raw in ``--help``. Every parser of
``muse-explore`` is a :class:`Parser`, whose formatter strips that markup and keeps blank-line
paragraphs, and never splits a word at a hyphen (``muse-painn-graphene`` stays whole).
"""

from __future__ import annotations

import argparse
import re
import textwrap

_ROLE = re.compile(r":[a-z]+:`([^`]*)`")  # :class:`x`, :func:`~a.b` (shown as b)
_LITERAL = re.compile(r"``([^`]*)``")  # ``x`` (reST)
_CODE = re.compile(r"`([^`]*)`")  # `x` (Markdown, reST's default role)


def _role_target(match: re.Match) -> str:
    target = match[1]
    return target[1:].rpartition(".")[2] if target.startswith("~") else target


def plain(text: str) -> str:
    """``text`` with inline markup removed: ````x````, ```x``` and ``:role:`x``` become x."""
    return _CODE.sub(r"\1", _LITERAL.sub(r"\1", _ROLE.sub(_role_target, text)))


class PlainHelpFormatter(argparse.HelpFormatter):
    """argparse's default formatter on :func:`plain` text, paragraph by paragraph."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for paragraph in re.split(r"\n\s*\n", plain(text).strip()):
            lines += ["", *self._split_lines(paragraph, width - len(indent))]
        return "\n".join(indent + line if line else line for line in lines[1:])

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(
            " ".join(plain(text).split()), width, break_on_hyphens=False, break_long_words=False
        )


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose help is plain text; its subparsers are ``Parser``s too."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", PlainHelpFormatter)
        super().__init__(*args, **kwargs)
