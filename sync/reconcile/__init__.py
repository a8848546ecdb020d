"""Reconciliation for the central office: conflicted documents resolved and archived
(conflicts.py; households are merged field by field by models/household_merge.py), the central
view (central_view.py), duplicate and near-duplicate households (duplicates.py), assembled as
the worker's job in pipeline.py."""
