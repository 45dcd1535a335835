"""Jira: issues and their changelogs, as cases of their own or inside help-desk cases.

**Issues as cases** (Jira Service Management, or a tracker used as a help desk): each
issue's changelog is flattened into a status log and converted by the one converter
(:mod:`valueclock.sources.status_log`):

- the issue key is the case; its first row is at ``created``, with the status and team it
  had then (the ``from`` side of the first change of each, or its current value when it
  never changed);
- every changelog entry that changes the status or the team is a row at its ``created``;
- the **team** is, in this order of preference, a team field (``team_field``: a custom
  field such as Atlassian's *Team*, by id ``customfield_10001`` or name), the
  ``components`` (the component added last), or the ``assignee`` mapped to a team
  (``team_map``: assignee account id, name or email -> team). ``team_map`` also maps the
  values of any other team field (e.g. component -> team);
- the account is ``account_field`` (e.g. *Organizations*, or ``project``);
- smiles are ``Done``, ``Resolved`` and ``Closed`` unless chosen.

**Issues linked to help-desk cases** (``links``): engineering time belongs to the
customer's case. The rule, per linked case:

- while a linked issue is *in progress* (its status is one of ``in_progress``, by default
  ``In Progress``), the case's clock is held by the issue's team (its team at the moment
  it entered that status): a ``handoff`` to that team is emitted into the case when the
  issue enters in-progress;
- when it leaves in-progress, a ``handoff`` back to the team that held the case before
  (the help desk's holder at that moment, from the case's own events) is emitted;
- with several linked issues in progress at once, the one that entered last holds the
  clock; when it leaves, the clock goes to the one still in progress, else back to the
  help desk;
- an issue in progress before the case began hands the case over at its start (after its
  interruption); time before a case starts is not the case's;
- nothing else of the issue is emitted: its statuses do not smile or reopen the case.

Links come from a field of the issue naming the cases (``case_field``, e.g. the
*Zendesk Ticket IDs* field that the Zendesk Support for Jira app fills; several ids
separated by commas or spaces), and/or from a table of (case id, issue key) pairs (a
help-desk field holding the Jira key, exported). The help desk's events (the canonical
file written by ``valueclock import zendesk`` or any other import) give each case's
account and holders.

From the API: JQL search with ``expand=changelog`` (``/rest/api/3/search/jql`` with
``nextPageToken``; the older ``/rest/api/2/search`` with ``startAt``/``total`` is followed
the same way); when an issue's embedded changelog is cut short (its ``total`` is more
than the histories it holds), the whole changelog is fetched from
``/rest/api/3/issue/{key}/changelog``, page by page. Credentials: ``JIRA_EMAIL`` and
``JIRA_API_TOKEN`` (Cloud, basic auth), or ``JIRA_TOKEN`` (a Data Center personal access
token, bearer). From files: JSON or JSON lines of search pages (``{"issues": [...]}``)
or of issues.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from valueclock.errors import InputError, UsageError
from valueclock.sources.common import (
    Problems,
    event_id,
    events_table,
    instant,
    read_json_documents,
    records,
    status_log_table,
    text,
)
from valueclock.sources.http import ApiClient, ApiError, env_credential, need
from valueclock.sources.status_log import ConversionResult, status_log_to_events

__all__ = ["jira_client", "fetch_jira", "read_jira", "jira_status_log", "jira_to_events",
           "jira_links", "link_jira_to_cases", "JIRA_SMILES", "JIRA_IN_PROGRESS"]

JIRA_SMILES: tuple[str, ...] = ("Done", "Resolved", "Closed")
JIRA_IN_PROGRESS: tuple[str, ...] = ("In Progress",)
SEARCH_PATH = "/rest/api/3/search/jql"


def jira_client(url: str | None, *, environ: Mapping[str, str],
                transport: httpx.BaseTransport | None = None,
                sleep: Callable[[float], None] | None = None) -> ApiClient:
    """An API client for the Jira site at ``url``, credentials from ``environ``."""
    if not url:
        raise UsageError("give the Jira site: --url https://YOURSITE.atlassian.net")
    extra = {"sleep": sleep} if sleep is not None else {}
    if environ.get("JIRA_TOKEN", "").strip():
        return ApiClient(url, name="Jira", transport=transport,
                         headers={"Authorization": f"Bearer {environ['JIRA_TOKEN'].strip()}"},
                         credentials_hint="check JIRA_TOKEN", **extra)
    email = env_credential("JIRA_EMAIL", environ, "the Atlassian account's email")
    token = env_credential("JIRA_API_TOKEN", environ,
                           "an API token from id.atlassian.com > Security > API tokens")
    return ApiClient(url, name="Jira", auth=(email, token), transport=transport,
                     credentials_hint="check JIRA_EMAIL and JIRA_API_TOKEN", **extra)


def fetch_jira(client: ApiClient, jql: str, *, fields: Sequence[str] = (),
               page_size: int = 50, search_path: str = SEARCH_PATH,
               progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """The issues ``jql`` finds, each with its whole changelog."""
    wanted = ["created", "status", "project", *fields]
    params: dict[str, Any] = {"jql": jql, "expand": "changelog", "maxResults": page_size,
                              "fields": ",".join(dict.fromkeys(f for f in wanted if f))}
    issues: list[dict[str, Any]] = []
    seen_tokens: set[str] = set()
    while True:
        page = client.get(search_path, params=params)
        batch = need(page, "issues", list, "Jira", client.url(search_path))
        for issue in batch:
            if not isinstance(issue, dict) or not issue.get("key"):
                raise ApiError(f"Jira sent a malformed page ({client.url(search_path)}): "
                               "an issue without a key")
            issues.append(_complete_changelog(client, issue))
        if progress:
            progress(f"{len(issues):,} Jira issues")
        token = page.get("nextPageToken")
        if token:  # the search/jql endpoint
            if page.get("isLast") is True or token in seen_tokens:
                break
            seen_tokens.add(token)
            params = {**params, "nextPageToken": token}
            continue
        if "total" in page and "startAt" in page and batch:  # the older search endpoint
            start = int(page["startAt"]) + len(batch)
            if start < int(page["total"]):
                params = {**params, "startAt": start}
                continue
        break
    return issues


def _complete_changelog(client: ApiClient, issue: dict[str, Any]) -> dict[str, Any]:
    """The issue with its whole changelog, fetched when the embedded one is cut short."""
    log = issue.get("changelog") or {}
    histories = log.get("histories") or []
    total = log.get("total")
    if total is None or int(total) <= len(histories):
        return issue
    path = f"/rest/api/3/issue/{issue['key']}/changelog"
    values: list[dict[str, Any]] = []
    start = 0
    while True:
        page = client.get(path, params={"startAt": start, "maxResults": 100})
        batch = need(page, "values", list, "Jira", client.url(path))
        values.extend(v for v in batch if isinstance(v, dict))
        start += len(batch)
        if page.get("isLast") is True or not batch or start >= int(page.get("total", 0)):
            break
    return {**issue, "changelog": {"startAt": 0, "maxResults": len(values),
                                   "total": len(values), "histories": values}}


def read_jira(paths: str | Path | Sequence[str | Path]) -> list[dict[str, Any]]:
    """Issues from JSON files: search pages (``{"issues": [...]}``), lists of issues, or
    issues, one document or one per line."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    issues: list[dict[str, Any]] = []
    for path in paths:
        found = [i for i in records(read_json_documents(path), "issues") if i.get("key")]
        if not found:
            raise InputError("no Jira issues found (expected search results with an "
                             "'issues' list, or issues with a 'key')", path=str(path))
        issues.extend(found)
    return issues


