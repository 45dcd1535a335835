"""CRMs: the moment a deal was won is a ``sale``. Salesforce opportunities, HubSpot deals.

The won moment is read from the **stage history**, never from the close date a salesperson
types (it is editable, often a plan, and often a day without a time):

- Salesforce: ``OpportunityHistory`` (one row per stage change, ``StageName`` and
  ``CreatedDate``), or ``OpportunityFieldHistory`` rows whose ``Field`` is ``StageName``
  (``NewValue``, ``CreatedDate``). The account is the opportunity's ``AccountId`` (or its
  account's name).
- HubSpot: the ``dealstage`` property's history (``propertiesWithHistory=dealstage``:
  ``value`` and ``timestamp``). The account is the deal's first associated company id.

The rule, per deal, its stage changes in time order: a deal whose latest stage is a won
stage (``Closed Won`` / ``closedwon`` unless chosen) is sold at the start of that last run
of won stages. So a deal won, reopened, and won again was sold the second time; a deal
won and then moved back or lost is not a sale (and is reported). Each sold deal gives one
``sale`` event: ``account_id`` the deal's account, ``label`` ``Won: <deal name>``,
``event_id`` from the deal and the moment, so importing again adds nothing. A won deal
without an account cannot be placed: it is reported and left out.

From the APIs: Salesforce's REST query endpoint (``/services/data/vXX.X/query`` with a
SOQL query on ``OpportunityHistory``, following ``nextRecordsUrl``; bearer token from
``SALESFORCE_ACCESS_TOKEN``, the instance URL given with ``--url``); HubSpot's CRM v3
deals endpoint (``/crm/v3/objects/deals`` with ``propertiesWithHistory=dealstage`` and
``associations=companies``, following ``paging.next.after``; private-app token from
``HUBSPOT_TOKEN``). From files: Salesforce exports as CSV, Parquet or JSON lines (a Data
Loader or report export of the history), or saved query responses (``{"records": ...}``);
HubSpot deals as JSON (saved API pages, lists of deals, or one per line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from valueclock.errors import InputError, UsageError
from valueclock.sources.common import (
    Problems,
    event_id,
    events_table,
    instant,
    read_json_documents,
    records,
    text,
)
from valueclock.sources.http import ApiClient, ApiError, env_credential, need
from valueclock.sources.status_log import ConversionResult

__all__ = ["sales_from_history", "salesforce_client", "fetch_salesforce", "read_salesforce",
           "hubspot_client", "fetch_hubspot", "read_hubspot", "hubspot_history",
           "SALESFORCE_WON", "HUBSPOT_WON", "HUBSPOT_URL"]

SALESFORCE_WON: tuple[str, ...] = ("Closed Won",)
HUBSPOT_WON: tuple[str, ...] = ("closedwon",)
HUBSPOT_URL = "https://api.hubapi.com"
SALESFORCE_API = "v60.0"

#: One stage change: deal id, its account, when, the stage it entered, the deal's name.
Change = dict[str, Any]


def sales_from_history(changes: Iterable[Change], *, won: Sequence[str], source: str,
                       team: str | None = None, rows: int | None = None) -> ConversionResult:
    """``sale`` events from stage changes (``deal``, ``account``, ``time``, ``stage``,
    ``name``), by the rule in this module's documentation."""
    won_set = {w.strip().lower() for w in won}
    problems = Problems()
    deals: dict[str, list[Change]] = {}
    count = 0
    for change in changes:
        count += 1
        if change.get("deal") is None:
            problems.add("stage changes without a deal id (left out)")
            continue
        if change.get("time") is None:
            problems.add("stage changes without a readable time (left out)", change["deal"])
            continue
        deals.setdefault(str(change["deal"]), []).append(change)
    events = []
    for deal, history in deals.items():
        history.sort(key=lambda c: c["time"])
        is_won = [(text(c.get("stage")) or "").lower() in won_set for c in history]
        if not is_won[-1]:
            if any(is_won):
                problems.add("deals won and then moved out of the won stage (no sale)", deal)
            continue
        start = len(is_won) - 1
        while start > 0 and is_won[start - 1]:
            start -= 1
        account = next((text(c.get("account")) for c in reversed(history)
                        if text(c.get("account"))), None)
        if account is None:
            problems.add("won deals without an account (left out)", deal)
            continue
        name = next((text(c.get("name")) for c in reversed(history) if text(c.get("name"))),
                    deal)
        when: datetime = history[start]["time"]
        events.append({"event_id": event_id(source, deal, "sale", when.isoformat()),
                       "account_id": account, "timestamp": when, "kind": "sale",
                       "case_id": None, "team": team, "label": f"Won: {name}"})
    return ConversionResult(events=events_table(events), problems=problems.as_list(),
                            rows=count if rows is None else rows, cases=0)


