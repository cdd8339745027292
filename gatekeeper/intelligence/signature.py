"""Title normalisation for recurrence: the same problem gets the same signature.

Like Sentry's message grouping, the variable parts of a title are folded to
placeholders before comparing: URLs, e-mails, UUIDs, IP addresses, Kubernetes
pod names and hash suffixes, hex, quoted strings, durations and numbers.
Case and whitespace never matter. Order matters: a URL holds numbers, an IPv6
address holds hex, so the wider patterns run first.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), placeholder)
    for pattern, placeholder in (
        (r"\b[a-z][a-z0-9+.-]*://\S+", "<url>"),
        (r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", "<email>"),
        (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>"),
        (r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b", "<ip>"),
        (r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", "<ip>"),
        # k8s: deployment-<replicaset hash>-<pod suffix>, statefulset-<n>, job-<hash>
        (r"\b([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-[a-z0-9]{8,10}-[a-z0-9]{5}\b", r"\1-<pod>"),
        (r"\b([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-(?=[a-z0-9]*\d)[a-z0-9]{5}\b", r"\1-<pod>"),
        (
            r"\b(?:0x)?[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b|\b(?:0x)?[0-9a-f]*[a-f][0-9a-f]*\d[0-9a-f]*\b",
            "<hex>",
        ),
        (r"\"[^\"]*\"|'[^']*'|`[^`]*`", "<str>"),
        (
            r"\b\d+(?:\.\d+)?\s?(?:ms|us|µs|ns|s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?|d|days?)\b",
            "<duration>",
        ),
        (r"\d+(?:[.,]\d+)*", "<n>"),
    )
)
_SPACE = re.compile(r"\s+")


def normalise_title(title: str) -> str:
    """The title with its variable parts replaced by placeholders, lower-cased."""
    text = title
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return _SPACE.sub(" ", text).strip().lower()


def signature(service: str, title: str) -> str:
    """``service: normalised title`` — what recurrence groups by."""
    return f"{service}: {normalise_title(title)}"


def title_tokens(title: str) -> frozenset[str]:
    """The normalised title's words, for the Jaccard similarity of correlation."""
    return frozenset(re.findall(r"<\w+>|[a-z0-9_]+", normalise_title(title)))
