"""Zendesk Support: tickets and their audits into a status log, from the API or export files.

What becomes what:

- A **ticket** is a case (``case_id`` is the ticket id). Its history is its **audits**
  (``GET /api/v2/tickets/{id}/audits``): each audit that sets ``status`` or ``group_id``
  (a ``Create`` or ``Change`` event) is one row of the status log, at the audit's
  ``created_at``. Saved incremental *ticket events* (``child_events`` with ``status`` /
  ``group_id``) are read the same way.
- The **group** is the team (its name from ``/api/v2/groups``; ``group <id>`` when it is
  unknown); a group set to nothing hands nothing over.
- The **organisation** is the account: its ``name`` by default, or its ``id`` or
  ``external_id`` (``account_key``; the external id is often the CRM's account id, which
  joins the tickets to the sales). A ticket with no organisation has no account (reported).
- Smiles are ``solved`` and ``closed`` by default; add ``pending`` if waiting for the
  customer counts as a happy customer for you.

Then the one converter (:mod:`valueclock.sources.status_log`) gives interruption /
handoff / smile / reopen; event ids come from the ticket, kind and time, so pulling or
importing again gives the same events.

From the API: the cursor-based incremental ticket export
(``/api/v2/incremental/tickets/cursor.json``, ``start_time`` first, then ``cursor``,
until ``end_of_stream``) finds the tickets changed since the last pull; the audits of
each are fetched whole (cursor pagination), so a ticket's events are always complete;
organisations by ``show_many``; groups once. The last ``after_cursor`` is returned for
the next pull. A cursor Zendesk no longer accepts (expired) is reported as
:class:`ExpiredCursor`; the command line then starts again from the time of the last
pull. Credentials are basic auth ``EMAIL/token:TOKEN`` (``ZENDESK_EMAIL``,
``ZENDESK_API_TOKEN``), or a bearer ``ZENDESK_OAUTH_TOKEN``.

From files: JSON or JSON lines holding the API's pages as saved (objects with
``tickets``, ``audits``, ``ticket_events``, ``organizations``, ``groups`` lists), or
ticket objects each with its ``audits`` list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from valueclock.errors import UsageError
from valueclock.sources.common import (
    Problems,
    instant,
    read_json_documents,
    status_log_table,
    text,
)
from valueclock.sources.http import ApiClient, ApiError, env_credential, need
from valueclock.sources.status_log import ConversionResult, status_log_to_events

__all__ = ["ZendeskData", "ExpiredCursor", "fetch_zendesk", "read_zendesk",
           "zendesk_status_log", "zendesk_to_events", "ZENDESK_SMILES", "zendesk_client"]

ZENDESK_SMILES: tuple[str, ...] = ("solved", "closed")
ACCOUNT_KEYS = ("name", "id", "external_id")
_FIELDS = ("status", "group_id")


class ExpiredCursor(ApiError):
    """Zendesk no longer accepts the cursor a pull was to continue from."""


@dataclass
class ZendeskData:
    """What a pull or an export holds: tickets, audits by ticket id, organisations and
    groups by id; and, from the API, the cursor to continue from."""

    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    audits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    cursor: str | None = None
    latest: datetime | None = None  # the latest ticket update seen
    requests: int = 0


def zendesk_client(*, subdomain: str | None = None, url: str | None = None,
                   environ: Mapping[str, str], transport: httpx.BaseTransport | None = None,
                   sleep: Callable[[float], None] | None = None) -> ApiClient:
    """An API client for ``https://SUBDOMAIN.zendesk.com`` (or ``url``), credentials from
    ``environ``."""
    if bool(subdomain) == bool(url):
        raise UsageError("give the Zendesk account: --subdomain NAME (for "
                         "https://NAME.zendesk.com) or --url URL")
    base = url or f"https://{subdomain}.zendesk.com"
    hint = "check ZENDESK_EMAIL and ZENDESK_API_TOKEN"
    auth: tuple[str, str] | None = None
    headers: dict[str, str] = {}
    if environ.get("ZENDESK_OAUTH_TOKEN", "").strip():
        headers["Authorization"] = f"Bearer {environ['ZENDESK_OAUTH_TOKEN'].strip()}"
        hint = "check ZENDESK_OAUTH_TOKEN"
    else:
        email = env_credential("ZENDESK_EMAIL", environ, "the agent's email address")
        token = env_credential("ZENDESK_API_TOKEN", environ,
                               "an API token from Admin Center > Apps and integrations > "
                               "Zendesk API")
        auth = (f"{email}/token", token)
    extra = {"sleep": sleep} if sleep is not None else {}
    return ApiClient(base, name="Zendesk", auth=auth, headers=headers,
                     credentials_hint=hint, transport=transport, **extra)


def _is_expired_cursor(exc: ApiError) -> bool:
    body = (exc.body or "").lower()
    return exc.status in (400, 404, 410, 422) and ("cursor" in body or "pagination" in body)


def fetch_zendesk(client: ApiClient, *, start_time: int = 0, cursor: str | None = None,
                  progress: Callable[[str], None] | None = None) -> ZendeskData:
    """Pull the tickets changed since ``cursor`` (or since ``start_time``, epoch seconds),
    with their whole audit history, organisations and groups."""
    data = ZendeskData()
    path = "/api/v2/incremental/tickets/cursor.json"
    params: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": int(start_time)}
    seen_cursors: set[str] = set()
    while True:
        try:
            page = client.get(path, params=params)
        except ApiError as exc:
            if cursor and params.get("cursor") == cursor and _is_expired_cursor(exc):
                raise ExpiredCursor(f"Zendesk no longer accepts the saved cursor (HTTP "
                                    f"{exc.status}); pull again from a start time",
                                    status=exc.status, body=exc.body) from None
            raise
        tickets = need(page, "tickets", list, "Zendesk", client.url(path))
        for ticket in tickets:
            if not isinstance(ticket, dict) or ticket.get("id") is None:
                raise ApiError(f"Zendesk sent a malformed page ({client.url(path)}): a "
                               "ticket without an id")
            data.tickets[str(ticket["id"])] = ticket
            updated = instant(ticket.get("updated_at"))
            if updated and (data.latest is None or updated > data.latest):
                data.latest = updated
        after = page.get("after_cursor")
        if after:
            data.cursor = str(after)
        if progress:
            progress(f"{len(data.tickets):,} tickets")
        if page.get("end_of_stream") is True or not after or after in seen_cursors:
            break
        seen_cursors.add(str(after))
        params = {"cursor": after}
    live = {k: t for k, t in data.tickets.items() if t.get("status") != "deleted"}
    for n, ticket_id in enumerate(live, start=1):
        data.audits[ticket_id] = _fetch_audits(client, ticket_id)
        if progress and n % 50 == 0:
            progress(f"audits of {n:,} of {len(live):,} tickets")
    org_ids = sorted({str(t["organization_id"]) for t in live.values()
                      if t.get("organization_id") is not None})
    for i in range(0, len(org_ids), 100):
        page = client.get("/api/v2/organizations/show_many.json",
                          params={"ids": ",".join(org_ids[i:i + 100])})
        for org in need(page, "organizations", list, "Zendesk", "organizations/show_many"):
            if isinstance(org, dict) and org.get("id") is not None:
                data.organizations[str(org["id"])] = org
    if live:
        for group in _paged(client, "/api/v2/groups.json", "groups"):
            if group.get("id") is not None:
                data.groups[str(group["id"])] = text(group.get("name")) or str(group["id"])
    data.requests = client.requests
    return data


def _paged(client: ApiClient, path: str, key: str) -> Iterable[dict[str, Any]]:
    """A list endpoint's items, following cursor pagination (``meta.has_more`` /
    ``links.next``) or offset pagination (``next_page``)."""
    url: str | None = path
    params: dict[str, Any] | None = {"page[size]": 100}
    seen: set[str] = set()
    while url:
        page = client.get(url, params=params)
        yield from (i for i in need(page, key, list, "Zendesk", client.url(url))
                    if isinstance(i, dict))
        meta, links = page.get("meta") or {}, page.get("links") or {}
        if isinstance(meta, dict) and "has_more" in meta:
            nxt = links.get("next") if meta.get("has_more") and isinstance(links, dict) \
                else None
        else:
            nxt = page.get("next_page")
        if not nxt or nxt in seen:
            return
        seen.add(nxt)
        url, params = nxt, None


def _fetch_audits(client: ApiClient, ticket_id: str) -> list[dict[str, Any]]:
    return list(_paged(client, f"/api/v2/tickets/{ticket_id}/audits.json", "audits"))


def read_zendesk(paths: str | Path | Sequence[str | Path]) -> ZendeskData:
    """Read Zendesk export files (see this module's documentation)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    data = ZendeskData()
    for path in paths:
        for doc in read_json_documents(path):
            for item in doc if isinstance(doc, list) else [doc]:
                if isinstance(item, dict):
                    _absorb(data, item)
    return data


def _absorb(data: ZendeskData, doc: dict[str, Any]) -> None:
    """Take one document of an export: a page of lists, a ticket, an audit, an org."""
    lists = {k: doc[k] for k in ("tickets", "audits", "ticket_events", "organizations",
                                 "groups", "results") if isinstance(doc.get(k), list)}
    if lists:
        for key, items in lists.items():
            for item in items:
                if isinstance(item, dict):
                    _absorb_one(data, key, item)
        return
    if "ticket_id" in doc and ("events" in doc or "child_events" in doc):
        _absorb_one(data, "audits", doc)
    elif "status" in doc and "id" in doc:
        _absorb_one(data, "tickets", doc)


def _absorb_one(data: ZendeskData, key: str, item: dict[str, Any]) -> None:
    if key == "results":  # a search export: tickets, organisations and groups mixed
        key = {"ticket": "tickets", "organization": "organizations",
               "group": "groups"}.get(str(item.get("result_type")), "tickets")
    if key == "tickets" and item.get("id") is not None:
        ticket_id = str(item["id"])
        data.tickets[ticket_id] = item
        for audit in item.get("audits") or []:
            if isinstance(audit, dict):
                data.audits.setdefault(ticket_id, []).append(audit)
    elif key in ("audits", "ticket_events") and item.get("ticket_id") is not None:
        data.audits.setdefault(str(item["ticket_id"]), []).append(item)
    elif key == "organizations" and item.get("id") is not None:
        data.organizations[str(item["id"])] = item
    elif key == "groups" and item.get("id") is not None:
        data.groups[str(item["id"])] = text(item.get("name")) or str(item["id"])


def _changes(audit: dict[str, Any]) -> dict[str, Any]:
    """The values of ``status`` and ``group_id`` an audit (or ticket event) sets."""
    found: dict[str, Any] = {}
    for event in (audit.get("events") or audit.get("child_events") or []):
        if not isinstance(event, dict):
            continue
        kind = event.get("type") or event.get("event_type")
        if kind not in ("Create", "Change"):
            continue
        if "field_name" in event:
            if event["field_name"] in _FIELDS:
                found[event["field_name"]] = event.get("value")
        else:
            for name in _FIELDS:
                if name in event:
                    found[name] = event[name]
    return found


def zendesk_status_log(data: ZendeskData, *, account_key: str = "name",
                       problems: Problems | None = None) -> Any:
    """Flatten tickets and audits into a status log (``case``, ``time``, ``status``,
    ``team``, ``account``)."""
    if account_key not in ACCOUNT_KEYS:
        raise UsageError(f"--account-key must be one of {', '.join(ACCOUNT_KEYS)}")
    problems = problems if problems is not None else Problems()
    rows: list[dict[str, Any]] = []

    def team(group: Any) -> str | None:
        if group in (None, ""):
            return None
        return data.groups.get(str(group)) or f"group {group}"

    case_ids = list(data.tickets) + [t for t in data.audits if t not in data.tickets]
    for ticket_id in case_ids:
        ticket = data.tickets.get(ticket_id, {})
        if ticket.get("status") == "deleted":
            problems.add("deleted tickets (left out)", ticket_id)
            continue
        account = None
        org = ticket.get("organization_id")
        if org is not None:
            record = data.organizations.get(str(org), {})
            account = text(record.get(account_key)) if account_key != "id" else str(org)
            if account is None:
                account = f"organization {org}"
                problems.add(f"tickets whose organisation has no {account_key} (given "
                             "'organization ID')", ticket_id)
        audits = sorted(data.audits.get(ticket_id, []),
                        key=lambda a: (instant(a.get("created_at") or a.get("timestamp"))
                                       or datetime.max.replace(tzinfo=UTC),
                                       str(a.get("id", ""))))
        if not audits:
            problems.add("tickets without audits (only their creation is known, at their "
                         "current status and group)", ticket_id)
            rows.append({"case": ticket_id, "time": instant(ticket.get("created_at")),
                         "status": text(ticket.get("status")),
                         "team": team(ticket.get("group_id")), "account": account})
            continue
        for audit in audits:
            changes = _changes(audit)
            when = instant(audit.get("created_at") or audit.get("timestamp"))
            if when is None:
                problems.add("audits without a readable created_at (left out)",
                             f"{ticket_id}: {audit.get('id')}")
                continue
            if not changes and audit is not audits[0]:
                continue
            rows.append({"case": ticket_id, "time": when,
                         "status": text(changes.get("status")),
                         "team": team(changes.get("group_id")), "account": account})
    return status_log_table(rows)


def zendesk_to_events(data: ZendeskData, *, smile: Sequence[str] = ZENDESK_SMILES,
                      account_key: str = "name", timezone: str = "UTC",
                      source: str = "zendesk") -> ConversionResult:
    """Tickets and audits to canonical events (see this module's documentation)."""
    problems = Problems()
    table = zendesk_status_log(data, account_key=account_key, problems=problems)
    result = status_log_to_events(table, case="case", time="time", status="status",
                                  team="team", account="account", smile=smile,
                                  timezone=timezone, source=source)
    return ConversionResult(events=result.events,
                            problems=problems.as_list() + result.problems,
                            rows=result.rows, cases=result.cases)