def _matches(item: dict[str, Any], field: str) -> bool:
    name = field.lower()
    return (str(item.get("fieldId") or "").lower() == name
            or str(item.get("field") or "").lower() == name
            or (name == "components" and str(item.get("field")).lower() == "component"))


def _histories(issue: dict[str, Any]) -> list[dict[str, Any]]:
    log = issue.get("changelog") or {}
    found = [h for h in log.get("histories") or [] if isinstance(h, dict)]
    return sorted(found, key=lambda h: (instant(h.get("created"))
                                        or datetime.max.replace(tzinfo=UTC),
                                        int(h["id"]) if str(h.get("id", "")).isdigit()
                                        else 0))


class _Team:
    """How an issue's team is read: from a field, the components, or the assignee."""

    def __init__(self, field: str | None, team_map: Mapping[str, str] | None) -> None:
        self.field = field
        self.map = {k.strip().lower(): v for k, v in (team_map or {}).items()}

    def name(self, *values: Any) -> str | None:
        """The team for a field value (raw id and display forms tried in the map)."""
        shown = None
        for value in values:
            forms = ([value.get(k) for k in ("accountId", "emailAddress", "name",
                                             "displayName", "value", "title", "id")]
                     if isinstance(value, dict) else [value])
            for form in forms:
                t = text(form)
                if t is None:
                    continue
                shown = shown or t
                if t.lower() in self.map:
                    return self.map[t.lower()]
        if self.map and self.field in ("assignee", None):
            return None  # an assignee outside the map is no team
        return shown


