"""Delivery channels: each a small module with `send(delivery, alert, recipient)`.

A channel raises DeliveryFailed when the message did not get through; the outbox retries it.
`immediate` channels deliver by being stored (the in-app inbox): their deliveries are written
already delivered.
"""
from __future__ import annotations


class DeliveryFailed(Exception):
    """The channel could not deliver; the message says why (kept as `last_error`)."""


def build_channels(settings) -> dict:
    """The channels this installation has configured, by name, in delivery order."""
    from sync.alerts.channels import email, inbox, webhook
    channels = {"inbox": inbox.InboxChannel()}
    if settings.webhook_url:
        channels["webhook"] = webhook.WebhookChannel(settings.webhook_url,
                                                     settings.webhook_secret or "")
    if settings.smtp_host:
        channels["email"] = email.EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
            settings.smtp_password, settings.smtp_starttls)
    return channels
