"""The sync gateway: what a device may send and how it reaches its village database.
forwarding.py routes and forwards the replication endpoints; screening.py checks every document
a device writes (verdicts, refusals, the written-once rule); the after-write hooks record the
audit trail (audit.py), hand mediation requests to the alert path (intake.py) and give
quarantine feedback (quarantine.py)."""
