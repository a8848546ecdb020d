"""The settings table: parsing, child environments and the docs come from one place."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from server.config import Settings, settings_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_round_trips_through_a_child_environment():
    changed = {}
    for spec in fields(Settings):
        kind = spec.metadata["kind"]
        changed[spec.name] = {bool: not spec.default, int: 7, float: 2.5, Path: Path("/srv/x")}.get(
            kind, "VALUE" if spec.name == "log_level" else f"v-{spec.name}")
    settings = Settings(**changed)
    assert Settings.from_env(settings.child_env()) == settings


def test_environment_names_are_unique_and_documented():
    names = [spec.metadata["env"] for spec in fields(Settings)]
    assert len(names) == len(set(names))
    assert all(spec.metadata["doc"] for spec in fields(Settings))


def test_the_operations_table_is_the_settings_table():
    text = DOCS.read_text(encoding="utf-8")
    assert settings_table() in text, "run `python -m server.config` and paste it into docs/operations.md"


def test_secrets_stay_out_of_repr():
    shown = repr(Settings(secret_key="s3cret", couchdb_password="pw", smtp_password="mail"))
    assert "s3cret" not in shown and "pw'" not in shown and "mail'" not in shown
