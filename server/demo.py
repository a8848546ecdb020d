"""A realistic slice of Zhaoqing (肇庆市) for demos and pilots: `fieldsync run --demo`.

Three counties/districts, six towns, eighteen villages, a cadre per village, officials per town
and county, and a central-office admin. Every demo account has the password DEMO_PASSWORD.
"""
from __future__ import annotations

DEMO_PASSWORD = "demo-2026"
CITY = ("441200000000", "肇庆市")
# county code, name, [(town code, town name, [village names])]
COUNTIES = [
    ("441226000000", "德庆县", [
        ("441226101000", "新圩镇", ["新圩村", "古蓬村", "大岗村"]),
        ("441226103000", "官圩镇", ["官圩村", "金林村", "五福村"]),
    ]),
    ("441223000000", "广宁县", [
        ("441223102000", "排沙镇", ["排沙村", "四和村", "联和村"]),
        ("441223104000", "潭布镇", ["潭布村", "江美村", "黄岗村"]),
    ]),
    ("441204000000", "高要区", [
        ("441204103000", "回龙镇", ["回龙村", "槎塘村", "黄塘村"]),
        ("441204105000", "白土镇", ["白土村", "思福村", "大眼村"]),
    ]),
]
SURNAMES = "陈李黄梁何罗冯邓谭伍"
GIVEN = ["志强", "秀英", "建华", "丽娟", "国平", "桂芳", "伟明", "海燕", "永红", "少华"]


def _person(index: int) -> str:
    return SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]


def demo_provisioning() -> dict:
    """Jurisdictions and accounts in the JSON provisioning format."""
    jurisdictions = [{"code": CITY[0], "name": CITY[1], "level": "city"}]
    accounts = [{"username": "admin.zq", "display_name": "市政务服务数据管理局管理员",
                 "role": "central_admin", "jurisdiction": CITY[0], "password": DEMO_PASSWORD}]
    person = 0
    for county_index, (county, county_name, towns) in enumerate(COUNTIES, start=1):
        jurisdictions.append({"code": county, "name": county_name, "level": "county",
                              "parent": CITY[0]})
        accounts.append({"username": f"county{county_index}", "display_name": _person(person),
                         "role": "county_official", "jurisdiction": county,
                         "phone": f"1380758{county_index:04d}", "password": DEMO_PASSWORD})
        person += 1
        for town_index, (town, town_name, villages) in enumerate(towns, start=1):
            jurisdictions.append({"code": town, "name": town_name, "level": "town",
                                  "parent": county})
            accounts.append({"username": f"town{county_index}{town_index}",
                             "display_name": _person(person), "role": "town_official",
                             "jurisdiction": town, "phone": f"1392658{county_index}{town_index:03d}",
                             "password": DEMO_PASSWORD})
            person += 1
            for village_index, village_name in enumerate(villages, start=1):
                code = town[:9] + f"{200 + village_index:03d}"
                jurisdictions.append({"code": code, "name": village_name, "level": "village",
                                      "parent": town})
                accounts.append({"username": f"cadre{county_index}{town_index}{village_index}",
                                 "display_name": _person(person), "role": "cadre",
                                 "jurisdiction": code,
                                 "phone": f"1357758{county_index}{town_index}{village_index:02d}",
                                 "password": DEMO_PASSWORD})
                person += 1
    return {"jurisdictions": jurisdictions, "accounts": accounts}


