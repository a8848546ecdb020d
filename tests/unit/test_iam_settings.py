"""Cloudant's IAM API-key auth is a setting: FIELDSYNC_COUCHDB_IAM_API_KEY (a secret) and
FIELDSYNC_COUCHDB_IAM_TOKEN_URL reach the CouchServer the services are built with."""
from __future__ import annotations

from server.bootstrap import build_services
from server.config import Settings
from sync.couch.client import IAM_TOKEN_URL, IamAuth

ENV = {"FIELDSYNC_COUCHDB_URL": "https://example-account.cloudant.com",
       "FIELDSYNC_COUCHDB_IAM_API_KEY": "key-0123456789",
       "FIELDSYNC_COUCHDB_IAM_TOKEN_URL": "http://127.0.0.1:9/identity/token"}


def test_the_api_key_and_token_url_reach_the_couch_server():
    settings = Settings.from_env(ENV)
    couch = build_services(settings).couch
    assert isinstance(couch.iam, IamAuth) and couch.session.auth is couch.iam
    assert couch.iam.api_key == "key-0123456789"
    assert couch.iam.token_url == "http://127.0.0.1:9/identity/token"
    assert couch.iam.exchanges == 0  # nothing is exchanged before the first request


def test_the_key_is_a_secret_and_passes_to_child_processes():
    settings = Settings.from_env(ENV)
    assert "key-0123456789" not in repr(settings)
    assert "key-0123456789" not in repr(build_services(settings).couch)
    env = settings.child_env()
    assert env["FIELDSYNC_COUCHDB_IAM_API_KEY"] == "key-0123456789"
    assert Settings.from_env(env).couchdb_iam_token_url == ENV["FIELDSYNC_COUCHDB_IAM_TOKEN_URL"]


def test_without_a_key_basic_auth_as_before():
    settings = Settings.from_env({"FIELDSYNC_COUCHDB_URL": "http://admin:pw@127.0.0.1:5984"})
    assert settings.couchdb_iam_token_url == IAM_TOKEN_URL
    couch = build_services(settings).couch
    assert couch.iam is None and couch.session.auth == ("admin", "pw")


def test_the_default_attachment_limit_is_under_cloudants_10_mb():
    """Cloudant refuses an attachment over 10 MB (413); whether it counts 10,000,000 or
    10,485,760 bytes, the default lets no photo through the gateway that Cloudant refuses."""
    from server.bootstrap import gateway_limits
    limit = gateway_limits(Settings()).max_attachment_bytes
    assert limit < 10_000_000
    assert limit == int(9.5 * 1024 * 1024)
