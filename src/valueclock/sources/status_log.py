"""The one mechanism: a status log becomes canonical case events.

A *status log* has one row per change of a case: case id, time, status, and optionally
the team holding it, the account it belongs to, and a separate start time. Every help
desk, tracker and process-mining export can be flattened into one; this module turns it
into ``interruption`` / ``handoff`` / ``smile`` / ``reopen`` events (see
``spec/metric.md``), so the meaning of a status log lives in one place.

The rules, per case, rows taken in time order and ties in file order:

- The first row gives the ``interruption``: at that row's time, or at the case's start
  time when a start column is named (the first start time found in the case; when it is
  missing, or later than the first row, the first row's time is used and it is reported).
  Its team is the first row's team.
- A row whose team differs from the team holding the case gives a ``handoff`` to it. The
  holder is the latest team named so far; an empty team leaves it as it was.
- A row whose status enters one of the ``smile`` statuses gives a ``smile``; a row whose
  status leaves them gives a ``reopen``. Statuses are compared trimmed and
  case-insensitively. An empty status changes nothing.
- Rows of one case at the *same* time are taken together: only the net change of that
  group gives events, made from its last row. (Events at one instant are ordered by kind
  in the canonical log, so "resolved then reopened in the same second" would otherwise
  read as "reopened then resolved". A change undone within one instant lasted no time.)
- Every event's ``label`` is the status text; ``team`` is the team holding the case after
  the row (smile and reopen included, for the record); ``account_id`` is the case's
  account: the first account value found in the case.

Nothing is dropped silently. Rows with no case id or no readable time cannot be placed
and are left out; cases with no account get :data:`NO_ACCOUNT`; each of these is a
*problem* in the result, with a count and examples.

Event ids are the first 20 hex digits of a SHA-256 of the source name, the kind, and the
content of the row that gave the event (case, time, status, team, account, start),
plus how many earlier rows had the very same content. Importing the same file again
gives the same ids, and appending rows to an export keeps the ids of the rows before.

The work is done by DuckDB over Arrow (window functions, no per-row Python), so logs of
millions of rows convert in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from valueclock.errors import InputError, UsageError
from valueclock.schema import EVENT_COLUMNS, KIND_RANK

__all__ = ["ConversionResult", "NO_ACCOUNT", "status_log_to_events", "EVENTS_SCHEMA"]

#: The account given to a case whose rows name no account (reported as a problem).
NO_ACCOUNT = "(no account)"

#: The Arrow schema of the canonical columns the converter writes.
EVENTS_SCHEMA = pa.schema([
    ("event_id", pa.string()),
    ("account_id", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("kind", pa.string()),
    ("case_id", pa.string()),
    ("team", pa.string()),
    ("label", pa.string()),
])
assert tuple(EVENTS_SCHEMA.names) == EVENT_COLUMNS

_EXAMPLES = 5
_SEP = "chr(31)"  # unit separator between the parts of a hashed row


@dataclass(frozen=True)
class ConversionResult:
    """What a status log became.

    ``events``: the canonical events (columns :data:`EVENTS_SCHEMA`, then any kept
    attributes), ordered by case (in order of first appearance), time, and kind.
    ``problems``: one dict per kind of problem, ``{"problem", "count", "examples"}``;
    ``count`` is in rows or cases, as the problem text says.
    ``rows``: rows read; ``cases``: cases that gave events.
    """

    events: pa.Table
    problems: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    cases: int = 0

    def kind_counts(self) -> dict[str, int]:
        """How many events of each kind, in the canonical kind order."""
        if self.events.num_rows == 0:
            return {}
        counts = pc.value_counts(self.events.column("kind").combine_chunks()).to_pylist()
        found = {c["values"]: c["counts"] for c in counts}
        return {k: found[k] for k in KIND_RANK if k in found}


def _text(column: pa.ChunkedArray | pa.Array, name: str) -> pa.ChunkedArray:
    """A column as plain Arrow strings (dictionaries decoded, numbers written out)."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_string(column.type):
        return column
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(f"cannot be read as text (type {column.type})", column=name) from None


