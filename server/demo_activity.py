"""What makes the demo's tour true: duty rosters for every town and county, verification visits
with photos over the last four weeks (coverage 40-90 %), alerts resolved, in progress, waiting,
overdue and escalated, and one of each thing the review queue handles: a data disagreement, a
duplicate household, a photo used for two households and a record to correct.

Every id is derived from the demo's names, so loading twice writes nothing new.
"""
from __future__ import annotations

import copy
import struct
import uuid
import zlib
from datetime import datetime, timedelta, timezone

from models.alerts import iso

DAY = timedelta(days=1)


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fieldsync-demo/" + "/".join(map(str, parts))))


def villager(n: int) -> str:
    """A villager's name (a hundred combinations, apart from the officials' ten)."""
    from server.demo import GIVEN, SURNAMES
    return SURNAMES[(n * 3 + 1) % len(SURNAMES)] + GIVEN[(n // len(SURNAMES) + n * 3 + 2) % len(GIVEN)]


def demo_png(seed: int, edge: int = 64) -> bytes:
    """A small grey picture of 8×8 random blocks (distinct per seed, so no false reuse)."""
    state, blocks = seed * 2654435761 % 2**32 or 1, []
    for _ in range(64):
        state = (1103515245 * state + 12345) % 2**31
        blocks.append(40 + state % 180)
    rows = b"".join(b"\x00" + bytes(blocks[(y * 8 // edge) * 8 + x * 8 // edge] for x in range(edge))
                    for y in range(edge))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", edge, edge, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def rosters(services, accounts: list[dict], towns: dict[str, str]) -> int:
    """A roster for every town and county that has none yet (its own official on duty)."""
    router, written = services.alerts.router, 0
    by_place = {}
    for account in accounts:
        if account["role"] in ("town_official", "county_official"):
            by_place.setdefault(account["jurisdiction"], []).append(account["username"])
    for n, (code, names) in enumerate(sorted(by_place.items())):
        if router.db.get_or_none(f"duty_roster:{code}"):
            continue
        mediators = None
        if code in towns:
            mediators = [{"name": f"{towns[code][:2]}调解员{i}", "phone": f"1380758{n:02d}{i:02d}"}
                         for i in (1, 2)]
        router.save_roster(code, names, names[0], "demo", mediators)
        written += 1
    return written


def visits(services, village: str, index: int, households: list[dict], cadre: str,
           now: datetime) -> list[dict]:
    """Verification visits (with a photo each) of some of the village's households."""
    from models.examples import example
    share = (3, 4, 5)[index % 3]  # of 6 households: coverage 50 %, 67 %, 83 %
    docs = []
    for n, household in enumerate(households[:share]):
        doc = example("verification_visit")
        at = (now - timedelta(days=1 + (index * 5 + n * 3) % 26, hours=n)).astimezone(
            timezone(timedelta(hours=8)))
        seed = 1000 + index * 10 + n
        doc.update(_id=f"visit:{_uid(village, 'visit', n)}", village_code=village,
                   household_id=household["_id"], cadre=cadre, device_id=f"dev-demo{index:04d}",
                   recorded_at=at.isoformat(timespec="seconds"), indicators=household["indicators"],
                   verdict="pass" if all(household["indicators"].values()) else "follow_up",
                   reasons=[k for k, v in household["indicators"].items() if not v],
                   notes="入户核查，与户主当面核对。")
        doc["income"] = {**doc["income"], "per_capita_fen": household["income_per_capita_fen"]}
        doc["photos"] = [{"attachment": "house-1.png", "subject": "house", "caption": None}]
        doc.pop("location", None)
        data = demo_png(seed)
        doc["_attachments"] = {"house-1.png": {"content_type": "image/png",
                                               "data": _b64(data)}}
        docs.append(doc)
    return docs


def _b64(data: bytes) -> str:
    import base64
    return base64.b64encode(data).decode()


def photo_jobs(services, village: str, results: list[dict], visits_: list[dict]) -> None:
    """Queue the visits' photos for the worker, as the gateway does for synced ones."""
    from sync.clock import utc_now
    from sync.photos.queue import _key
    revs = {r.get("id"): r.get("rev") for r in results if r.get("ok")}
    jobs = []
    for visit in visits_:
        rev = revs.get(visit["_id"])
        if not rev:
            continue
        for name in visit["_attachments"]:
            jobs.append({"_id": f"photo_job:{_key(village, visit['_id'], name, rev)}",
                         "type": "photo_job", "schema_version": 1, "state": "pending",
                         "village_code": village, "doc_id": visit["_id"], "rev": rev,
                         "doc_type": "verification_visit", "attachment": name, "digest": rev,
                         "household_id": visit["household_id"], "attempts": 0, "lease_until": 0,
                         "queued_at": utc_now()})
    if jobs:
        services.photo_desk.db.bulk_docs(jobs)


def alerts(services, village: str, index: int, now: datetime) -> int:
    """A town's alerts over the last days: resolved, in progress, waiting, overdue-escalated."""
    from models.examples import example
    from sync.alerts.raising import AlertRaiser
    desk = services.alerts
    db = services.couch.database(services.names.village(village))
    written = 0
    plan = [("resolved", 6 * DAY + timedelta(hours=3)), ("resolved", 2 * DAY + timedelta(hours=5)),
            ("acknowledged", timedelta(hours=20)), ("escalated", timedelta(minutes=45)),
            ("waiting", timedelta(minutes=2))]
    categories = ("neighbourhood", "land_forest", "wages", "marriage_family", "damages")
    stories = ("两户之间排水沟堵塞，雨天污水流入邻居院内。", "山林界址不清，双方对桉树林归属有争议。",
               "在镇上工地务工三个月，工资一直未结清。", "夫妻因赡养老人问题争吵，请求村里调解。",
               "邻居建房时砸坏了自家围墙，赔偿未谈拢。")
    for n, (fate, age) in enumerate(plan):
        received = now - age
        doc = example("mediation_request")
        doc.update(_id=f"mediation:{_uid(village, 'alert', n)}", village_code=village,
                   source={"channel": "villager_online"}, category=categories[n],
                   description=stories[n], urgency=("normal", "urgent")[n % 2],
                   recorded_at=iso(received - timedelta(minutes=3)),
                   applicant={"name": villager(index * 5 + n), "phone": f"1392{index:03d}{n:04d}"},
                   other_parties=[{"name": villager(index * 5 + n + 37), "relation": "邻居"}],
                   amount_in_dispute_fen=(None, 350_000, 1_860_000, None, 82_000)[n])
        if not db.create_doc(doc):
            continue
        raiser = AlertRaiser(desk.store, desk.router, desk.outbox, desk.chain, None, "demo",
                             clock=lambda at=received: at)
        alert = raiser.raise_alert(village, doc, None, iso(received), "demo")
        if alert is None:
            continue
        written += 1
        town_official = (desk.router.town_duty(alert["town_code"], alert["county_code"])[0]
                         or ["-"])[0]
        if fate in ("resolved", "acknowledged"):
            desk.casework.acknowledge(alert["_id"], town_official, "已电话联系申请人",
                                      now=received + timedelta(minutes=3 + n))
            mediator = (desk.router.roster(alert["town_code"]).get("mediators") or
                        [{"name": "调解员", "phone": "13807580000"}])[0]
            desk.casework.assign(alert["_id"], town_official, mediator,
                                 now=received + timedelta(hours=2))
        if fate == "resolved":
            desk.casework.resolve(alert["_id"], town_official, "agreement_reached",
                                  "双方签字确认", now=received + timedelta(hours=30 - n * 4),
                                  agreement="双方同意按村规民约处理，当场签订调解协议书。")
        if fate == "escalated":  # nobody acknowledged: the chain went to the county
            desk.escalator.run(received + timedelta(minutes=31))
    return written


def review_cases(services, villages: list[str]) -> int:
    """One data disagreement, one duplicate household and one record to correct."""
    from models.examples import example
    from models.identity import check_character
    from models.quarantine import feedback_document, quarantine_entry
    from models.registry import classify_device_document
    from server.demo import demo_households
    from sync.clock import utc_now
    first, second = villages[0], villages[1]
    db = services.couch.database(services.names.village(first))
    written = 0
    # a disagreement: two phones edited one household's income offline
    base = example("household")
    conflict_id = f"household:{_uid(first, 'conflict')}"
    base.update(_id=conflict_id, village_code=first, _rev="1-" + "a" * 32,
                head={"name": "谭海燕", "id_number": "441226197005060025"})
    base["members"] = [{**base["members"][0], "name": "谭海燕", "id_number": "441226197005060025"}]
    if db.get_or_none(conflict_id) is None:
        db.bulk_docs([base], new_edits=False)
        for rev_id, income, stamp in (("b" * 32, 720_000, "1764720000000-00000-dev-demoa"),
                                      ("c" * 32, 652_000, "1764710000000-00000-dev-demob")):
            leaf = copy.deepcopy(base)
            leaf.update(_rev=f"2-{rev_id}", income_per_capita_fen=income,
                        _revisions={"start": 2, "ids": [rev_id, "a" * 32]})
            leaf["field_stamps"]["income_per_capita_fen"] = stamp
            db.bulk_docs([leaf], new_edits=False)
        written += 3
    # a duplicate: a household of the first village recorded again in the second
    original = demo_households(first, 0)[1]
    twin = copy.deepcopy(original)
    twin.update(_id=f"household:{_uid(second, 'twin')}", village_code=second,
                address=f"{second[-3:]}组寄住", phones=["13600001234"])
    twin.pop("_rev", None)
    written += services.couch.database(services.names.village(second)).create_doc(twin)
    # a record to correct: an ID number with a wrong check character
    bad = demo_households(first, 0)[4]
    bad.update(_id=f"household:{_uid(first, 'typo')}", address="新村5组8号")
    first17 = "44122619830214061"
    wrong = "X" if check_character(first17) != "X" else "0"
    bad["head"] = {"name": "伍少华", "id_number": first17 + wrong}
    bad["members"] = [{**bad["members"][0], "name": "伍少华", "id_number": first17 + wrong}]
    if db.create_doc(bad):
        verdict = classify_device_document(bad, first)
        now = utc_now()
        rev = db.get(bad["_id"])["_rev"]
        db.create_doc(feedback_document(bad, rev, verdict, first, now))
        services.quarantine.review_db.create_doc(quarantine_entry(bad, rev, verdict, first, now))
        written += 1
    return written


def photo_reuse(services, villages: list[str], now: datetime) -> int:
    """The same photo in visits of two different households."""
    from models.examples import example
    from server.demo import demo_households
    village = villages[3]
    households = demo_households(village, 3)
    docs = []
    for n, household in enumerate(households[4:6]):
        doc = example("verification_visit")
        doc.update(_id=f"visit:{_uid(village, 'reuse', n)}", village_code=village,
                   household_id=household["_id"], cadre="demo", device_id="dev-demo9999",
                   recorded_at=(now - timedelta(days=2, hours=n)).astimezone(
                       timezone(timedelta(hours=8))).isoformat(timespec="seconds"),
                   photos=[{"attachment": "house-1.png", "subject": "house", "caption": None}])
        doc.pop("location", None)
        doc["_attachments"] = {"house-1.png": {"content_type": "image/png",
                                               "data": _b64(demo_png(777))}}
        docs.append(doc)
    db = services.couch.database(services.names.village(village))
    results = db.bulk_docs(docs)
    photo_jobs(services, village, results, docs)
    return sum(1 for r in results if r.get("ok"))


def phones(services, cadres: dict[str, str], now: datetime) -> int:
    """A phone for every demo cadre, as the registry keeps it after its syncs: most uploaded
    everything, one in four still holds records (since a few hours), one app too old to say."""
    from models.device_status import apply_status
    written = 0
    for n, (village, username) in enumerate(sorted(cadres.items())):
        seen = now - timedelta(minutes=4 + n % 6 * 23 + n // 6 * 3)
        contact = iso(seen)
        doc = {"_id": f"device:demo-{username}", "type": "device", "schema_version": 1,
               "device_id": f"demo-{username}", "username": username, "village_code": village,
               "first_seen": iso(now - 20 * DAY), "last_contact": contact, "last_pull": contact,
               "platform": "android-13", "app_version": "1.4.0" if n % 7 else "1.2.0"}
        if n % 7:  # 1.2.0 does not report what it holds
            pending = 3 + n % 5 if n % 4 == 1 else 0
            since = iso(seen - timedelta(hours=2 + n % 5)) if pending else None
            apply_status(doc, {"pending": pending, "refused": 1 if n % 8 == 1 else 0,
                               "local_seq": str(400 + n)}, contact)
            if pending:
                doc["holding_since"] = since
        if services.devices.db.get_or_none(doc["_id"]) is None:
            services.devices.db.put(doc)
            written += 1
    return written
