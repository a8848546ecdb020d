"""Following changes: the village feed every worker reaction reads (village_feed.py), which
villages changed lately (signals.py, from the audit feed and `_db_updates`) and the workers'
heartbeats (heartbeat.py)."""
