"""Analytics exports: the listed milestones and content pages become value events."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from valueclock.errors import InputError, UsageError
from valueclock.sources.analytics import analytics_to_events
from valueclock.sources.cli import app

runner = CliRunner()
USERS = {"u1": "Acme", "u2": "Globex"}

SEGMENT = [
    {"type": "page", "userId": "u1", "name": "Pricing", "messageId": "m1",
     "timestamp": "2024-03-01T10:00:00.000Z",
     "properties": {"path": "/pricing", "url": "https://acme.test/pricing"}},
    {"type": "track", "userId": "u1", "event": "Report Created", "messageId": "m2",
     "timestamp": "2024-03-05T10:00:00.000Z", "properties": {"report": "weekly"}},
    {"type": "track", "userId": "u1", "event": "Button Clicked", "messageId": "m3",
     "timestamp": "2024-03-05T11:00:00.000Z", "properties": {}},
    {"type": "group", "userId": "u3", "groupId": "Initech", "messageId": "m4",
     "timestamp": "2024-03-01T00:00:00Z", "traits": {"name": "Initech"}},
    {"type": "track", "userId": "u3", "event": "report created", "messageId": "m5",
     "timestamp": "2024-03-06T10:00:00+01:00", "properties": {}},
    {"type": "track", "anonymousId": "anon-7", "event": "Report Created",
     "messageId": "m6", "timestamp": "2024-03-07T10:00:00Z", "properties": {}},
]
MIXPANEL = [
    {"event": "$mp_web_page_view", "properties": {
        "time": 1709287200, "distinct_id": "u1", "$insert_id": "i1",
        "$current_url": "https://acme.test/pricing?utm=x"}},
    {"event": "Report Created", "properties": {
        "time": 1709632800000, "distinct_id": "u1", "$insert_id": "i2"}},  # milliseconds
]
POSTHOG = [
    {"uuid": "0189-a", "event": "$pageview", "distinct_id": "u1",
     "timestamp": "2024-03-01T10:00:00Z",
     "properties": {"$pathname": "/pricing", "$current_url": "https://acme.test/pricing"}},
    {"uuid": "0189-b", "event": "Report Created", "distinct_id": "u1",
     "timestamp": "2024-03-05T10:00:00Z", "properties": {}},
]
GA4 = [
    {"event_date": "20240301", "event_timestamp": "1709287200000000",
     "event_name": "page_view", "user_pseudo_id": "123.456", "user_id": "u1",
     "event_params": [{"key": "page_location",
                       "value": {"string_value": "https://acme.test/pricing",
                                 "int_value": None}},
                      {"key": "ga_session_id", "value": {"int_value": 17}}]},
    {"event_date": "20240305", "event_timestamp": "1709632800000000",
     "event_name": "Report Created", "user_pseudo_id": "123.456", "user_id": "u1",
     "event_params": []},
]


def write(path, rows, *, array=False):
    text = json.dumps(rows) if array else "".join(json.dumps(r) + "\n" for r in rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def values(result):
    return [(e["account_id"], e["timestamp"].isoformat(), e["label"], e["team"])
            for e in result.events.to_pylist()]


@pytest.mark.parametrize(("fmt", "rows", "name"), [
    ("segment", SEGMENT[:3], "s.jsonl"), ("mixpanel", MIXPANEL, "m.json.gz"),
    ("posthog", POSTHOG, "p.json"), ("ga4", GA4, "g.jsonl")])
def test_every_format_gives_the_same_value_events(tmp_path, fmt, rows, name):
    path = write(tmp_path / name, rows, array=name.endswith(".json"))
    result = analytics_to_events(path, fmt=fmt, milestones=["Report Created"],
                                 pages=["/pricing"], users=USERS, team="Product",
                                 page_team="Marketing")
    assert values(result) == [
        ("Acme", "2024-03-01T10:00:00+00:00", "Viewed /pricing", "Marketing"),
        ("Acme", "2024-03-05T10:00:00+00:00", "Report Created", "Product")]
    assert result.events.column("user_id").to_pylist() == ["u1", "u1"]
    again = analytics_to_events(path, fmt=fmt, milestones=["Report Created"],
                                pages=["/pricing"], users=USERS)
    assert again.events.column("event_id").equals(result.events.column("event_id"))


def test_segment_groups_join_users_and_unknown_users_are_reported(tmp_path):
    path = write(tmp_path / "segment.jsonl", SEGMENT)
    result = analytics_to_events(path, fmt="segment", milestones=["Report Created"],
                                 users=USERS)
    assert values(result) == [
        ("Acme", "2024-03-05T10:00:00+00:00", "Report Created", None),
        ("Initech", "2024-03-06T09:00:00+00:00", "report created", None)]
    assert result.problems == [{"problem": "value events of users with no account (left "
                                "out; add them to --users)", "count": 1,
                                "examples": ["anon-7"]}]
    assert result.rows == 6


def test_the_command_joins_people_to_accounts_from_a_csv(tmp_path):
    path = write(tmp_path / "posthog.jsonl", POSTHOG)
    users = tmp_path / "users.csv"
    users.write_text("email,company\nu1,Acme\n")
    out = tmp_path / "value.csv"
    result = runner.invoke(app, ["analytics", str(path), "--format", "posthog", "--event",
                                 "Report Created", "--page", "/pric*", "--users", str(users),
                                 "--user-col", "email", "--account-col", "company",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[1:] for line in out.read_text().splitlines()] == [
        ["account_id", "timestamp", "kind", "case_id", "team", "label", "user_id"],
        ["Acme", "2024-03-01T10:00:00Z", "value", "", "", "Viewed /pricing", "u1"],
        ["Acme", "2024-03-05T10:00:00Z", "value", "", "", "Report Created", "u1"]]


def test_unusable_input_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event": "x"\nnot json\n')
    with pytest.raises(InputError, match="cannot read as segment JSON"):
        analytics_to_events(bad, fmt="segment", milestones=["x"])
    with pytest.raises(UsageError, match="say what is value"):
        analytics_to_events(bad, fmt="segment")
    with pytest.raises(UsageError, match="unknown analytics format"):
        analytics_to_events(bad, fmt="amplitude", milestones=["x"])
