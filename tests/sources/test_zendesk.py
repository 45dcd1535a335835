"""Zendesk: a local server answering as Zendesk's API documents it, and export files.

Payloads follow the documented shapes: the cursor-based incremental ticket export
(``tickets``, ``after_cursor``, ``after_url``, ``end_of_stream``), ticket audits with
cursor pagination (``audits``, ``meta.has_more``, ``meta.after_cursor``, ``links.next``)
whose ``Create``/``Change`` events carry ``field_name``/``value``/``previous_value``,
``organizations/show_many`` and ``groups``.
"""

from __future__ import annotations

import base64
import json

import pytest
from api_server import ApiServer, Reply
from helpers_sources import journey
from typer.testing import CliRunner

from valueclock.errors import InputError
from valueclock.sources import zendesk as z
from valueclock.sources.cli import app

runner = CliRunner()
ENV = {"ZENDESK_EMAIL": "agent@acme.test", "ZENDESK_API_TOKEN": "s3cret"}


def audit(ticket, at, status=None, group=None, *, create=False, audit_id=None):
    kind = "Create" if create else "Change"
    events = [{"id": 1, "type": "Comment", "body": "hello", "public": True}]
    if status:
        events.append({"id": 2, "type": kind, "field_name": "status", "value": status,
                       **({} if create else {"previous_value": "x"})})
    if group:
        events.append({"id": 3, "type": kind, "field_name": "group_id", "value": str(group)})
    return {"id": audit_id or hash((ticket, at)) % 10**9, "ticket_id": ticket,
            "created_at": at, "author_id": 7, "events": events, "metadata": {},
            "via": {"channel": "web"}}


class FakeZendesk:
    """Three tickets over two export pages; ticket 1's audits over two pages."""

    def __init__(self):
        self.tickets = {
            1: {"id": 1, "status": "solved", "group_id": 20, "organization_id": 100,
                "created_at": "2024-03-01T09:00:00Z", "updated_at": "2024-03-02T09:00:00Z"},
            2: {"id": 2, "status": "open", "group_id": 10, "organization_id": 200,
                "created_at": "2024-03-01T11:00:00Z", "updated_at": "2024-03-01T11:00:00Z"},
            3: {"id": 3, "status": "deleted", "group_id": None, "organization_id": None,
                "created_at": "2024-03-01T12:00:00Z", "updated_at": "2024-03-01T12:00:00Z"},
        }
        self.audits = {
            1: [audit(1, "2024-03-01T09:00:00Z", "new", 10, create=True, audit_id=11),
                audit(1, "2024-03-01T10:00:00Z", "open", 20, audit_id=12),
                audit(1, "2024-03-01T10:30:00Z", audit_id=13),  # a comment only
                audit(1, "2024-03-02T09:00:00Z", "solved", audit_id=14)],
            2: [audit(2, "2024-03-01T11:00:00Z", "new", 10, create=True, audit_id=21)],
        }
        self.changed_since_cursor = [2]  # what a pull from the cursor "c2" finds
        self.fail: dict[str, Reply] = {}  # path -> a reply given once instead
        self.expired = False

    def answer(self, request):
        for path, reply in list(self.fail.items()):
            if request.path == path:
                del self.fail[path]
                return reply
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(b"agent@acme.test/token:s3cret").decode()
        if auth != expected:
            return Reply({"error": "Couldn't authenticate you"}, 401)
        if request.path == "/api/v2/incremental/tickets/cursor.json":
            cursor = request.param("cursor")
            if cursor == "c2" and self.expired:
                return Reply({"error": "InvalidPaginationParameter",
                              "description": "cursor has expired"}, 422)
            if cursor is None:
                ids = [1, 2] if request.param("start_time") == "0" else [2]
                after, end = "c1", False
            elif cursor == "c1":
                ids, after, end = [3], "c2", True
            else:
                ids, after, end = self.changed_since_cursor, "c3", True
            return Reply({"tickets": [self.tickets[i] for i in ids],
                          "after_cursor": after, "before_cursor": None,
                          "after_url": f"http://127.0.0.1/elsewhere?cursor={after}",
                          "before_url": None, "end_of_stream": end})
        if request.path.startswith("/api/v2/tickets/") and request.path.endswith("audits.json"):
            ticket = int(request.path.split("/")[4])
            audits = self.audits[ticket]
            if request.param("page[after]") == "a2":
                items, more = audits[2:], False
            else:
                items, more = (audits[:2], True) if len(audits) > 2 else (audits, False)
            return Reply({"audits": items,
                          "meta": {"has_more": more, "after_cursor": "a2" if more else None,
                                   "before_cursor": None},
                          "links": {"next": f"{request.path}?page[size]=100&page[after]=a2"
                                    if more else None, "prev": None}})
        if request.path == "/api/v2/organizations/show_many.json":
            orgs = {"100": {"id": 100, "name": "Acme", "external_id": "001A"},
                    "200": {"id": 200, "name": "Globex", "external_id": None}}
            return Reply({"organizations": [orgs[i] for i in request.param("ids").split(",")]})
        if request.path == "/api/v2/groups.json":
            return Reply({"groups": [{"id": 10, "name": "Support"},
                                     {"id": 20, "name": "Engineering"}],
                          "meta": {"has_more": False}, "links": {"next": None}})
        return Reply({"error": "RecordNotFound"}, 404)


