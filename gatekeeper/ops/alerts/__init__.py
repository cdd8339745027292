"""Alerts: the inbox (``alerts add``), fingerprints, and triage into incidents (docs/alerts.md)."""
