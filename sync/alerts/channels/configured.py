"""The channels an installation has configured, built from its settings."""
from __future__ import annotations

from sync.alerts.channels import email, inbox, webhook


def build_channels(settings) -> dict:
    """The channels this installation has configured, by name, in delivery order."""
    channels = {"inbox": inbox.InboxChannel()}
    if settings.webhook_url:
        channels["webhook"] = webhook.WebhookChannel(settings.webhook_url,
                                                     settings.webhook_secret or "")
    if settings.smtp_host:
        channels["email"] = email.EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
            settings.smtp_password, settings.smtp_starttls)
    return channels
