"""CRMs: Salesforce's REST query API and HubSpot's CRM v3 deals, on a local server; files.

Shapes: Salesforce query results (``totalSize``, ``done``, ``records`` with ``attributes``
and parent relationships as nested objects, ``nextRecordsUrl``; errors as a list of
``{"message", "errorCode"}``); HubSpot deals (``results`` with ``properties``,
``propertiesWithHistory.dealstage[]`` of ``{value, timestamp, sourceType}``,
``associations.companies.results[]``; ``paging.next.after``).
"""

from __future__ import annotations

import json

import pytest
from api_server import ApiServer, Reply
from typer.testing import CliRunner

from valueclock.errors import InputError
from valueclock.sources import crm
from valueclock.sources.cli import app

runner = CliRunner()
ENV = {"SALESFORCE_ACCESS_TOKEN": "sf-token", "HUBSPOT_TOKEN": "hs-token"}


def sf_record(opp, stage, at, account="001A", name="Acme renewal"):
    return {"attributes": {"type": "OpportunityHistory",
                           "url": "/services/data/v60.0/sobjects/OpportunityHistory/008x"},
            "OpportunityId": opp, "StageName": stage, "CreatedDate": at,
            "Opportunity": {"attributes": {"type": "Opportunity"}, "Name": name,
                            "AccountId": account}}


SF_PAGES = [
    [sf_record("006A", "Prospecting", "2024-01-05T10:00:00.000+0000"),
     sf_record("006A", "Closed Won", "2024-02-01T15:30:00.000+0000"),
     sf_record("006B", "Closed Won", "2024-02-03T09:00:00.000+0000", "001B", "Globex")],
    [sf_record("006B", "Negotiation", "2024-02-04T09:00:00.000+0000", "001B", "Globex"),
     sf_record("006C", "Closed Won", "2024-01-10T08:00:00.000+0000", "001C", "Initech"),
     sf_record("006C", "Negotiation", "2024-01-11T08:00:00.000+0000", "001C", "Initech"),
     sf_record("006C", "Closed Won", "2024-03-01T08:00:00.000+0000", "001C", "Initech")],
]


def deal(deal_id, stages, company="9001", name="Big deal"):
    return {"id": deal_id, "createdAt": "2024-01-01T00:00:00.000Z", "archived": False,
            "updatedAt": "2024-03-01T00:00:00.000Z",
            "properties": {"dealname": name, "dealstage": stages[0][0],
                           "closedate": "2024-12-31T00:00:00.000Z"},
            "propertiesWithHistory": {"dealstage": [
                {"value": v, "timestamp": t, "sourceType": "CRM_UI", "sourceId": None}
                for v, t in stages]},  # newest first, as HubSpot sends them
            "associations": {"companies": {"results": [
                {"id": company, "type": "deal_to_company"}]}} if company else {}}


HS_PAGES = [
    [deal("11", [("closedwon", "2024-02-10T12:00:00.000Z"),
                 ("appointmentscheduled", "2024-01-02T12:00:00.000Z")])],
    [deal("12", [("closedlost", "2024-02-11T12:00:00Z")]),
     deal("13", [("closedwon", "2024-02-12T12:00:00Z")], company=None)],
]


class FakeCrm:
    def __init__(self):
        self.fail: dict[str, Reply] = {}

    def answer(self, request):
        for path, reply in list(self.fail.items()):
            if request.path.startswith(path):
                del self.fail[path]
                return reply
        auth = request.headers.get("Authorization")
        if request.path.startswith("/services/data/"):
            if auth != "Bearer sf-token":
                return Reply([{"message": "Session expired or invalid",
                               "errorCode": "INVALID_SESSION_ID"}], 401)
            if request.path == "/services/data/v60.0/query":
                assert "FROM OpportunityHistory" in request.param("q")
                return Reply({"totalSize": 7, "done": False, "records": SF_PAGES[0],
                              "nextRecordsUrl": "/services/data/v60.0/query/01gX-2000"})
            return Reply({"totalSize": 7, "done": True, "records": SF_PAGES[1]})
        if request.path == "/crm/v3/objects/deals":
            if auth != "Bearer hs-token":
                return Reply({"status": "error", "message": "Authentication credentials not "
                              "found.", "category": "INVALID_AUTHENTICATION"}, 401)
            assert request.param("propertiesWithHistory") == "dealstage"
            page = int(request.param("after", "0"))
            body = {"results": HS_PAGES[page]}
            if page + 1 < len(HS_PAGES):
                body["paging"] = {"next": {"after": str(page + 1),
                                           "link": f"/crm/v3/objects/deals?after={page + 1}"}}
            return Reply(body)
        return Reply({"message": "not found"}, 404)


@pytest.fixture
def fake():
    data = FakeCrm()
    with ApiServer(data.answer) as server:
        data.server, data.url = server, server.url
        yield data


