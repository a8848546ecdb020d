"""E-mail over SMTP (smtplib) to the address in the official's account (`email`)."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from models.mediation import CATEGORIES, URGENCIES
from sync.alerts.channels.base import DeliveryFailed


def compose(alert: dict, delivery: dict, sender: str, to: str) -> EmailMessage:
    """The message: subject and body in Chinese, then English."""
    category = CATEGORIES.get(alert.get("category"), ("其他", "other"))
    urgency = URGENCIES.get(alert.get("urgency"), ("一般", "normal"))
    place = alert.get("village_name") or alert.get("village_code")
    step = delivery.get("step_name") or ""
    message = EmailMessage()
    message["Subject"] = (f"[矛盾调解] {place}：{category[0]}（{urgency[0]}）"
                          f" / Mediation request: {category[1]} ({urgency[1]})")
    message["From"], message["To"] = sender, to
    message["Message-ID"] = f"<{delivery['idempotency_key']}@fieldsync>"
    message["X-Fieldsync-Delivery"] = delivery["idempotency_key"]
    message.set_content(
        f"村居：{place}\n类别：{category[0]}\n紧急程度：{urgency[0]}\n"
        f"申请人电话：{alert.get('applicant_phone') or '-'}\n摘要：{alert.get('summary') or ''}\n"
        f"收到时间：{alert.get('received_at')}\n提醒：{step}\n\n"
        f"Village: {place}\nCategory: {category[1]}\nUrgency: {urgency[1]}\n"
        f"Received: {alert.get('received_at')}\nStep: {step}\nAlert: {alert['_id']}\n")
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