# --- Salesforce -----------------------------------------------------------------------

def salesforce_client(url: str | None, *, environ: Mapping[str, str],
                      transport: httpx.BaseTransport | None = None,
                      sleep: Callable[[float], None] | None = None) -> ApiClient:
    """An API client for the Salesforce instance at ``url``."""
    if not url:
        raise UsageError("give your Salesforce instance: --url https://YOURDOMAIN.my."
                         "salesforce.com")
    token = env_credential("SALESFORCE_ACCESS_TOKEN", environ,
                           "an OAuth access token, e.g. from `sf org display`")
    extra = {"sleep": sleep} if sleep is not None else {}
    return ApiClient(url, name="Salesforce", transport=transport,
                     headers={"Authorization": f"Bearer {token}"},
                     credentials_hint="check SALESFORCE_ACCESS_TOKEN (it may have expired)",
                     **extra)


def _soql(account_key: str, where: str | None) -> str:
    account = "Opportunity.Account.Name" if account_key == "name" else "Opportunity.AccountId"
    clause = f" WHERE {where}" if where else ""
    return ("SELECT OpportunityId, Opportunity.Name, " + account + ", StageName, CreatedDate "
            "FROM OpportunityHistory" + clause + " ORDER BY OpportunityId, CreatedDate")


def _nested(record: Mapping[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _salesforce_change(record: Mapping[str, Any], account_key: str) -> Change:
    account = (_nested(record, "Opportunity.Account.Name") if account_key == "name"
               else _nested(record, "Opportunity.AccountId") or record.get("AccountId"))
    return {"deal": text(record.get("OpportunityId")), "account": text(account),
            "time": instant(record.get("CreatedDate")),
            "stage": text(record.get("StageName")),
            "name": text(_nested(record, "Opportunity.Name"))}


def fetch_salesforce(client: ApiClient, *, account_key: str = "id", where: str | None = None,
                     api_version: str = SALESFORCE_API,
                     progress: Callable[[str], None] | None = None) -> list[Change]:
    """Every opportunity's stage history (``OpportunityHistory``), page by page."""
    path: str | None = f"/services/data/{api_version}/query"
    params: dict[str, Any] | None = {"q": _soql(account_key, where)}
    changes: list[Change] = []
    seen: set[str] = set()
    while path:
        try:
            page = client.get(path, params=params)
        except ApiError as exc:
            if "INVALID_QUERY_LOCATOR" in (exc.body or ""):
                raise ApiError("Salesforce let the query's next page expire "
                               "(INVALID_QUERY_LOCATOR) before it was read; nothing was "
                               "written: run the import again", status=exc.status,
                               body=exc.body) from None
            raise
        for record in need(page, "records", list, "Salesforce", client.url(path)):
            if isinstance(record, dict):
                changes.append(_salesforce_change(record, account_key))
        if progress:
            progress(f"{len(changes):,} opportunity stage changes")
        nxt = page.get("nextRecordsUrl")
        if page.get("done") is True or not nxt or nxt in seen:
            break
        seen.add(nxt)
        path, params = nxt, None
    return changes


def read_salesforce(path: str | Path, *, opportunity: str = "OpportunityId",
                    stage: str = "StageName", time: str = "CreatedDate",
                    account: str = "AccountId", name: str | None = None,
                    field: str | None = None) -> tuple[list[Change], int]:
    """Stage changes from an export: saved query responses (JSON with ``records``), or a
    table (CSV, Parquet, JSON lines) with the named columns. With ``field`` (the ``Field``
    column of ``OpportunityFieldHistory``), only rows whose field is ``StageName`` count."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        docs = list(read_json_documents(path))
        pages = [p for d in docs for p in (d if isinstance(d, list) else [d])]
        if any(isinstance(p, dict) and "records" in p for p in pages):
            found = [_salesforce_change(r, "id") for r in records(docs, "records")]
            return found, len(found)
    from valueclock.sources.files import read_table

    columns = [c for c in (opportunity, stage, time, account, name, field) if c]
    table = read_table(path, columns).to_pylist()
    changes = []
    for row in table:
        if field and (text(row.get(field)) or "").lower() != "stagename":
            continue
        changes.append({"deal": text(row.get(opportunity)), "account": text(row.get(account)),
                        "time": instant(row.get(time)), "stage": text(row.get(stage)),
                        "name": text(row.get(name)) if name else None})
    return changes, len(table)


# --- HubSpot --------------------------------------------------------------------------

def hubspot_client(url: str | None = None, *, environ: Mapping[str, str],
                   transport: httpx.BaseTransport | None = None,
                   sleep: Callable[[float], None] | None = None) -> ApiClient:
    """An API client for HubSpot (``url`` defaults to https://api.hubapi.com)."""
    token = env_credential("HUBSPOT_TOKEN", environ, "a private app's access token with "
                           "the crm.objects.deals.read scope")
    extra = {"sleep": sleep} if sleep is not None else {}
    return ApiClient(url or HUBSPOT_URL, name="HubSpot", transport=transport,
                     headers={"Authorization": f"Bearer {token}"},
                     credentials_hint="check HUBSPOT_TOKEN", **extra)


def hubspot_history(deal: Mapping[str, Any]) -> list[Change]:
    """A deal's ``dealstage`` history as stage changes. A deal without that history gives
    none: its current stage alone does not say when it was won."""
    if deal.get("id") is None:
        raise InputError("a HubSpot deal without an id")
    deal_id = str(deal["id"])
    props = deal.get("properties") or {}
    assoc = ((deal.get("associations") or {}).get("companies") or {}).get("results") or []
    company = next((text(a.get("id")) for a in assoc if isinstance(a, dict)), None)
    history = (deal.get("propertiesWithHistory") or {}).get("dealstage") or []
    return [{"deal": deal_id, "account": company, "time": instant(h.get("timestamp")),
             "stage": text(h.get("value")), "name": text(props.get("dealname"))}
            for h in history if isinstance(h, dict)]


def fetch_hubspot(client: ApiClient, *, page_size: int = 50,
                  progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every deal with its ``dealstage`` history and associated companies."""
    path = "/crm/v3/objects/deals"
    params: dict[str, Any] = {"limit": page_size, "archived": "false",
                              "properties": "dealname,dealstage,pipeline",
                              "propertiesWithHistory": "dealstage",
                              "associations": "companies"}
    deals: list[dict[str, Any]] = []
    seen: set[str] = set()
    while True:
        page = client.get(path, params=params)
        for deal in need(page, "results", list, "HubSpot", client.url(path)):
            if not isinstance(deal, dict) or deal.get("id") is None:
                raise ApiError(f"HubSpot sent a malformed page ({client.url(path)}): a deal "
                               "without an id")
            deals.append(deal)
        if progress:
            progress(f"{len(deals):,} HubSpot deals")
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after or str(after) in seen:
            break
        seen.add(str(after))
        params = {**params, "after": after}
    return deals


def read_hubspot(paths: str | Path | Sequence[str | Path]) -> list[dict[str, Any]]:
    """Deals from JSON files: saved API pages (``results``), lists of deals, or deals."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    deals: list[dict[str, Any]] = []
    for path in paths:
        found = [d for d in records(read_json_documents(path), "results")
                 if d.get("id") is not None]
        if not found:
            raise InputError("no HubSpot deals found (expected objects with an 'id')",
                             path=str(path))
        deals.extend(found)
    return deals


def hubspot_to_events(deals: Sequence[Mapping[str, Any]], *, won: Sequence[str] = HUBSPOT_WON,
                      source: str = "hubspot", team: str | None = None) -> ConversionResult:
    """Sales from HubSpot deals (see this module's documentation)."""
    changes = [c for deal in deals for c in hubspot_history(deal)]
    no_history = [str(d.get("id")) for d in deals
                  if not (d.get("propertiesWithHistory") or {}).get("dealstage")]
    result = sales_from_history(changes, won=won, source=source, team=team,
                                rows=len(deals))
    if no_history:
        result.problems.append({"problem": "deals without dealstage history (left out; "
                                "ask for propertiesWithHistory=dealstage)",
                                "count": len(no_history), "examples": no_history[:5]})
    return result
