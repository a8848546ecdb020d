"""Benchmarks anyone can rerun: `make bench` or `.venv/bin/python -m bench [NAME]` (docs/performance.md)."""