def _timeline(issue: dict[str, Any], field: str, current: Callable[[], Any],
              value: Callable[[Any, Any], Any]) -> list[tuple[datetime, Any]]:
    """(time, value) of a field: its value at creation, then each change."""
    created = instant((issue.get("fields") or {}).get("created"))
    changes = [(instant(h.get("created")), item) for h in _histories(issue)
               for item in h.get("items") or [] if _matches(item, field)]
    if changes:
        first = changes[0][1]
        start = value(first.get("fromString"), first.get("from"))
    else:
        start = current()
    out = [(created, start)]
    for when, item in changes:
        if when is not None:
            out.append((when, value(item.get("toString"), item.get("to"))))
    return out


def _team_timeline(issue: dict[str, Any], team: _Team) -> list[tuple[datetime, Any]]:
    fields = issue.get("fields") or {}
    field = team.field or ("assignee" if team.map else "components")
    if field == "components":
        def current() -> Any:
            comps = fields.get("components") or []
            return team.name(comps[-1]) if comps else None
        return _timeline(issue, "components", current,
                         lambda shown, raw: team.name(shown, raw) if shown else None)
    return _timeline(issue, field, lambda: team.name(fields.get(field)),
                     lambda shown, raw: team.name(raw, shown))


def _status_timeline(issue: dict[str, Any]) -> list[tuple[datetime, Any]]:
    fields = issue.get("fields") or {}
    return _timeline(issue, "status", lambda: text(fields.get("status")),
                     lambda shown, raw: text(shown) or text(raw))


def jira_status_log(issues: Iterable[dict[str, Any]], *, team_field: str | None = None,
                    team_map: Mapping[str, str] | None = None,
                    account_field: str | None = None,
                    problems: Problems | None = None) -> pa.Table:
    """Issues to a status log (``case``, ``time``, ``status``, ``team``, ``account``)."""
    problems = problems if problems is not None else Problems()
    team = _Team(team_field, team_map)
    rows: list[dict[str, Any]] = []
    for issue in issues:
        key = str(issue["key"])
        fields = issue.get("fields") or {}
        if instant(fields.get("created")) is None:
            problems.add("issues without a readable 'created' (left out)", key)
            continue
        account = text(fields.get(account_field)) if account_field else None
        changes: dict[datetime, dict[str, Any]] = {}
        for name, line in (("status", _status_timeline(issue)),
                           ("team", _team_timeline(issue, team))):
            for when, value in line:
                changes.setdefault(when, {})[name] = value
        for when in sorted(changes):
            rows.append({"case": key, "time": when, "account": account,
                         "status": changes[when].get("status"),
                         "team": changes[when].get("team")})
    return status_log_table(rows)


def jira_to_events(issues: Sequence[dict[str, Any]], *, smile: Sequence[str] = JIRA_SMILES,
                   team_field: str | None = None, team_map: Mapping[str, str] | None = None,
                   account_field: str | None = None,
                   source: str = "jira") -> ConversionResult:
    """Issues as cases of their own (see this module's documentation)."""
    problems = Problems()
    table = jira_status_log(issues, team_field=team_field, team_map=team_map,
                            account_field=account_field, problems=problems)
    result = status_log_to_events(table, case="case", time="time", status="status",
                                  team="team", account="account", smile=smile,
                                  source=source)
    return ConversionResult(events=result.events,
                            problems=problems.as_list() + result.problems,
                            rows=result.rows, cases=result.cases)


def jira_links(issues: Iterable[dict[str, Any]], *, case_field: str | None = None,
               pairs: Iterable[tuple[str, str]] = ()) -> dict[str, list[str]]:
    """Issue key -> the case ids it is linked to, from ``case_field`` and ``pairs``
    (``(case_id, issue_key)``)."""
    links: dict[str, list[str]] = {}
    if case_field:
        for issue in issues:
            value = (issue.get("fields") or {}).get(case_field)
            values = value if isinstance(value, list) else [value]
            for v in values:
                for case in re.split(r"[,;\s]+", text(v) or ""):
                    if case:
                        links.setdefault(str(issue["key"]), []).append(case)
    for case, key in pairs:
        if case and key:
            links.setdefault(key.strip(), []).append(case.strip())
    return {k: list(dict.fromkeys(v)) for k, v in links.items()}


