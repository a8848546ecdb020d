"""E-mail over SMTP (smtplib) to the address in the official's account (`email`)."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from models.mediation import CATEGORIES, URGENCIES
from models.messages import LANGS, label, render
from sync.alerts.channels.base import DeliveryFailed


def compose(alert: dict, delivery: dict, sender: str, to: str) -> EmailMessage:
    """The message: subject and body in Chinese, then English (catalogue section `email`)."""
    category = alert.get("category") if alert.get("category") in CATEGORIES else "other"
    urgency = alert.get("urgency") if alert.get("urgency") in URGENCIES else "normal"
    facts = {"place": alert.get("village_name") or alert.get("village_code"),
             "phone": alert.get("applicant_phone") or "-", "summary": alert.get("summary") or "",
             "received": alert.get("received_at"), "step": delivery.get("step_name") or "",
             "alert": alert["_id"]}
    texts = {lang: {"category": label("category", category, lang),
                    "urgency": label("urgency", urgency, lang), **facts} for lang in LANGS}
    message = EmailMessage()
    message["Subject"] = " / ".join(render("email.subject", lang, **texts[lang]) for lang in LANGS)
    message["From"], message["To"] = sender, to
    message["Message-ID"] = f"<{delivery['idempotency_key']}@fieldsync>"
    message["X-Fieldsync-Delivery"] = delivery["idempotency_key"]
    message.set_content("\n".join(render("email.body", lang, **texts[lang]) for lang in LANGS))
    return message


class EmailChannel:
    """Mail through one SMTP relay."""
    name = "email"
    immediate = False

    def __init__(self, host: str, port: int, sender: str, user: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout_s: float = 15.0):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout_s = user, password, starttls, timeout_s

    def applies(self, account: dict) -> bool:
        """Only officials whose account has an e-mail address."""
        return bool(account.get("email"))

    def send(self, delivery: dict, alert: dict, recipient: dict | None) -> None:
        """Hand the message to the SMTP relay."""
        address = (recipient or {}).get("email")
        if not address:
            raise DeliveryFailed("the account has no e-mail address")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(compose(alert, delivery, self.sender, address))
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"smtp: {exc.__class__.__name__}: {exc}") from exc