def lines(path):
    return [line.split(",")[1:] for line in path.read_text().splitlines()[1:]]


def test_salesforce_sale_is_the_last_entry_into_closed_won(fake, tmp_path):
    out = tmp_path / "sales.csv"
    result = runner.invoke(app, ["salesforce", "--url", fake.url, "-o", str(out)], env=ENV)
    assert result.exit_code == 0, result.output
    assert lines(out) == [
        ["001A", "2024-02-01T15:30:00Z", "sale", "", "", "Won: Acme renewal"],
        ["001C", "2024-03-01T08:00:00Z", "sale", "", "", "Won: Initech"],
    ]
    assert "deals won and then moved out of the won stage" in result.output  # 006B
    again = tmp_path / "again.csv"
    runner.invoke(app, ["salesforce", "--url", fake.url, "-o", str(again)], env=ENV)
    assert again.read_text() == out.read_text()  # same ids: importing again adds nothing


def test_salesforce_files_history_and_field_history(tmp_path):
    saved = tmp_path / "query.json"
    saved.write_text(json.dumps([{"done": False, "records": SF_PAGES[0]},
                                 {"done": True, "records": SF_PAGES[1]}]))
    from_json = crm.sales_from_history(crm.read_salesforce(saved)[0], won=crm.SALESFORCE_WON,
                                       source="salesforce")
    field_history = tmp_path / "OpportunityFieldHistory.csv"
    field_history.write_text(
        "OpportunityId,AccountId,Field,OldValue,NewValue,CreatedDate\n"
        "006A,001A,Amount,,5000,2024-01-05T10:00:00.000Z\n"
        "006A,001A,StageName,Prospecting,Closed Won,2024-02-01T15:30:00.000Z\n"
        "006A,001A,CloseDate,2024-03-01,2024-01-15,2024-02-01T15:31:00.000Z\n")
    out = tmp_path / "sales.csv"
    result = runner.invoke(app, ["salesforce", str(field_history), "--stage-col", "NewValue",
                                 "--field-col", "Field", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert lines(out)[0][:3] == ["001A", "2024-02-01T15:30:00Z", "sale"]
    assert from_json.events.column("timestamp").to_pylist()[0].isoformat() == \
        "2024-02-01T15:30:00+00:00"


def test_hubspot_sale_from_the_dealstage_history(fake, tmp_path):
    out = tmp_path / "sales.csv"
    result = runner.invoke(app, ["hubspot", "--url", fake.url, "-o", str(out)], env=ENV)
    assert result.exit_code == 0, result.output
    assert lines(out) == [["9001", "2024-02-10T12:00:00Z", "sale", "", "", "Won: Big deal"]]
    assert "won deals without an account" in result.output  # deal 13
    assert [r.query.get("after") for r in fake.server.requests] == [None, "1"]
    saved = tmp_path / "deals.json"
    saved.write_text("\n".join(json.dumps({"results": p}) for p in HS_PAGES))
    from_file = crm.hubspot_to_events(crm.read_hubspot(saved))
    first_id = out.read_text().splitlines()[1].split(",")[0]
    assert from_file.events.column("event_id").to_pylist() == [first_id]


@pytest.mark.parametrize("command", ["salesforce", "hubspot"])
@pytest.mark.parametrize(("reply", "message"), [
    (Reply({"message": "You have reached your secondly limit."}, 429, {"Retry-After": "0"}),
     None),
    (Reply([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], 401),
     "refused the credentials (HTTP 401)"),
    (Reply({"totalSize": 1, "done": True}), "sent a malformed page"),
    (Reply("upstream timed out", 504, {"Content-Type": "text/plain"}), "answered HTTP 504"),
])
def test_failures_are_one_line_and_write_nothing(fake, tmp_path, command, reply, message):
    prefix = "/services/data/" if command == "salesforce" else "/crm/v3/"
    fake.fail[prefix] = reply
    out = tmp_path / "sales.csv"
    result = runner.invoke(app, [command, "--url", fake.url, "-o", str(out)], env=ENV)
    if message is None:  # a 429 is waited out (Retry-After: 0), then the pull goes on
        assert result.exit_code == 0, result.output
        assert len(fake.server.requests) == 3
        return
    assert isinstance(result.exception, InputError)
    assert message in str(result.exception) and "\n" not in str(result.exception)
    assert list(tmp_path.iterdir()) == []


def test_an_expired_salesforce_query_locator_is_one_line_and_writes_nothing(fake, tmp_path):
    fake.fail["/services/data/v60.0/query/01gX"] = Reply(
        [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], 400)
    out = tmp_path / "sales.csv"
    out.write_text("kept\n")
    result = runner.invoke(app, ["salesforce", "--url", fake.url, "-o", str(out)], env=ENV)
    assert isinstance(result.exception, InputError)
    assert "query's next page expire" in str(result.exception)
    assert out.read_text() == "kept\n" and len(list(tmp_path.iterdir())) == 1
