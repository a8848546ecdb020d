"""Everything between a device and the databases, by capability (one sub-package each):

couch/ (the CouchDB client, names, design documents), directory/ (accounts, authentication,
devices, provisioning), gateway/ (the replication gateway and its write screening), feeds/
(change following), reconcile/ (conflicts, central view, duplicates), photos/ (photo evidence),
alerts/ (mediation alerts: raise, route, deliver, escalate, casework), reports/ (central-office
reports). Layering: models ← sync ← mobile_api ← server; within sync, couch/ is at the bottom.
"""
