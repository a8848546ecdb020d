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
    from sync.provisioning import apply_plan, ensure_server_databases, plan_provisioning
    ensure_server_databases(services.couch, services.names)
    parsed = parse_json(json.dumps(demo_provisioning(), ensure_ascii=False))
    plan = plan_provisioning(parsed, services.directory)
    if plan.problems:  # the demo data is ours: a problem here is a bug
        raise RuntimeError([p.describe("en") for p in plan.problems])
    apply_plan(plan, services.couch, services.names)
    return plan.changes


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, jurisdiction name) of a few demo accounts worth trying first."""
    names = {j["code"]: j["name"] for j in demo_provisioning()["jurisdictions"]}
    wanted = ("admin.zq", "county1", "town11", "cadre111", "cadre112")
    return [(a["username"], a["role"], names[a["jurisdiction"]])
            for a in demo_provisioning()["accounts"] if a["username"] in wanted]
