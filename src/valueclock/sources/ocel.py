"""OCEL 2.0 object-centric event logs (the JSON format) into a status log.

An OCEL log has objects of several types and events related to any number of them. One
object type is chosen as the *case* (``ticket``, ``incident``); every event related to
a case object is a row of that case's status log:

- the status is the event's type, or one of its attributes (``status``);
- the team is an event attribute (``team``), or the id of a related object of a chosen
  type (``team_type``, e.g. ``group``): among the event's objects first, then among the
  case object's;
- the account is the id of an object of a chosen type (``account_type``, e.g.
  ``customer``) related to the case object (object-to-object), or else to one of its
  events; or an attribute of the case object (``account``, its latest value).

The whole JSON document is loaded (OCEL 2.0 JSON is one document, not a stream); the
flattening is one pass over the events, and the conversion is the status log's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from valueclock.errors import InputError, UsageError
from valueclock.sources.files import check_file
from valueclock.sources.status_log import ConversionResult, status_log_to_events

__all__ = ["read_ocel", "ocel_to_events"]


def _attributes(item: dict[str, Any]) -> dict[str, Any]:
    """An event's or object's attributes by name (for objects, the latest value)."""
    found: dict[str, tuple[str, Any]] = {}
    for a in item.get("attributes") or []:
        if not isinstance(a, dict) or "name" not in a:
            continue
        when = str(a.get("time") or "")
        if a["name"] not in found or when >= found[a["name"]][0]:
            found[a["name"]] = (when, a.get("value"))
    return {name: value for name, (_, value) in found.items()}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_ocel(path: str | Path, *, case_type: str, status: str | None = None,
              team: str | None = None, team_type: str | None = None,
              account: str | None = None, account_type: str | None = None) -> pa.Table:
    """Flatten an OCEL 2.0 JSON log into a status log table.

    Columns: ``case``, ``time``, ``status``, ``team``, ``account``, ``event_type``,
    ``event_id``, one row per (event, related case object), in the file's event order.
    See this module's documentation for what each is taken from.
    """
    path = Path(path)
    check_file(path)
    if team and team_type:
        raise UsageError("give the team as an event attribute or an object type, not both")
    if account and account_type:
        raise UsageError("give the account as an attribute or an object type, not both")
    try:
        with open(path, "rb") as f:
            log = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read as OCEL 2.0 JSON: {exc}", path=str(path)) from None
    if not isinstance(log, dict) or not isinstance(log.get("events"), list) \
            or not isinstance(log.get("objects"), list):
        raise InputError("not an OCEL 2.0 JSON log (no 'objects' and 'events' lists)",
                         path=str(path))
    types: dict[str, str] = {}
    objects: dict[str, dict[str, Any]] = {}
    for obj in log["objects"]:
        if isinstance(obj, dict) and "id" in obj:
            types[str(obj["id"])] = str(obj.get("type"))
            objects[str(obj["id"])] = obj
    known = {str(t.get("name")) for t in log.get("objectTypes") or [] if isinstance(t, dict)}
    known |= set(types.values())
    for wanted in (case_type, team_type, account_type):
        if wanted and wanted not in known:
            raise InputError(f"no object type {wanted!r} (types found: "
                             f"{', '.join(sorted(known)) or 'none'})", path=str(path))

    def related(item: dict[str, Any], of_type: str) -> list[str]:
        return [str(r["objectId"]) for r in item.get("relationships") or []
                if isinstance(r, dict) and types.get(str(r.get("objectId"))) == of_type]

    # Each case object's account and team from its own relationships and attributes.
    case_account: dict[str, str | None] = {}
    case_team: dict[str, str | None] = {}
    for oid, obj in objects.items():
        if types[oid] != case_type:
            continue
        if account_type:
            found = related(obj, account_type)
            case_account[oid] = found[0] if found else None
        elif account:
            case_account[oid] = _text(_attributes(obj).get(account))
        if team_type:
            found = related(obj, team_type)
            case_team[oid] = found[0] if found else None

    rows: dict[str, list[str | None]] = {k: [] for k in (
        "case", "time", "status", "team", "account", "event_type", "event_id")}
    for event in log["events"]:
        if not isinstance(event, dict):
            continue
        attrs = _attributes(event) if (status or team) else {}
        for oid in related(event, case_type):
            rows["case"].append(oid)
            rows["time"].append(_text(event.get("time")))
            rows["event_type"].append(_text(event.get("type")))
            rows["event_id"].append(_text(event.get("id")))
            rows["status"].append(_text(attrs.get(status)) if status
                                  else _text(event.get("type")))
            if team_type:
                found = related(event, team_type)
                rows["team"].append(found[0] if found else case_team.get(oid))
            else:
                rows["team"].append(_text(attrs.get(team)) if team else None)
            who = case_account.get(oid)
            if who is None and account_type:
                found = related(event, account_type)
                who = found[0] if found else None
            rows["account"].append(who)
    return pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})


def ocel_to_events(
    path: str | Path, *,
    case_type: str,
    smile: Sequence[str],
    status: str | None = None,
    team: str | None = None,
    team_type: str | None = None,
    account: str | None = None,
    account_type: str | None = None,
    timezone: str = "UTC",
    source: str = "ocel",
    team_pattern: str | None = None,
    team_unmatched: str | None = None,
) -> ConversionResult:
    """Import an OCEL 2.0 JSON log, objects of ``case_type`` being the cases."""
    table = read_ocel(path, case_type=case_type, status=status, team=team,
                      team_type=team_type, account=account, account_type=account_type)
    has_account = bool(account or account_type)
    return status_log_to_events(
        table, case="case", time="time", status="status", team="team",
        account="account" if has_account else None, smile=smile, timezone=timezone,
        source=source, team_pattern=team_pattern, team_unmatched=team_unmatched)