def load_demo(services) -> int:
    """Provision the demo slice into `services`' CouchDB; returns how many documents changed."""
    import json

    from models.provisioning import parse_json
    from sync.directory.provisioning import apply_plan, ensure_server_databases, plan_provisioning
    ensure_server_databases(services.couch, services.names)
    parsed = parse_json(json.dumps(demo_provisioning(), ensure_ascii=False))
    plan = plan_provisioning(parsed, services.directory)
    if plan.problems:  # the demo data is ours: a problem here is a bug
        raise RuntimeError([p.describe("en") for p in plan.problems])
    apply_plan(plan, services.couch, services.names)
    written = plan.changes
    from datetime import datetime, timezone

    from server import demo_activity
    provisioning = demo_provisioning()
    towns = {j["code"]: j["name"] for j in provisioning["jurisdictions"] if j["level"] == "town"}
    written += demo_activity.rosters(services, provisioning["accounts"], towns)
    cadres = {a["jurisdiction"]: a["username"] for a in provisioning["accounts"]
              if a["role"] == "cadre"}
    now = datetime.now(timezone.utc)
    villages = [j["code"] for j in provisioning["jurisdictions"] if j["level"] == "village"]
    for index, village in enumerate(villages):
        db = services.couch.database(services.names.village(village))
        households = demo_households(village, index)
        results = db.bulk_docs(households)
        written += sum(1 for r in results if "error" not in r)  # a conflict: already loaded
        visits = demo_activity.visits(services, village, index, households, cadres[village], now)
        results = db.bulk_docs(visits)
        demo_activity.photo_jobs(services, village, results, visits)
        written += sum(1 for r in results if r.get("ok"))
        if index % 3 == 0:  # a pending mediation request in the first village of each town
            request = demo_mediation_request(village, index)
            written += db.create_doc(request)
            written += demo_activity.alerts(services, village, index, now)
    written += demo_activity.review_cases(services, villages)
    written += demo_activity.photo_reuse(services, villages, now)
    written += demo_activity.phones(services, cadres, now)
    return written


def demo_mediation_request(village: str, index: int) -> dict:
    """One villager's online request; the worker's sweep raises its alert like any other."""
    import uuid
    from datetime import datetime, timezone

    from models.examples import example
    doc = example("mediation_request")
    doc.update(_id=f"mediation:{uuid.uuid5(uuid.NAMESPACE_URL, f'fieldsync-demo/{village}/m')}",
               village_code=village, source={"channel": "villager_online"},
               recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               category=("neighbourhood", "land_forest", "wages")[index % 3],
               applicant={"name": _person(index + 40), "phone": f"1392661{index:04d}"})
    return doc


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, jurisdiction name) of a few demo accounts worth trying first."""
    names = {j["code"]: j["name"] for j in demo_provisioning()["jurisdictions"]}
    wanted = ("admin.zq", "county1", "town11", "cadre111", "cadre112")
    return [(a["username"], a["role"], names[a["jurisdiction"]])
            for a in demo_provisioning()["accounts"] if a["username"] in wanted]


HOUSEHOLDS_PER_VILLAGE = 6
STATUSES = ("lifted", "lifted", "lifted", "monitored", "at_risk", "not_lifted")


def _id_number(county: str, born: str, serial: int) -> str:
    from models.identity import check_character
    first17 = f"{county[:6]}{born}{serial:03d}"
    return first17 + check_character(first17)


def demo_households(village: str, village_index: int) -> list[dict]:
    """Plausible roster entries for one demo village (valid ID numbers, phones, stamps)."""
    import uuid

    from models.examples import example
    from models.household import STAMPED_FIELDS
    stamp_base = 1_764_547_200_000  # 2025-12-01, the start of the demo season
    households = []
    for n in range(HOUSEHOLDS_PER_VILLAGE):
        seed = village_index * 100 + n
        doc = example("household")
        head_name = _person(seed)
        head_id = _id_number(village, f"19{60 + seed % 30:02d}0{1 + seed % 9}1{seed % 9}", seed % 1000)
        doc.update(
            _id=f"household:{uuid.uuid5(uuid.NAMESPACE_URL, f'fieldsync-demo/{village}/{n}')}",
            village_code=village, poverty_status=STATUSES[n % len(STATUSES)],
            head={"name": head_name, "id_number": head_id},
            phones=[f"13{5 + seed % 4}{(seed * 7919) % 100_000_000:08d}"],
            address=f"{village[-3:]}组{n + 1}号", income_per_capita_fen=600_000 + seed * 3_137 % 900_000,
            notes="" if n % 3 else "2025年入户核查：住房安全，需跟进医保缴费。")
        doc["members"] = [{**doc["members"][0], "name": head_name, "id_number": head_id}]
        doc["indicators"]["safe_housing"] = n % 5 != 0
        stamp = f"{stamp_base + seed:013d}-00000-demo"
        doc["field_stamps"] = {path: stamp for path in STAMPED_FIELDS
                               if path.split(".")[0] in doc and doc.get(path.split(".")[0]) is not None}
        households.append(doc)
    return households
