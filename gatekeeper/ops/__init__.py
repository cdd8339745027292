"""Scheduled work: the job registry and its cron activation, the runner, alert triage, retention.

``ops/task_registry.yml`` declares every job (:mod:`~gatekeeper.ops.registry`);
``ops/cron/jobs.cron`` activates them (:mod:`~gatekeeper.ops.cron`) and
:mod:`~gatekeeper.ops.sync` lists where the two disagree. :mod:`~gatekeeper.ops.runner`
runs one job under its lock (:mod:`~gatekeeper.ops.locks`) and records it in the
run log (:mod:`~gatekeeper.ops.runlog`). Each job is one module in
:mod:`gatekeeper.ops.jobs`. See docs/jobs.md and docs/alerts.md.
"""