def _time_column(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """A time column as Arrow strings, or as it is when it is already a time type."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return column
    return _text(column, name)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")" if values else "(NULL)"


def _clean(expr: str, null_tokens: Sequence[str]) -> str:
    """SQL for a text column trimmed, with empty strings and null tokens as NULL."""
    trimmed = f"nullif(trim({expr}), '')"
    if not null_tokens:
        return trimmed
    return f"CASE WHEN trim({expr}) IN {_literal_list(null_tokens)} THEN NULL ELSE {trimmed} END"


def _parse(expr: str, arrow_type: pa.DataType, time_format: str | None,
           null_tokens: Sequence[str]) -> tuple[str, str]:
    """SQL for (the time as text for messages, the time as TIMESTAMPTZ)."""
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        # Naive timestamps and dates are in the session time zone (set to ``timezone``).
        return "NULL::VARCHAR", f"CAST({expr} AS TIMESTAMPTZ)"
    text = _clean(expr, null_tokens)
    if time_format:
        return text, f"CAST(try_strptime({text}, {_literal(time_format)}) AS TIMESTAMPTZ)"
    # Text with an offset (Z, +02:00) is exact; without one it is in the session zone.
    return text, f"TRY_CAST(replace({text}, 'T', ' ') AS TIMESTAMPTZ)"


def _team_expr(team: str, pattern: str | None, unmatched: str | None) -> str:
    if pattern is None:
        return team
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        raise UsageError(f"--team-pattern {pattern!r} is not a regular expression: {exc}") \
            from None
    p = _literal(pattern)
    otherwise = team if unmatched is None else _literal(unmatched)
    return (f"CASE WHEN {team} IS NULL THEN NULL WHEN regexp_matches({team}, {p}) "
            f"THEN nullif(regexp_extract({team}, {p}, {1 if groups else 0}), '') "
            f"ELSE {otherwise} END")


def status_log_to_events(
    table: pa.Table, *,
    case: str,
    time: str,
    status: str,
    smile: Sequence[str],
    team: str | None = None,
    account: str | None = None,
    start: str | None = None,
    time_format: str | None = None,
    timezone: str = "UTC",
    null_tokens: Sequence[str] = (),
    source: str = "status-log",
    team_pattern: str | None = None,
    team_unmatched: str | None = None,
    attributes: Sequence[str] = (),
) -> ConversionResult:
    """Turn a status log (an Arrow table, one row per change of a case) into events.

    ``case``, ``time``, ``status``, ``team``, ``account`` and ``start`` name the columns
    of ``table``; ``smile`` lists the statuses in which the customer is happy again (for
    example ``Resolved`` and ``Closed``). Times are ISO 8601 text, or text in the
    strptime-style ``time_format`` (``%d/%m/%Y %H:%M``), or Arrow timestamps or dates;
    a time without an offset is a wall-clock time in ``timezone``. Text equal to one of
    ``null_tokens`` (after trimming) counts as empty, as does the empty string.

    ``source`` names the source in the event ids. ``team_pattern`` is a regular
    expression applied to each team: its first group (or the whole match) becomes the
    team, and a team it does not match becomes ``team_unmatched`` (kept as it is when
    that is None). ``attributes`` are further columns copied onto each event from the
    row that gave it.

    The rules are in this module's documentation. The input table is not changed.
    """
    smile = [s for s in (str(x).strip() for x in smile) if s]
    if not smile:
        raise UsageError("give at least one smile status (e.g. --smile Resolved)")
    names = table.column_names
    roles = {"case": case, "time": time, "status": status, "team": team,
             "account": account, "start": start}
    for role, name in list(roles.items()) + [("attribute", a) for a in attributes]:
        if name is not None and name not in names:
            raise InputError(f"no such column for the {role} (columns found: "
                             f"{', '.join(names) or 'none'})", column=name)
    clash = [a for a in attributes if a in EVENT_COLUMNS]
    if clash:
        raise UsageError(f"attribute {clash[0]!r} has the name of a canonical column")

    n = table.num_rows
    cols: dict[str, pa.ChunkedArray | pa.Array] = {}
    for role in ("case", "status", "team", "account"):
        name = roles[role]
        cols[role] = _text(table.column(name), name) if name else pa.nulls(n, pa.string())
    cols["time"] = _time_column(table.column(time), time)
    cols["start"] = (_time_column(table.column(start), start) if start
                     else pa.nulls(n, pa.string()))
    for i, name in enumerate(attributes):
        cols[f"attr_{i}"] = _text(table.column(name), name)
    cols["_row"] = pa.array(np.arange(n, dtype=np.int64))
    raw = pa.table(cols)

    con = duckdb.connect()
    try:
        try:
            con.execute(f"SET TimeZone = {_literal(timezone)}")
        except duckdb.Error:
            raise UsageError(f"unknown time zone {timezone!r} (use an IANA name such as "
                             "'UTC' or 'Europe/Amsterdam')") from None
        con.register("raw", raw)
        query = _query(raw.schema, time_format=time_format, null_tokens=list(null_tokens),
                       smile=smile, source=source, team_pattern=team_pattern,
                       team_unmatched=team_unmatched, has_start=start is not None,
                       n_attributes=len(attributes))
        try:
            con.execute(f"CREATE TEMP TABLE src AS {query['src']}")
            con.execute(f"CREATE TEMP TABLE steps AS {query['steps']}")
            events = con.sql(query["events"]).to_arrow_table()
            problems = _problems(con, start is not None, account is not None)
            n_cases = con.sql("SELECT count(*) FROM steps WHERE seq = 1").fetchall()[0][0]
        except duckdb.InvalidInputException as exc:
            if time_format:
                raise UsageError(f"--time-format {time_format!r} cannot be used: "
                                 f"{str(exc).splitlines()[0]}") from None
            raise
    finally:
        con.close()

    out = {name: events.column(name) for name in EVENTS_SCHEMA.names}
    out["timestamp"] = pc.cast(out["timestamp"], EVENTS_SCHEMA.field("timestamp").type)
    result = pa.table(out, schema=EVENTS_SCHEMA)
    for i, name in enumerate(attributes):
        result = result.append_column(name, events.column(f"attr_{i}"))
    return ConversionResult(events=result, problems=problems, rows=n, cases=int(n_cases))


def _query(schema: pa.Schema, *, time_format: str | None, null_tokens: list[str],
           smile: list[str], source: str, team_pattern: str | None,
           team_unmatched: str | None, has_start: bool, n_attributes: int) -> dict[str, str]:
    time_text, ts = _parse("time", schema.field("time").type, time_format, null_tokens)
    start_text, start_ts = _parse("start", schema.field("start").type, time_format,
                                  null_tokens)
    team = _team_expr(_clean("team", null_tokens), team_pattern, team_unmatched)
    attrs = "".join(f", {_clean(f'attr_{i}', null_tokens)} AS attr_{i}"
                    for i in range(n_attributes))
    attr_cols = "".join(f", attr_{i}" for i in range(n_attributes))
    smiles = _literal_list([s.lower() for s in smile])

    src = f"""
        SELECT _row,
               {_clean('"case"', null_tokens)} AS case_id,
               {time_text} AS time_text, {ts} AS ts,
               {_clean('status', null_tokens)} AS status,
               {_clean('team', null_tokens)} AS team_raw,
               {team} AS team,
               {_clean('account', null_tokens)} AS account,
               {start_text} AS start_text, {start_ts} AS start_ts
               {attrs}
        FROM raw"""

    w = "PARTITION BY case_id ORDER BY ts, _row"
    upto = f"({w} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    whole = f"({w} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    # The content of a row, for its event ids: everything that was read from it.
    content = (f"concat_ws({_SEP}, {_literal(source)}, case_id, epoch_us(ts)::VARCHAR, "
               f"coalesce(status, ''), coalesce(team_raw, ''), coalesce(account, ''), "
               f"coalesce(epoch_us(start_ts)::VARCHAR, ''))")
    steps = f"""
        WITH good AS (SELECT * FROM src WHERE case_id IS NOT NULL AND ts IS NOT NULL),
        marked AS (
            SELECT *,
                   row_number() OVER ({w}) AS seq,
                   coalesce(lead(ts) OVER ({w}) <> ts, true) AS group_end,
                   coalesce(last_value(lower(status) IN {smiles} IGNORE NULLS) OVER {upto},
                            false) AS smile_after,
                   last_value(team IGNORE NULLS) OVER {upto} AS team_after,
                   last_value(status IGNORE NULLS) OVER {upto} AS status_after,
                   first_value(team) OVER {whole} AS first_team,
                   first_value(ts) OVER {whole} AS first_ts,
                   first_value(account IGNORE NULLS) OVER {whole} AS case_account,
                   min(account) OVER (PARTITION BY case_id) <>
                       max(account) OVER (PARTITION BY case_id) AS accounts_differ,
                   first_value(start_ts IGNORE NULLS) OVER {whole} AS case_start,
                   min(_row) OVER (PARTITION BY case_id) AS case_row,
                   {content} AS content
            FROM good
        )
        SELECT *,
               coalesce(lag(smile_after) OVER ({w}), false) AS smile_before,
               coalesce(lag(team_after) OVER ({w}), first_team) AS holder_before
        FROM marked
        WHERE group_end OR seq = 1"""
    # (The first row is kept even when it is not the end of its group: it gives the
    # interruption. ``lag`` must then skip it, hence the second pass below.)
    steps = f"""
        WITH s AS ({steps})
        SELECT * REPLACE (
                   coalesce(lag(smile_after) FILTER (WHERE group_end) OVER ({w}), false)
                       AS smile_before,
                   coalesce(lag(team_after) FILTER (WHERE group_end) OVER ({w}), first_team)
                       AS holder_before)
        FROM s"""
    interruption = "least(coalesce(case_start, first_ts), first_ts)" if has_start else "ts"
    parts = [
        f"""SELECT 'interruption' AS kind, {interruption} AS timestamp, team, status AS label,
                   case_id, case_account, case_row, _row, content{attr_cols}
            FROM steps WHERE seq = 1""",
        f"""SELECT 'handoff', ts, team_after, status_after, case_id, case_account, case_row,
                   _row, content{attr_cols}
            FROM steps WHERE group_end AND team_after IS NOT NULL
                         AND team_after IS DISTINCT FROM holder_before""",
        f"""SELECT 'smile', ts, team_after, status_after, case_id, case_account, case_row,
                   _row, content{attr_cols}
            FROM steps WHERE group_end AND smile_after AND NOT smile_before""",
        f"""SELECT 'reopen', ts, team_after, status_after, case_id, case_account, case_row,
                   _row, content{attr_cols}
            FROM steps WHERE group_end AND NOT smile_after AND smile_before""",
    ]
    ranks = " ".join(f"WHEN {_literal(k)} THEN {r}" for k, r in KIND_RANK.items())
    events = f"""
        WITH e AS ({" UNION ALL ".join(parts)}),
        hashed AS (SELECT *, sha256(concat_ws({_SEP}, kind, content)) AS base FROM e),
        counted AS (
            SELECT *, row_number() OVER (PARTITION BY base ORDER BY _row) - 1 AS occurrence
            FROM hashed)
        SELECT CASE WHEN occurrence = 0 THEN left(base, 20)
                    ELSE left(sha256(base || '#' || occurrence::VARCHAR), 20) END AS event_id,
               coalesce(case_account, {_literal(NO_ACCOUNT)}) AS account_id,
               timestamp, kind, case_id, team, label{attr_cols}
        FROM counted
        ORDER BY case_row, timestamp, CASE kind {ranks} END, _row"""
    return {"src": src, "steps": steps, "events": events}


def _problems(con: duckdb.DuckDBPyConnection, has_start: bool,
              has_account: bool) -> list[dict[str, Any]]:
    """The problems found, each ``{"problem", "count", "examples"}``."""
    checks: list[tuple[str, str, str]] = [
        ("rows without a case id (left out)",
         "SELECT _row, 'row ' || (_row + 1) FROM src WHERE case_id IS NULL", "_row"),
        ("rows without a time (left out)",
         "SELECT _row, 'row ' || (_row + 1) || ', case ' || case_id FROM src "
         "WHERE case_id IS NOT NULL AND ts IS NULL AND time_text IS NULL", "_row"),
        ("rows whose time cannot be read (left out)",
         "SELECT _row, 'row ' || (_row + 1) || ': ' || time_text FROM src "
         "WHERE case_id IS NOT NULL AND ts IS NULL AND time_text IS NOT NULL", "_row"),
        (f"cases without an account (given account {NO_ACCOUNT!r})"
         if has_account else
         f"cases without an account: no account column was given (given {NO_ACCOUNT!r})",
         "SELECT _row, case_id FROM steps WHERE seq = 1 AND case_account IS NULL", "_row"),
        ("cases naming more than one account (the first is used)",
         "SELECT _row, case_id || ': ' || case_account FROM steps "
         "WHERE seq = 1 AND accounts_differ", "_row"),
    ]
    if has_start:
        checks += [
            ("cases without a start time (the first row's time is used)",
             "SELECT _row, case_id FROM steps WHERE seq = 1 AND case_start IS NULL", "_row"),
            ("cases whose start time is after their first row (the first row's time is "
             "used)",
             "SELECT _row, case_id || ': starts ' || strftime(case_start AT TIME ZONE 'UTC', "
             "'%Y-%m-%dT%H:%M:%SZ') || ', first row ' || strftime(first_ts AT TIME ZONE "
             "'UTC', '%Y-%m-%dT%H:%M:%SZ') FROM steps WHERE seq = 1 AND case_start > first_ts",
             "_row"),
        ]
    problems = []
    for text, sql, order in checks:
        count, examples = con.sql(
            f"SELECT count(*), list(x ORDER BY o)[1:{_EXAMPLES}] FROM "
            f"(SELECT {order} AS o, detail AS x FROM ({sql}) AS q(_row, detail))"
        ).fetchall()[0]
        if count:
            problems.append({"problem": text, "count": int(count), "examples": list(examples)})
    return problems