@pytest.fixture
def fake():
    server_data = FakeZendesk()
    with ApiServer(server_data.answer) as server:
        server_data.server = server
        server_data.url = server.url
        yield server_data


def pull(fake, tmp_path, *extra, out="events.csv"):
    target = tmp_path / out
    result = runner.invoke(app, ["zendesk", "--url", fake.url, "--out", str(target), *extra],
                           env=ENV)
    return result, target


def rows(path):
    return [line.split(",") for line in path.read_text().splitlines()[1:]]


def test_a_pull_follows_every_page_and_gives_each_ticket_its_history(fake, tmp_path):
    client = z.zendesk_client(url=fake.url, environ=ENV)
    with client:
        data = z.fetch_zendesk(client)
    assert sorted(data.tickets) == ["1", "2", "3"] and data.cursor == "c2"
    assert len(data.audits["1"]) == 4  # both pages of audits
    assert "3" not in data.audits  # deleted: no audits asked for
    result = z.zendesk_to_events(data)
    assert journey(result) == [
        ("1", "interruption", "2024-03-01 09:00", "Support", "new", "Acme"),
        ("1", "handoff", "2024-03-01 10:00", "Engineering", "open", "Acme"),
        ("1", "smile", "2024-03-02 09:00", "Engineering", "solved", "Acme"),
        ("2", "interruption", "2024-03-01 11:00", "Support", "new", "Globex"),
    ]
    assert {"problem": "deleted tickets (left out)", "count": 1,
            "examples": ["3"]} in result.problems
    # Only the given host was called, never the after_url's other host.
    assert all(r.headers["Host"].startswith("127.0.0.1") for r in fake.server.requests)


def test_the_command_writes_events_and_the_next_pull_is_incremental(fake, tmp_path):
    first, out = pull(fake, tmp_path)
    assert first.exit_code == 0, first.output
    state = json.loads((tmp_path / "events.csv.zendesk-state.json").read_text())
    assert state["cursor"] == "c2" and state["latest"] == "2024-03-02T09:00:00+00:00"
    before = out.read_text()
    # Ticket 2 is solved, then reopened and handed to Engineering.
    fake.audits[2] += [audit(2, "2024-03-03T09:00:00Z", "solved", audit_id=22),
                       audit(2, "2024-03-04T09:00:00Z", "open", 20, audit_id=23)]
    fake.server.requests.clear()
    second, _ = pull(fake, tmp_path)
    assert second.exit_code == 0, second.output
    asked = [(r.path, r.query) for r in fake.server.requests]
    assert asked[0] == ("/api/v2/incremental/tickets/cursor.json", {"cursor": "c2"})
    assert not any("/tickets/1/" in p for p, _ in asked)  # ticket 1 unchanged: not fetched
    after = rows(out)
    assert [r[1:5] for r in after if r[4] == "2"] == [
        ["Globex", "2024-03-01T11:00:00Z", "interruption", "2"],
        ["Globex", "2024-03-03T09:00:00Z", "smile", "2"],
        ["Globex", "2024-03-04T09:00:00Z", "handoff", "2"],
        ["Globex", "2024-03-04T09:00:00Z", "reopen", "2"]]
    assert [r for r in rows(out) if r[4] == "1"] == [
        r for r in (line.split(",") for line in before.splitlines()[1:]) if r[4] == "1"]
    assert "Incremental pull: 1 tickets changed" in second.output
    # Pulling again with nothing new changes nothing.
    fake.changed_since_cursor = []
    again = out.read_text()
    third, _ = pull(fake, tmp_path)
    assert third.exit_code == 0 and out.read_text() == again


