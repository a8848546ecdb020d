"""Running on a CouchDB cluster, where a write can "succeed" twice: who works on what (a
deterministic split of villages and deliveries over the live workers, membership.py) and the
conflicts that two accepted writes leave on server-owned documents, merged one way per document
type (merges.py) by the worker's sweeper (server_conflicts.py). docs/operations.md, "Guarantees
on a single node and on a cluster"."""
