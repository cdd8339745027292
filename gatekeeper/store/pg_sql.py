"""The SQL the PostgreSQL backend runs, kept apart from the code that runs it.

Upserts (import and journal replay) must be idempotent: a row is only rewritten
when the incoming version is at least as new *and* differs, so replaying a
batch twice changes nothing, and an older version never overwrites a newer one.
"""

from __future__ import annotations

from typing import LiteralString

_INCIDENT_COLUMNS: LiteralString = (
    "id, service, env, severity, status, title, summary, labels, started_at, created_at,"
    " updated_at, resolved_at, closed_at, created_by"
)
_INCIDENT_VALUES: LiteralString = (
    "%(id)s, %(service)s, %(env)s, %(severity)s, %(status)s, %(title)s, %(summary)s,"
    " %(labels)s, %(started_at)s, %(created_at)s, %(updated_at)s, %(resolved_at)s,"
    " %(closed_at)s, %(created_by)s"
)
_INCIDENT_SET: LiteralString = (
    "service = %(service)s, env = %(env)s, severity = %(severity)s, status = %(status)s,"
    " title = %(title)s, summary = %(summary)s, labels = %(labels)s,"
    " started_at = %(started_at)s, created_at = %(created_at)s, updated_at = %(updated_at)s,"
    " resolved_at = %(resolved_at)s, closed_at = %(closed_at)s, created_by = %(created_by)s"
)
_INCIDENT_SET_EXCLUDED: LiteralString = (
    "service = excluded.service, env = excluded.env, severity = excluded.severity,"
    " status = excluded.status, title = excluded.title, summary = excluded.summary,"
    " labels = excluded.labels, started_at = excluded.started_at,"
    " created_at = excluded.created_at, updated_at = excluded.updated_at,"
    " resolved_at = excluded.resolved_at, closed_at = excluded.closed_at,"
    " created_by = excluded.created_by"
)
_EVENT_COLUMNS: LiteralString = "id, incident_id, ts, recorded_at, type, message, meta, actor"
_ARTIFACT_COLUMNS: LiteralString = (
    "incident_id, name, kind, size_bytes, sha256, created_at, created_by"
)

SELECT_INCIDENT: LiteralString = f"SELECT {_INCIDENT_COLUMNS} FROM incidents"
SELECT_EVENT: LiteralString = f"SELECT {_EVENT_COLUMNS} FROM incident_events"
SELECT_ARTIFACT: LiteralString = f"SELECT {_ARTIFACT_COLUMNS} FROM incident_artifacts"

EXISTING_IDS: LiteralString = "SELECT id FROM incidents WHERE id = ANY(%s) ORDER BY id LIMIT 1"
INSERT_INCIDENT: LiteralString = (
    f"INSERT INTO incidents ({_INCIDENT_COLUMNS}) VALUES ({_INCIDENT_VALUES})"
)
INSERT_INCIDENT_IF_NEW: LiteralString = INSERT_INCIDENT + " ON CONFLICT (id) DO NOTHING"
UPDATE_INCIDENT: LiteralString = f"UPDATE incidents SET {_INCIDENT_SET} WHERE id = %(id)s"
_INCIDENT_FIELDS: tuple[LiteralString, ...] = tuple(_INCIDENT_COLUMNS.replace(" ", "").split(","))
UPSERT_INCIDENT: LiteralString = (
    INSERT_INCIDENT + f" ON CONFLICT (id) DO UPDATE SET {_INCIDENT_SET_EXCLUDED}"
    " WHERE incidents.updated_at <= excluded.updated_at"
    f" AND ({', '.join(f'incidents.{c}' for c in _INCIDENT_FIELDS)}) IS DISTINCT FROM"
    f" ({', '.join(f'excluded.{c}' for c in _INCIDENT_FIELDS)})"
)

INSERT_EVENT: LiteralString = (
    f"INSERT INTO incident_events ({_EVENT_COLUMNS}) VALUES (%(id)s, %(incident_id)s, %(ts)s,"
    " %(recorded_at)s, %(type)s, %(message)s, %(meta)s, %(actor)s)"
)
INSERT_EVENT_UPSERT: LiteralString = INSERT_EVENT + " ON CONFLICT (id) DO NOTHING"

_INSERT_ARTIFACT: LiteralString = (
    f"INSERT INTO incident_artifacts ({_ARTIFACT_COLUMNS}) VALUES (%(incident_id)s, %(name)s,"
    " %(kind)s, %(size_bytes)s, %(sha256)s, %(created_at)s, %(created_by)s)"
    " ON CONFLICT (incident_id, name) DO UPDATE SET kind = excluded.kind,"
    " size_bytes = excluded.size_bytes, sha256 = excluded.sha256,"
    " created_at = excluded.created_at, created_by = excluded.created_by, seq = DEFAULT"
)
# Attaching a file under an existing name replaces it: the newest metadata wins.
REPLACE_ARTIFACT: LiteralString = _INSERT_ARTIFACT
UPSERT_ARTIFACT: LiteralString = (
    _INSERT_ARTIFACT + " WHERE incident_artifacts.created_at <= excluded.created_at"
    " AND (incident_artifacts.kind, incident_artifacts.size_bytes, incident_artifacts.sha256,"
    " incident_artifacts.created_at, incident_artifacts.created_by) IS DISTINCT FROM"
    " (excluded.kind, excluded.size_bytes, excluded.sha256, excluded.created_at,"
    " excluded.created_by)"
)

SELECT_EVENTS_OF: LiteralString = (
    SELECT_EVENT + " WHERE incident_id = %s ORDER BY ts, recorded_at, id"
)
SELECT_EVENTS_OF_MANY: LiteralString = (
    SELECT_EVENT + " WHERE incident_id = ANY(%s) ORDER BY incident_id, ts, recorded_at, id"
)
SELECT_LAST_EVENT_OF_TYPE: LiteralString = (
    SELECT_EVENT + " WHERE incident_id = %s AND type = %s"
    " ORDER BY ts DESC, recorded_at DESC, id DESC LIMIT 1"
)
SELECT_LAST_EVENT_TIMES: LiteralString = (
    "SELECT incident_id, max(ts) AS ts FROM incident_events"
    " WHERE incident_id = ANY(%s) GROUP BY incident_id"
)
SELECT_ARTIFACTS_OF: LiteralString = (
    SELECT_ARTIFACT + " WHERE incident_id = ANY(%s) ORDER BY created_at, name"
)
# Active incidents whatever their age, others only inside the window. The two
# arms are served by incidents_active_idx and incidents_service_env_started_idx.
SELECT_GATE_INCIDENTS: LiteralString = (
    SELECT_INCIDENT + " WHERE env = %(env)s AND service = ANY(%(services)s)"
    " AND (status IN ('open', 'mitigated') OR started_at >= %(since)s)"
)
SELECT_FOLLOWUPS: LiteralString = (
    SELECT_EVENT + " WHERE type = 'followup' AND incident_id = ANY(%s) ORDER BY ts, recorded_at, id"
)

COUNTS: LiteralString = (
    "SELECT (SELECT count(*) FROM incidents) AS incidents,"
    " (SELECT count(*) FROM incident_events) AS events,"
    " (SELECT count(*) FROM incident_artifacts) AS artifacts"
)
VACUUM: tuple[LiteralString, ...] = (
    "VACUUM (ANALYZE) incidents",
    "VACUUM (ANALYZE) incident_events",
    "VACUUM (ANALYZE) incident_artifacts",
)