def test_an_expired_cursor_starts_again_from_the_last_pull(fake, tmp_path):
    pull(fake, tmp_path)
    fake.expired = True
    fake.server.requests.clear()
    result, out = pull(fake, tmp_path)
    assert result.exit_code == 0, result.output
    assert "cursor had expired" in result.output
    starts = [r.query.get("start_time") for r in fake.server.requests
              if r.path.endswith("cursor.json")]
    assert starts[1] == str(1709370000 - 60)  # 2024-03-02T09:00Z less a minute
    assert len([r for r in rows(out) if r[4] == "1"]) == 3


def test_a_429_is_waited_out_as_retry_after_says(fake):
    fake.fail["/api/v2/groups.json"] = Reply({"error": "slow down"}, 429,
                                             {"Retry-After": "7"})
    waits = []
    client = z.zendesk_client(url=fake.url, environ=ENV, sleep=waits.append)
    with client:
        data = z.fetch_zendesk(client)
    assert waits == [7.0] and data.groups["20"] == "Engineering"


@pytest.mark.parametrize(("path", "reply", "message"), [
    ("/api/v2/incremental/tickets/cursor.json", Reply({"error": "Couldn't authenticate you"},
                                                      401),
     "Zendesk refused the credentials (HTTP 401): check ZENDESK_EMAIL and ZENDESK_API_TOKEN"),
    ("/api/v2/tickets/1/audits.json", Reply("<html>Bad gateway</html>", 200,
                                            {"Content-Type": "text/html"}),
     "Zendesk sent a page that is not JSON"),
    ("/api/v2/tickets/2/audits.json", Reply({"count": 3}),
     "Zendesk sent a malformed page"),
    ("/api/v2/groups.json", Reply({"error": "boom"}, 500), "Zendesk answered HTTP 500"),
])
def test_a_failure_is_one_line_and_leaves_the_events_and_cursor_as_they_were(
        fake, tmp_path, path, reply, message):
    pull(fake, tmp_path)
    out, state = tmp_path / "events.csv", tmp_path / "events.csv.zendesk-state.json"
    before = (out.read_text(), state.read_text())
    fake.changed_since_cursor = [1, 2]
    fake.fail[path] = reply
    if path.endswith("cursor.json"):
        fake.fail.clear()
        env = {**ENV, "ZENDESK_API_TOKEN": "wrong"}
        result = runner.invoke(app, ["zendesk", "--url", fake.url, "-o", str(out)], env=env)
    else:
        result, _ = pull(fake, tmp_path)
    assert isinstance(result.exception, InputError)
    assert message in str(result.exception) and "\n" not in str(result.exception)
    assert (out.read_text(), state.read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events.csv", "events.csv.zendesk-state.json"]  # no temporary file left


def test_credentials_come_from_the_environment(fake, tmp_path):
    result = runner.invoke(app, ["zendesk", "--url", fake.url, "-o", str(tmp_path / "e.csv")],
                           env={"ZENDESK_EMAIL": "", "ZENDESK_API_TOKEN": ""})
    assert "set ZENDESK_EMAIL in the environment" in str(result.exception)
    assert not fake.server.requests


def test_export_files_give_the_same_events_as_the_api(fake, tmp_path):
    client = z.zendesk_client(url=fake.url, environ=ENV)
    with client:
        from_api = z.zendesk_to_events(z.fetch_zendesk(client))
    export = tmp_path / "zendesk.json"
    tickets = [dict(t, audits=fake.audits.get(i, [])) for i, t in fake.tickets.items()]
    export.write_text(json.dumps({
        "tickets": tickets,
        "organizations": [{"id": 100, "name": "Acme"}, {"id": 200, "name": "Globex"}],
        "groups": [{"id": 10, "name": "Support"}, {"id": 20, "name": "Engineering"}]}))
    from_file = z.zendesk_to_events(z.read_zendesk(export))
    assert from_file.events.equals(from_api.events)
    out = tmp_path / "e.csv"
    result = runner.invoke(app, ["zendesk", str(export), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(rows(out)) == 4


def test_a_workspace_keeps_the_cursor_and_adds_each_event_once(fake, tmp_path):
    from valueclock.workspace import Workspace

    Workspace.init(tmp_path / "ws").close()
    args = ["zendesk", "--url", fake.url, "-w", str(tmp_path / "ws")]
    first = runner.invoke(app, args, env=ENV)
    assert first.exit_code == 0, first.output
    assert "4 events added, 0 already there" in " ".join(first.output.split())
    states = list((tmp_path / "ws" / ".valueclock-state").iterdir())
    assert len(states) == 1 and json.loads(states[0].read_text())["cursor"] == "c2"
    second = runner.invoke(app, args, env=ENV)  # ticket 2 again, from the cursor
    assert "0 events added, 1 already there" in " ".join(second.output.split())
