"""Product and web analytics: the milestones and content a user lists become ``value``.

Four export shapes are read (files: JSON lines or a JSON array, optionally gzipped):

Per format, where each thing is read from:

- ``segment``: the name is ``event`` (``track`` calls; ``type`` ``page`` is a page view),
  the user ``userId`` (else ``anonymousId``), the time ``timestamp``, the page
  ``properties.path`` (else ``context.page.path``, ``properties.url``), the id
  ``messageId``; ``group`` calls join users to accounts (``groupId``).
- ``mixpanel`` (raw export): ``event`` (``$mp_web_page_view`` is a page view), the user
  ``properties.distinct_id``, the time ``properties.time`` (epoch seconds or
  milliseconds), the page ``properties.$current_url``, the id ``properties.$insert_id``.
- ``posthog``: ``event`` (``$pageview`` is a page view), ``distinct_id``, ``timestamp``,
  the page ``properties.$pathname`` (else ``$current_url``), the id ``uuid``.
- ``ga4`` (BigQuery export rows): ``event_name`` (``page_view`` is a page view), the user
  ``user_id`` (else ``user_pseudo_id``), the time ``event_timestamp`` (epoch
  microseconds), the page the ``page_location`` event parameter; no id (the row itself
  is hashed).

What becomes what:

- an event whose name is one of ``milestones`` (compared without regard to letter case)
  is a ``value`` event labelled with that name, team ``team``;
- a page view whose page (its path, or its whole URL) matches one of ``pages`` (shell
  patterns: ``/pricing``, ``/guides/*``, ``*://docs.acme.com/*``) is a ``value`` event
  labelled ``Viewed <path>``, team ``page_team``;
- everything else is not value, and is left out (counted);
- the account is found by the user: a user-to-account map (``users``: user id -> account
  id), and, for Segment, its ``group`` calls (``userId`` -> ``groupId``). A value event
  of a user with no account is reported and left out: it cannot count for anyone.
- ``event_id`` is a hash of the source and the vendor's own event id (the whole row for
  GA4, which has none), so importing the same export twice adds nothing. The user id is
  kept as the attribute ``user_id``.

The work is one DuckDB query over the file; only the distinct page URLs are matched in
Python.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

from valueclock.engines import duckdb_connect, sql_text
from valueclock.errors import InputError, UsageError
from valueclock.sources.status_log import EVENTS_SCHEMA, ConversionResult

__all__ = ["analytics_to_events", "FORMATS"]

_J = "j"
_PROPS = f"({_J}->'properties')"
#: Per format: SQL for (event, user, time, page, id, is_page_view, group account).
FORMATS: dict[str, dict[str, str]] = {
    "segment": {
        "event": f"{_J}->>'event'",
        "user": f"coalesce({_J}->>'userId', {_J}->>'anonymousId')",
        "time": f"TRY_CAST(coalesce({_J}->>'timestamp', {_J}->>'originalTimestamp', "
                f"{_J}->>'receivedAt') AS TIMESTAMPTZ)",
        "page": f"coalesce({_PROPS}->>'path', {_J}->'context'->'page'->>'path', "
                f"{_PROPS}->>'url', {_J}->'context'->'page'->>'url')",
        "id": f"{_J}->>'messageId'",
        "pageview": f"{_J}->>'type' = 'page'",
        "group": f"CASE WHEN {_J}->>'type' = 'group' THEN {_J}->>'groupId' END",
    },
    "mixpanel": {
        "event": f"{_J}->>'event'",
        "user": f"coalesce({_PROPS}->>'distinct_id', {_PROPS}->>'$.\"$user_id\"')",
        "time": f"""CASE WHEN TRY_CAST({_PROPS}->>'time' AS DOUBLE) > 1e11
                    THEN to_timestamp(TRY_CAST({_PROPS}->>'time' AS DOUBLE) / 1000)
                    ELSE to_timestamp(TRY_CAST({_PROPS}->>'time' AS DOUBLE)) END""",
        "page": f"{_PROPS}->>'$.\"$current_url\"'",
        "id": f"{_PROPS}->>'$.\"$insert_id\"'",
        "pageview": f"{_J}->>'event' IN ('$mp_web_page_view', 'Page View', 'page_view')",
        "group": "NULL",
    },
    "posthog": {
        "event": f"{_J}->>'event'",
        "user": f"coalesce({_J}->>'distinct_id', {_PROPS}->>'distinct_id')",
        "time": f"TRY_CAST({_J}->>'timestamp' AS TIMESTAMPTZ)",
        "page": f"coalesce({_PROPS}->>'$.\"$pathname\"', {_PROPS}->>'$.\"$current_url\"')",
        "id": f"{_J}->>'uuid'",
        "pageview": f"{_J}->>'event' = '$pageview'",
        "group": "NULL",
    },
    "ga4": {
        "event": f"{_J}->>'event_name'",
        "user": f"coalesce({_J}->>'user_id', {_J}->>'user_pseudo_id')",
        "time": f"make_timestamp(TRY_CAST({_J}->>'event_timestamp' AS BIGINT))::TIMESTAMPTZ",
        "page": f"""(SELECT p->'value'->>'string_value'
                     FROM (SELECT unnest(from_json({_J}->'event_params', '["JSON"]')) AS p)
                     WHERE p->>'key' = 'page_location' LIMIT 1)""",
        "id": "NULL",
        "pageview": f"{_J}->>'event_name' = 'page_view'",
        "group": "NULL",
    },
}



def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or "/" if parts.scheme else url


def _matching(pages: Sequence[str | None], patterns: Sequence[str]) -> dict[str, str]:
    """Page (as in the export) -> its path, for the pages that match a pattern."""
    found = {}
    for page in pages:
        if page is None:
            continue
        path = _path(page)
        if any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(page, p)
               for p in patterns):
            found[page] = path
    return found


def analytics_to_events(paths: str | Path | Sequence[str | Path], *, fmt: str,
                        milestones: Sequence[str] = (), pages: Sequence[str] = (),
                        users: Mapping[str, str] | None = None, team: str | None = None,
                        page_team: str | None = None,
                        source: str | None = None) -> ConversionResult:
    """``value`` events from an analytics export (see this module's documentation)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown analytics format {fmt!r} (use one of "
                         f"{', '.join(FORMATS)})")
    if not milestones and not pages:
        raise UsageError("say what is value: --event NAME (a milestone) and/or --page "
                         "PATTERN (content), each repeatable")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise InputError("file not found", path=str(path))
        if path.stat().st_size == 0:
            raise InputError("the file is empty", path=str(path))
    source = source or fmt
    sql = FORMATS[fmt]
    con = duckdb_connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        file_list = "[" + ", ".join(sql_text(str(p)) for p in files) + "]"
        try:
            con.execute(f"""
                CREATE TEMP TABLE raw AS
                SELECT {sql['event']} AS event, {sql['user']} AS user_id,
                       {sql['time']} AS ts, {sql['page']} AS page,
                       CAST({sql['id']} AS VARCHAR) AS vendor_id,
                       coalesce({sql['pageview']}, false) AS pageview,
                       {sql['group']} AS group_account,
                       {_J}::VARCHAR AS whole
                FROM read_json_objects({file_list}, format = 'auto') AS t({_J})""")
        except duckdb.Error as exc:
            message = str(exc).strip().splitlines()[0]
            raise InputError(f"cannot read as {fmt} JSON: {message}",
                             path=", ".join(map(str, files))) from None
        rows = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
        distinct_pages = [r[0] for r in con.execute(
            "SELECT DISTINCT page FROM raw WHERE pageview AND page IS NOT NULL").fetchall()]
        matched = _matching(distinct_pages, pages)
        con.register("page_map", pa.table({
            "page": pa.array(list(matched), pa.string()),
            "path": pa.array(list(matched.values()), pa.string())}))
        user_map = dict(users or {})
        con.register("user_map", pa.table({
            "user_id": pa.array(list(user_map), pa.string()),
            "account_id": pa.array(list(user_map.values()), pa.string())}))
        names = [m.strip().lower() for m in milestones if m.strip()]
        name_list = "(" + ", ".join(sql_text(n) for n in names) + ")" if names else "(NULL)"
        con.execute("""
            CREATE TEMP TABLE accounts AS
            SELECT user_id, account_id FROM user_map
            UNION ALL
            SELECT user_id, last(group_account ORDER BY ts) FROM raw
            WHERE group_account IS NOT NULL AND user_id IS NOT NULL
              AND user_id NOT IN (SELECT user_id FROM user_map)
            GROUP BY user_id""")
        con.execute(f"""
            CREATE TEMP TABLE value AS
            SELECT r.*, a.account_id,
                   CASE WHEN lower(r.event) IN {name_list} THEN r.event
                        ELSE 'Viewed ' || pm.path END AS label,
                   CASE WHEN lower(r.event) IN {name_list} THEN {sql_text(team) if team else 'NULL'}
                        ELSE {sql_text(page_team) if page_team else 'NULL'} END AS team
            FROM raw r
            LEFT JOIN page_map pm ON r.pageview AND r.page = pm.page
            LEFT JOIN (SELECT user_id, first(account_id) AS account_id FROM accounts
                       GROUP BY user_id) a ON a.user_id = r.user_id
            WHERE lower(r.event) IN {name_list} OR pm.path IS NOT NULL""")
        problems = []
        for query, text in (
                ("SELECT count(*), list(DISTINCT user_id)[1:5] FROM value "
                 "WHERE account_id IS NULL",
                 "value events of users with no account (left out; add them to --users)"),
                ("SELECT count(*), list(DISTINCT coalesce(user_id, '?'))[1:5] FROM value "
                 "WHERE ts IS NULL", "value events without a readable time (left out)"),
                ("SELECT count(*), list(DISTINCT coalesce(event, '?'))[1:5] FROM value "
                 "WHERE user_id IS NULL", "value events without a user (left out)")):
            count, examples = con.execute(query).fetchall()[0]
            if count:
                problems.append({"problem": text, "count": int(count),
                                 "examples": [str(e) for e in examples or []]})
        events = con.sql(f"""
            SELECT left(sha256(concat_ws(chr(31), {sql_text(source)},
                        coalesce(vendor_id, md5(whole)))), 20) AS event_id,
                   account_id, ts AS timestamp, 'value' AS kind,
                   NULL::VARCHAR AS case_id, team, label, user_id
            FROM value
            WHERE account_id IS NOT NULL AND ts IS NOT NULL AND user_id IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts) = 1
            ORDER BY account_id, ts, label, event_id""").to_arrow_table()
    finally:
        con.close()
    schema = pa.schema(list(EVENTS_SCHEMA) + [pa.field("user_id", pa.string())])
    return ConversionResult(events=events.cast(schema), problems=problems, rows=rows, cases=0)
