"""Helpers shared by the test suites: fixtures as plugins, generated photos, page runners."""
