package gate

# The demo store's gate as a Rego policy: block on an active P0/P1 of the
# service in a strict environment, or on an open follow-up past its due time.

default allow := false

active := {"open", "mitigated"}

blocking contains inc.id if {
	some inc in input.incidents
	inc.service == input.service
	inc.env == input.env
	inc.status in active
	inc.severity in {"P0", "P1"}
}

mine contains inc.id if {
	some inc in input.incidents
	inc.service == input.service
	inc.env == input.env
}

overdue contains ev.meta.followup_id if {
	some ev in input.events
	ev.type == "followup"
	ev.incident_id in mine
	ev.meta.status != "done"
	ev.meta.due < input.now
}

allow if {
	count(blocking) == 0
	count(overdue) == 0
}
