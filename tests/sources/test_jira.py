"""Jira: a local server answering as Jira Cloud's REST API documents it, and JSON files.

Shapes: ``GET /rest/api/3/search/jql`` (``issues``, ``nextPageToken``, ``isLast``), issues
with ``expand=changelog`` (``changelog.histories[].items[]`` with ``field``, ``fieldId``,
``from``/``fromString``, ``to``/``toString``; ``total`` and ``maxResults`` telling when the
embedded changelog is cut short), and ``GET /rest/api/3/issue/{key}/changelog`` (a page
bean: ``values``, ``startAt``, ``maxResults``, ``total``, ``isLast``).
"""

from __future__ import annotations

import json

import pytest
from api_server import ApiServer, Reply
from helpers_sources import journey
from typer.testing import CliRunner

import valueclock
from valueclock.errors import InputError
from valueclock.sources import jira as j
from valueclock.sources.cli import app

runner = CliRunner()
ENV = {"JIRA_EMAIL": "dev@acme.test", "JIRA_API_TOKEN": "tok"}
TEAM = "customfield_10001"
TICKETS = "customfield_10050"  # "Zendesk Ticket IDs", as the Zendesk for Jira app fills it


def change(hid, at, *items):
    return {"id": str(hid), "created": at, "author": {"accountId": "u1"},
            "items": [{"field": f, "fieldtype": "jira" if f == "status" else "custom",
                       "fieldId": fid, "from": None, "fromString": a, "to": None,
                       "toString": b} for f, fid, a, b in items]}


def issue(key, created, status, histories, *, team=None, total=None, tickets=None):
    return {"id": key.split("-")[1], "key": key, "self": f"/rest/api/3/issue/{key}",
            "fields": {"created": created, "status": {"name": status},
                       "project": {"key": "ENG", "name": "Engineering"},
                       TEAM: {"id": "t1", "name": team} if team else None,
                       TICKETS: tickets,
                       "customfield_10002": [{"name": "Acme"}]},
            "changelog": {"startAt": 0, "maxResults": len(histories),
                          "total": len(histories) if total is None else total,
                          "histories": histories}}


ENG1_HISTORY = [
    change(101, "2024-03-01T10:00:00.000+0000", ("status", "status", "To Do", "In Progress")),
    change(102, "2024-03-01T12:00:00.000+0100", ("Team", TEAM, "Platform", "Backend")),
    change(103, "2024-03-01T14:00:00.000+0000", ("status", "status", "In Progress", "Done")),
]


class FakeJira:
    def __init__(self):
        self.issues = [
            # ENG-1's embedded changelog is cut short: 1 of 3 histories.
            issue("ENG-1", "2024-03-01T09:30:00.000+0000", "Done", ENG1_HISTORY[:1],
                  team="Backend", total=3, tickets="1"),
            issue("ENG-2", "2024-03-02T09:00:00.000+0000", "To Do", [], team="Backend"),
            issue("ENG-3", "2024-03-02T10:00:00.000+0000", "In Progress",
                  [change(301, "2024-03-02T11:00:00.000+0000",
                          ("status", "status", "Selected", "In Progress"))], team="Frontend",
                  tickets="2, 99"),
        ]
        self.fail: dict[str, Reply] = {}

    def answer(self, request):
        for path, reply in list(self.fail.items()):
            if request.path == path:
                del self.fail[path]
                return reply
        if request.headers.get("Authorization") != "Basic ZGV2QGFjbWUudGVzdDp0b2s=":
            return Reply({"errorMessages": ["Client must be authenticated to access this "
                                            "resource."], "errors": {}}, 401)
        if request.path == "/rest/api/3/search/jql":
            assert request.param("expand") == "changelog"
            if request.param("nextPageToken") is None:
                return Reply({"issues": self.issues[:2], "nextPageToken": "p2",
                              "isLast": False})
            return Reply({"issues": self.issues[2:], "isLast": True})
        if request.path == "/rest/api/3/issue/ENG-1/changelog":
            start = int(request.param("startAt"))
            values = ENG1_HISTORY[start:start + 2]
            return Reply({"self": request.path, "maxResults": 2, "startAt": start, "total": 3,
                          "isLast": start + 2 >= 3, "values": values})
        return Reply({"errorMessages": ["not found"]}, 404)


@pytest.fixture
def fake():
    data = FakeJira()
    with ApiServer(data.answer) as server:
        data.server, data.url = server, server.url
        yield data


def fetch(fake, **kw):
    with j.jira_client(fake.url, environ=ENV, **kw) as client:
        return j.fetch_jira(client, "project = ENG", fields=[TEAM, TICKETS])


def test_search_pages_and_cut_short_changelogs_are_followed(fake):
    issues = fetch(fake)
    assert [i["key"] for i in issues] == ["ENG-1", "ENG-2", "ENG-3"]
    assert [h["id"] for h in issues[0]["changelog"]["histories"]] == ["101", "102", "103"]
    changelog_pages = [r.query["startAt"] for r in fake.server.requests
                       if r.path.endswith("/changelog")]
    assert changelog_pages == ["0", "2"]
    result = j.jira_to_events(issues, team_field=TEAM, account_field="customfield_10002")
    assert journey(result) == [
        ("ENG-1", "interruption", "2024-03-01 09:30", "Platform", "To Do", "Acme"),
        ("ENG-1", "handoff", "2024-03-01 11:00", "Backend", "In Progress", "Acme"),
        ("ENG-1", "smile", "2024-03-01 14:00", "Backend", "Done", "Acme"),
        ("ENG-2", "interruption", "2024-03-02 09:00", "Backend", "To Do", "Acme"),
        ("ENG-3", "interruption", "2024-03-02 10:00", "Frontend", "Selected", "Acme"),
    ]


