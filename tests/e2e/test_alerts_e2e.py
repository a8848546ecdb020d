"""End to end: a device pushes a mediation request; the town's duty official is alerted at
once through the inbox, a signed webhook and e-mail."""
from __future__ import annotations

from email import message_from_bytes, policy

from models.alerts import verify_signature
from models.doc_ids import alert_id
from models.server_docs import alert_schema, delivery_schema
from support.alerting import SECRET, TOWN, VILLAGE, mediation_request


def test_device_push_alerts_the_town_duty_official(alerting, make_device, webhook, mailbox):
    phone = make_device("chen.zq", VILLAGE)
    request = mediation_request()
    stored = phone.one({"op": "put", "doc": request})
    assert phone.one({"op": "push"})["denied"] == []

    alert = alerting.alerts.store.get(alert_id(request["_id"]))  # raised before push returned
    assert alert["town_code"] == TOWN and alert["village_code"] == VILLAGE
    assert alert["request_rev"] == stored["rev"] and alert["detected_by"] == "gateway"
    assert alert["steps"]["0"]["recipients"] == ["huang.jh"]
    assert alert["recorded_at"] == request["recorded_at"]
    assert alert["received_at"] <= alert["alerted_at"]
    alert_schema.load(alert)

    posts = webhook.wait_for(1)
    assert len(posts) == 1
    post = posts[0]
    assert post["signed"] and verify_signature(SECRET, post["body"],
                                               post["headers"]["X-Fieldsync-Signature"])
    assert post["headers"]["X-Fieldsync-Signature"].startswith("sha256=")
    assert post["headers"]["X-Fieldsync-Timestamp"].isdigit()
    payload = post["json"]
    assert payload["event"] == "mediation_alert" and payload["alert"]["_id"] == alert["_id"]
    assert payload["recipient"]["username"] == "huang.jh"
    assert payload["idempotency_key"] == post["headers"]["X-Fieldsync-Delivery"]
    assert payload["step"]["number"] == 0

    mails = mailbox.wait_for(1)
    assert [m.rcpt_tos for m in mails] == [["huang.jh@town.example"]]
    mail = message_from_bytes(mails[0].content, policy=policy.default)
    assert mail["Subject"].startswith("[矛盾调解] ") and " / Mediation request in " in mail["Subject"]
    assert "申请人电话：" in mail.get_content() and "Applicant's phone: " in mail.get_content()

    deliveries = {(d["channel"], d["recipient"]): d
                  for d in alerting.alerts.store.deliveries_of(alert["_id"])}
    assert set(deliveries) == {("inbox", "huang.jh"), ("webhook", "huang.jh"),
                               ("email", "huang.jh")}
    for delivery in deliveries.values():
        delivery_schema.load(delivery)
    inbox = alerting.alerts.store.inbox("huang.jh", 10)
    assert [item["alert_id"] for item in inbox] == [alert["_id"]]