def _case_holders(case_events: pa.Table, cases: set[str]) -> dict[str, dict[str, Any]]:
    """For each of ``cases``: its account, start, and holder changes from its events."""
    wanted = case_events.select(["account_id", "timestamp", "kind", "case_id", "team"])
    out: dict[str, dict[str, Any]] = {}
    rank = {"interruption": 0, "handoff": 1, "reopen": 2}
    rows = [r for r in wanted.to_pylist() if r["case_id"] in cases and r["timestamp"]]
    rows.sort(key=lambda r: (r["timestamp"], rank.get(r["kind"], 9)))
    for r in rows:
        when = r["timestamp"]
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        case = out.setdefault(r["case_id"], {"account": None, "start": None, "holds": []})
        if r["kind"] == "interruption" and case["start"] is None:
            case["start"], case["account"] = when, r["account_id"]
        if r["kind"] in rank and r["team"]:
            case["holds"].append((when, r["team"]))
    return out


def _holder_at(holds: list[tuple[datetime, str]], when: datetime) -> str | None:
    team = None
    for at, name in holds:
        if at > when:
            break
        team = name
    return team


def link_jira_to_cases(issues: Sequence[dict[str, Any]], links: Mapping[str, list[str]],
                       case_events: pa.Table, *,
                       in_progress: Sequence[str] = JIRA_IN_PROGRESS,
                       team_field: str | None = None,
                       team_map: Mapping[str, str] | None = None,
                       source: str = "jira") -> ConversionResult:
    """Handoffs into the linked help-desk cases while linked issues are in progress.

    ``case_events`` are the help desk's canonical events (as :func:`valueclock.events.
    read_events` gives them). The rule is in this module's documentation.
    """
    problems = Problems()
    team = _Team(team_field, team_map)
    progress = {s.strip().lower() for s in in_progress}
    by_key = {str(i["key"]): i for i in issues}
    holders = _case_holders(case_events, {c for cs in links.values() for c in cs})
    # Per case: the intervals its linked issues were in progress, with their team.
    spans: dict[str, list[tuple[datetime, datetime | None, str, str]]] = {}
    for key, cases in links.items():
        issue = by_key.get(key)
        if issue is None:
            problems.add("linked issues not among the issues read (left out)", key)
            continue
        statuses = [(w, s) for w, s in _status_timeline(issue) if w is not None]
        teams = [(w, t) for w, t in _team_timeline(issue, team) if w is not None]
        fallback = text((issue.get("fields") or {}).get("project")) or "Engineering"
        entered: datetime | None = None
        for i, (when, status) in enumerate(statuses):
            now = (status or "").strip().lower() in progress
            if now and entered is None:
                entered = when
            last = i == len(statuses) - 1
            if entered is not None and (not now or last):
                left = None if now else when
                name = _holder_at(teams, entered)
                if name is None:
                    name = fallback
                    problems.add("linked issues with no team when in progress (given their "
                                 "project)", key)
                for case in cases:
                    spans.setdefault(case, []).append((entered, left, name, key))
                entered = None
    rows: list[dict[str, Any]] = []
    for case, intervals in spans.items():
        info = holders.get(case)
        if info is None or info["start"] is None:
            problems.add("linked cases not found in the help desk's events (left out)", case)
            continue
        start = info["start"]
        moments = sorted({max(a, start) for a, _, _, _ in intervals}
                         | {b for _, b, _, _ in intervals if b is not None and b > start})
        holder = _holder_at(info["holds"], moments[0]) if moments else None
        for when in moments:
            live = [(a, name, key) for a, b, name, key in intervals
                    if a <= when and (b is None or b > when)]
            if live:
                _, name, key = max(live)
                label = f"{key} in progress"
            else:
                name = _holder_at(info["holds"], when) or "Unassigned"
                done = [k for _, b, _, k in intervals if b == when]
                label = f"{done[0] if done else 'linked issue'} left in progress"
            if name == holder:
                continue
            holder = name
            rows.append({"event_id": event_id(source, case, "handoff", when.isoformat(),
                                              name),
                         "account_id": info["account"], "timestamp": when, "kind": "handoff",
                         "case_id": case, "team": name, "label": label})
    linked = len(links)
    return ConversionResult(events=events_table(rows), problems=problems.as_list(),
                            rows=linked, cases=len(spans))
