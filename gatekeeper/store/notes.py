"""Notes: events appended only if they say something new (:class:`Note`).

Its own module so that a read (``gatekeeper check``) never builds the model.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gatekeeper.models import Event


class Note(BaseModel):
    """An event appended only if it says something new about its incident.

    ``event`` is appended unless the incident's last event of the same type
    (by ``ts``, ``recorded_at``, ``id``) has the same ``meta[same]``. Each
    backend looks and appends in one step, under the writer's lock (JSONL) or
    in the write transaction with the incident's row locked (Postgres), so
    writers noting the same thing at once add one event. The incident must
    exist (else :class:`~gatekeeper.errors.NotFound`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: Event
    same: str

    def is_new(self, last: Event | None) -> bool:
        """Whether to append, given the incident's last event of the type (or ``None``)."""
        if last is None:
            return True
        return bool(last.meta.get(self.same) != self.event.meta.get(self.same))
