"""The household search page in a real headless Chromium: a town official finds households of
the town by a part of a name, by a full ID number and by poverty status, and sees masked ID
numbers only."""
from __future__ import annotations

from support.page_runner import run_page_script
from server.demo import demo_households

VILLAGE = "441226101201"


def test_town_official_searches_households(provisioned, live_server, tmp_path):
    households = demo_households(VILLAGE, 0)
    provisioned.couch.database(provisioned.names.village(VILLAGE)).bulk_docs(households)
    provisioned.reconciliation.run()
    wanted, numbered = households[1], households[2]
    statuses = [h["poverty_status"] for h in households]
    result = run_page_script("households_page.js", {
        "base": live_server, "official": {"username": "huang.jh", "password": "device-pass-1"},
        "name_part": wanted["head"]["name"][:2], "id_number": numbered["head"]["id_number"],
        "status": statuses[0], "screenshot": str(tmp_path / "households.png")})
    assert result["title"] == "农户查询" and result["english_title"] == "Household search"
    assert int(result["all_total"]) == len(households) == len(result["first_page"])
    assert result["next_visible"] is False
    assert "边缘易致贫户" in result["status_options"]
    assert result["by_name"] == [wanted["_id"]]
    assert result["by_number"] == [numbered["_id"]]
    number = numbered["head"]["id_number"]
    assert number[:4] + "*" * 10 + number[-4:] in result["by_number_text"]
    assert int(result["by_status_total"]) == statuses.count(statuses[0])
    assert len(set(result["by_status_labels"])) == 1
    assert result["english_labels"] and result["english_labels"] != result["by_status_labels"]
    assert not any(h["head"]["id_number"] in result["page_text"] for h in households)
    assert (tmp_path / "households.png").stat().st_size > 10_000
