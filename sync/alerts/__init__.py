"""The mediation alert path: raise (raising.py), route (routing.py), deliver through an outbox
(outbox.py, channels/), escalate (escalation.py), follow live (live.py). docs/alerts.md."""
