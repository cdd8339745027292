"""Incident intelligence: weekly digest, correlation, recurrence, risk, postmortem drafts.

One module per analysis; every one takes the store and ``now`` and returns a
typed report with ``to_json()``. Nothing here reads the clock or prints.
"""
