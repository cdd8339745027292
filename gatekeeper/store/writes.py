"""What a write hands a store (:class:`WriteBatch`) and what a compaction answers.

Its own module so that a read (``gatekeeper check``) never defines them: a
dataclass costs its generated methods' compilation at every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gatekeeper.models import Artifact, Event, Incident

if TYPE_CHECKING:
    from gatekeeper.artifacts import ArtifactFile
    from gatekeeper.store.notes import Note
    from gatekeeper.store.patch import IncidentPatch


@dataclass(frozen=True)
class WriteBatch:
    """Records written together: all of them or none (one transaction / one lock).

    ``new_incidents`` must not exist yet (else :class:`~gatekeeper.errors.Conflict`);
    ``updated_incidents`` must exist (else :class:`~gatekeeper.errors.NotFound`).
    ``patches`` are applied, in order, to the latest stored version of their
    incident under the writer's lock (see :mod:`gatekeeper.store.patch`); the
    incident must exist (else ``NotFound``; with ``upsert`` it is skipped).
    Events and artifacts are appended; each of ``notes`` only if it is new
    (see :class:`~gatekeeper.store.notes.Note`). ``files`` are the bytes of ``artifacts``: staged
    first, published (renamed into place) only if the batch commits.
    """

    new_incidents: tuple[Incident, ...] = ()
    updated_incidents: tuple[Incident, ...] = ()
    events: tuple[Event, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    patches: tuple[IncidentPatch, ...] = ()
    files: tuple[ArtifactFile, ...] = ()
    notes: tuple[Note, ...] = ()

    def is_empty(self) -> bool:
        return not (
            self.new_incidents
            or self.updated_incidents
            or self.events
            or self.artifacts
            or self.patches
            or self.notes
        )


@dataclass(frozen=True)
class CompactResult:
    lines_before: int
    lines_after: int
