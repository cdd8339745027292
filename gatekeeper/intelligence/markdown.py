"""User text made safe to put in generated Markdown: shown as written, never as markup.

Titles, summaries, messages, owners and labels come from whoever wrote the
incident. In a report they must read as text: ``<img src=x onerror=alert(1)>``
must not become an image (or run anything) where the Markdown is rendered, a
``|`` must not split a table cell, ``*`` or ``[x](y)`` must not format or link.
"""

from __future__ import annotations

import re

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# CommonMark lets any ASCII punctuation be backslash-escaped; these are the
# ones that start inline markup (emphasis, code, links, images, strike, tables).
_MARKUP = frozenset("\\`*_[]|~!")
_SPACE = re.compile(r"\s+")
_LINE_START = re.compile(r"^(#|=|\+|-|\d+(?=[.)]))")


def text(value: str) -> str:
    """``value`` as inline Markdown text: one line, markup and HTML escaped."""
    out = []
    for char in _SPACE.sub(" ", value).strip():
        if char in _HTML:
            out.append(_HTML[char])
        elif char in _MARKUP:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def paragraph(value: str) -> str:
    """``value`` as a paragraph of its own: :func:`text`, and no heading or list start."""
    escaped = text(value)
    match = _LINE_START.match(escaped)
    if match is None:
        return escaped
    if match.group(1)[0].isdigit():  # "1." would start a list: escape the dot
        end = match.end()
        return escaped[:end] + "\\" + escaped[end:]
    return "\\" + escaped
