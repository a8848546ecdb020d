"""Webhook: POST the alert as JSON, signed with HMAC-SHA256 (docs/alerts.md, "Webhook")."""
from __future__ import annotations

import json
import time

from models.alerts import (DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, iso,
                           signature, webhook_payload)
from sync.alerts.channels.base import DeliveryFailed
from sync.alerts.channels.http_out import post_json


def recipient_card(account: dict | None) -> dict | None:
    """What a webhook receiver learns about the official (to text or message them)."""
    if not account:
        return None
    return {k: account.get(k) for k in ("username", "display_name", "role", "jurisdiction",
                                         "phone", "email")}


class WebhookChannel:
    """One configured endpoint receives a POST per (official, step) of every alert."""
    name = "webhook"
    immediate = False

    def __init__(self, url: str, secret: str, timeout_s: float = 10.0):
        self.url, self.secret, self.timeout_s = url, secret, timeout_s

    def applies(self, account: dict) -> bool:
        """Whether this recipient can be reached on this channel."""
        return True

    def send(self, delivery: dict, alert: dict, recipient: dict | None) -> None:
        """POST the signed payload; a non-2xx answer or no answer is a failure."""
        from datetime import datetime, timezone
        payload = webhook_payload(alert, delivery, recipient_card(recipient),
                                  iso(datetime.now(timezone.utc)))
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        answer = post_json(self.url, body, {
            SIGNATURE_HEADER: signature(self.secret, body),
            TIMESTAMP_HEADER: str(int(time.time())),
            DELIVERY_HEADER: delivery["idempotency_key"],
            # the same stable key under the header receivers' idempotency middleware knows
            "Idempotency-Key": delivery["idempotency_key"]}, self.timeout_s)
        if not answer.ok:
            raise DeliveryFailed(f"webhook answered {answer.status}: {answer.body[:200]}")
