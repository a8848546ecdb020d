"""Reports for the central office and county officials, built from stored state only
(builder.py): coverage, incomes against the line, SLA per town, open work."""