def test_team_from_a_map_of_assignees():
    raw = issue("OPS-1", "2024-01-01T00:00:00Z", "To Do", [
        {"id": "1", "created": "2024-01-01T01:00:00Z", "items": [
            {"field": "assignee", "fieldId": "assignee", "from": None, "fromString": None,
             "to": "acc-9", "toString": "Dana"}]}])
    raw["fields"]["assignee"] = {"accountId": "acc-9", "displayName": "Dana"}
    result = j.jira_to_events([raw], team_field="assignee", team_map={"acc-9": "SRE"})
    assert [(e[1], e[3]) for e in journey(result)] == [("interruption", None),
                                                      ("handoff", "SRE")]


HELPDESK = """event_id,account_id,timestamp,kind,case_id,team,label
a,Acme,2024-03-01T09:00:00Z,interruption,1,Support,new
b,Acme,2024-03-01T16:00:00Z,smile,1,Support,solved
c,Globex,2024-03-02T09:00:00Z,interruption,2,Support,new
d,Globex,2024-03-02T09:30:00Z,handoff,2,Tier 2,open
e,Globex,2024-03-02T13:00:00Z,smile,2,Tier 2,solved
"""


def test_linked_issues_hold_the_customers_case_while_in_progress(fake, tmp_path):
    helpdesk = tmp_path / "helpdesk.csv"
    helpdesk.write_text(HELPDESK)
    out = tmp_path / "jira.csv"
    result = runner.invoke(app, ["jira", "--url", fake.url, "--jql", "project = ENG",
                                 "--team-field", TEAM, "--case-field", TICKETS,
                                 "--cases", str(helpdesk), "-o", str(out)], env=ENV)
    assert result.exit_code == 0, result.output
    assert [line.split(",")[1:] for line in out.read_text().splitlines()[1:]] == [
        ["Acme", "2024-03-01T10:00:00Z", "handoff", "1", "Platform", "ENG-1 in progress"],
        ["Acme", "2024-03-01T14:00:00Z", "handoff", "1", "Support",
         "ENG-1 left in progress"],
        ["Globex", "2024-03-02T11:00:00Z", "handoff", "2", "Frontend", "ENG-3 in progress"],
    ]
    assert "linked cases not found in the help desk's events" in result.output  # case 99
    # Measured together: the case's 7 hours are Support's 3 and Engineering's (Platform) 4.
    m = valueclock.measure([helpdesk, out])
    holds = {(r["case_id"], r["team"]): r["hours"] for r in
             m.holds.to_pyarrow().to_pylist()}
    assert holds[("1", "Support")] == 3 and holds[("1", "Platform")] == 4
    assert holds[("2", "Tier 2")] == 1.5 and holds[("2", "Frontend")] == 2


def test_links_from_a_table_and_from_files(fake, tmp_path):
    issues = fetch(fake)
    export = tmp_path / "issues.json"
    export.write_text(json.dumps({"startAt": 0, "total": 3, "issues": issues}))
    links = tmp_path / "links.csv"
    links.write_text("ticket,jira\n1,ENG-1\n")
    helpdesk = tmp_path / "helpdesk.csv"
    helpdesk.write_text(HELPDESK)
    out = tmp_path / "jira.csv"
    result = runner.invoke(app, ["jira", str(export), "--team-field", TEAM, "--links",
                                 str(links), "--link-case", "ticket", "--link-key", "jira",
                                 "--cases", str(helpdesk), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 3  # header and ENG-1's two handoffs


def test_a_429_is_waited_out(fake):
    fake.fail["/rest/api/3/search/jql"] = Reply({"errorMessages": ["Rate limit"]}, 429,
                                                {"Retry-After": "3"})
    waits = []
    assert len(fetch(fake, sleep=waits.append)) == 3 and waits == [3.0]


@pytest.mark.parametrize(("path", "reply", "message"), [
    ("/rest/api/3/search/jql", Reply({"errorMessages": ["Client must be authenticated"]}, 401),
     "Jira refused the credentials (HTTP 401): check JIRA_EMAIL and JIRA_API_TOKEN "
     "(Client must be authenticated)"),
    ("/rest/api/3/issue/ENG-1/changelog", Reply({"startAt": 0}),
     "Jira sent a malformed page"),
    ("/rest/api/3/search/jql", Reply("{\"issues\": [", 200), "Jira sent a page that is not JSON"),
    ("/rest/api/3/search/jql", Reply({"errorMessages": ["Error in the JQL Query: "
                                                        "Expecting operator"]}, 400),
     "Jira answered HTTP 400 for"),
])
def test_a_failure_is_one_line_and_writes_nothing(fake, tmp_path, path, reply, message):
    fake.fail[path] = reply
    out = tmp_path / "jira.csv"
    result = runner.invoke(app, ["jira", "--url", fake.url, "--jql", "project = ENG",
                                 "-o", str(out)], env=ENV)
    assert isinstance(result.exception, InputError)
    assert message in str(result.exception) and "\n" not in str(result.exception)
    assert list(tmp_path.iterdir()) == []
