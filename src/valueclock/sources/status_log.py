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

Event ids are the first 20 hex digits of a SHA-256 of the source name, the case id, the
kind and the time (in microseconds). Because rows at one time are taken together, a case
has at most one event of a kind at a time, so the ids are unique; they do not depend on
the rest of the file, so importing the same export again, or a longer export of the same
help desk, gives the same ids to the same events.

The work is vectorised: DuckDB parses the times and sorts the rows once (by case, time,
file order); the state machine is then a handful of numpy operations over the sorted
columns (forward fills with ``maximum.accumulate``, comparisons with the group before).
There is no per-row Python, and a log of millions of rows converts in seconds.
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

from valueclock.engines import duckdb_connect, sql_text
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
    ``rows``: rows read; ``cases``: cases found (each has its interruption).
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



def _literal_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(sql_text(v) for v in values) + ")" if values else "(NULL)"


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
        return text, f"CAST(try_strptime({text}, {sql_text(time_format)}) AS TIMESTAMPTZ)"
    # Text with an offset (Z, +02:00) is exact; without one it is in the session zone.
    return text, f"TRY_CAST({text} AS TIMESTAMPTZ)"


def _team_expr(team: str, pattern: str | None, unmatched: str | None) -> str:
    if pattern is None:
        return team
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        raise UsageError(f"--team-pattern {pattern!r} is not a regular expression: "
                         f"{exc}") from None
    p = sql_text(pattern)
    otherwise = team if unmatched is None else sql_text(unmatched)
    return (f"CASE WHEN {team} IS NULL THEN NULL WHEN regexp_matches({team}, {p}) "
            f"THEN nullif(regexp_extract({team}, {p}, {1 if groups else 0}), '') "
            f"ELSE {otherwise} END")


def _clean_arrow(column: pa.ChunkedArray | pa.Array, null_tokens: Sequence[str]) -> pa.Array:
    """Text trimmed, with empty strings and null tokens as nulls, as one array."""
    if isinstance(column, pa.ChunkedArray):
        column = (column.combine_chunks() if column.num_chunks
                  else pa.array([], column.type))
    column = pc.utf8_trim_whitespace(column)
    empty = pc.equal(column, "")
    if null_tokens:
        tokens = pa.array([t.strip() for t in null_tokens], pa.string())
        empty = pc.or_(empty, pc.is_in(column, value_set=tokens))
    return pc.if_else(empty, pa.scalar(None, pa.string()), column)


def _codes(column: pa.Array) -> np.ndarray:
    """Integer codes of a text array (equal text, equal code); -1 for null."""
    encoded = pc.dictionary_encode(column)
    return pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _take(column: pa.Array, positions: np.ndarray) -> pa.Array:
    """``column`` at ``positions``; null where a position is -1."""
    return pc.take(column, pa.array(positions, pa.int64(), mask=positions < 0))


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
    Raises :class:`InputError` for a missing column and :class:`UsageError` for an
    unusable option (no smile status, unknown time zone, bad format or pattern).
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
    nulls = pa.nulls(n, pa.string())

    def text(name: str | None) -> pa.Array:
        return _clean_arrow(_text(table.column(name), name), null_tokens) if name else nulls

    case_ids, statuses, accounts = text(case), text(status), text(account)
    kept = [text(a) for a in attributes]
    case_key = pc.dictionary_encode(case_ids).indices  # codes in order of first appearance
    raw = pa.table({
        "_row": pa.array(np.arange(n, dtype=np.int64)),
        "case_key": case_key,
        "in_time": _time_column(table.column(time), time),
        "in_start": _time_column(table.column(start), start) if start else nulls,
        "in_team": text(team),
        "in_status": statuses,
    })

    con = duckdb_connect()
    try:
        try:
            con.execute(f"SET TimeZone = {sql_text(timezone)}")
        except duckdb.Error:
            raise UsageError(f"unknown time zone {timezone!r} (use an IANA name such as "
                             "'UTC' or 'Europe/Amsterdam')") from None
        con.register("raw", raw)
        _check_options(con, time_format, team_pattern)
        query = _src_query(raw.schema, time_format, null_tokens, smile, team_pattern,
                           team_unmatched)
        con.execute(f"CREATE TEMP TABLE src AS {query}")
        problems = _row_problems(con)
        good = con.sql("SELECT _row, case_key, ts, start, team, smile FROM src "
                       "WHERE case_key IS NOT NULL AND ts IS NOT NULL "
                       "ORDER BY case_key, ts, _row").to_arrow_table()
        events, case_problems, n_cases = _events(
            good, case_ids, statuses, accounts, kept, has_start=start is not None,
            has_account=account is not None)
        problems += case_problems
        ids = _event_ids(con, events, source)
    finally:
        con.close()

    columns = {"event_id": ids, **{k: events[k] for k in EVENTS_SCHEMA.names[1:]}}
    result = pa.table(columns, schema=EVENTS_SCHEMA)
    for name, i in zip(attributes, range(len(kept)), strict=True):
        result = result.append_column(name, events[f"attr_{i}"])
    return ConversionResult(events=result, problems=problems, rows=n, cases=n_cases)


def _check_options(con: duckdb.DuckDBPyConnection, time_format: str | None,
                   team_pattern: str | None) -> None:
    """Raise :class:`UsageError` for a time format or team pattern DuckDB cannot use."""
    checks = []
    if time_format:
        checks.append(("--time-format", time_format,
                       f"SELECT try_strptime('', {sql_text(time_format)})"))
    if team_pattern:
        checks.append(("--team-pattern", team_pattern,
                       f"SELECT regexp_matches('', {sql_text(team_pattern)})"))
    for option, value, query in checks:
        try:
            con.sql(query).fetchall()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            raise UsageError(f"{option} {value!r} cannot be used: {message}") from None


def _src_query(schema: pa.Schema, time_format: str | None, null_tokens: Sequence[str],
               smile: Sequence[str], team_pattern: str | None,
               team_unmatched: str | None) -> str:
    """Parse the times, derive the team, flag the smile statuses."""
    time_text, ts = _parse("in_time", schema.field("in_time").type, time_format, null_tokens)
    start_text, start_ts = _parse("in_start", schema.field("in_start").type, time_format,
                                  null_tokens)
    team = _team_expr("in_team", team_pattern, team_unmatched)
    smiles = _literal_list([s.lower() for s in smile])
    return f"""
        SELECT _row, case_key, ts, start,
               CASE WHEN ts IS NULL THEN time_text END AS time_text,
               team, smile
        FROM (
            SELECT _row, case_key,
                   epoch_us({ts}) AS ts, {time_text} AS time_text,
                   epoch_us({start_ts}) AS start,
                   {team} AS team,
                   CAST(lower(in_status) IN {smiles} AS TINYINT) AS smile
            FROM raw)"""


def _row_problems(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Rows that cannot be placed: no case id, no time, a time that cannot be read."""
    checks = [
        ("rows without a case id (left out)",
         "case_key IS NULL", "'row ' || (_row + 1)"),
        ("rows without a time (left out)",
         "case_key IS NOT NULL AND ts IS NULL AND time_text IS NULL",
         "'row ' || (_row + 1)"),
        ("rows whose time cannot be read (left out)",
         "case_key IS NOT NULL AND ts IS NULL AND time_text IS NOT NULL",
         "'row ' || (_row + 1) || ': \"' || time_text || '\"'"),
    ]
    problems = []
    for text, where, detail in checks:
        count, examples = con.sql(
            f"SELECT count(*), list({detail} ORDER BY _row)[1:{_EXAMPLES}] "
            f"FROM src WHERE {where}").fetchall()[0]
        if count:
            problems.append({"problem": text, "count": int(count), "examples": list(examples)})
    return problems


def _events(good: pa.Table, case_ids: pa.Array, statuses: pa.Array, accounts: pa.Array,
            kept: list[pa.Array], *, has_start: bool,
            has_account: bool) -> tuple[dict[str, pa.Array], list[dict[str, Any]], int]:
    """The state machine, over rows sorted by case, time and file order (numpy, no loop).

    Returns the event columns (in output order), the case problems and the case count.
    """
    m = good.num_rows
    row = good.column("_row").to_numpy()
    key = good.column("case_key").to_numpy()
    ts = good.column("ts").to_numpy()
    if m == 0:
        empty = pa.array([], pa.string())
        cols = {k: empty for k in ("account_id", "kind", "case_id", "team", "label")}
        cols["timestamp"] = pa.array([], EVENTS_SCHEMA.field("timestamp").type)
        cols["_ts"] = pa.array([], pa.int64())
        cols.update({f"attr_{i}": empty for i in range(len(kept))})
        return cols, [], 0
    pos = np.arange(m)

    # Cases are runs of equal keys; groups are runs of equal (key, time).
    new_case = np.ones(m, dtype=bool)
    new_case[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(new_case)  # first row of each case
    lasts = np.append(starts[1:], m) - 1  # last row of each case
    case_no = np.cumsum(new_case) - 1
    case_start = starts[case_no]
    group_end = np.ones(m, dtype=bool)
    group_end[:-1] = (key[1:] != key[:-1]) | (ts[1:] != ts[:-1])

    def latest(valid: np.ndarray) -> np.ndarray:
        """Position of the latest row at or before each row, in its case, that is valid."""
        found = np.where(valid, pos, -1)
        np.maximum.accumulate(found, out=found)
        found[found < case_start] = -1
        return found

    def first(valid: np.ndarray) -> np.ndarray:
        """Position of each case's first valid row, -1 when it has none."""
        hits = np.flatnonzero(valid)
        if len(hits) == 0:
            return np.full(len(starts), -1)
        j = np.minimum(np.searchsorted(hits, starts), len(hits) - 1)
        return np.where((hits[j] >= starts) & (hits[j] <= lasts), hits[j], -1)

    smile_flag = pc.fill_null(good.column("smile"), -1).to_numpy().astype(np.int8)
    smile_at = latest(smile_flag >= 0)
    smile_after = (smile_at >= 0) & (smile_flag[np.maximum(smile_at, 0)] == 1)

    teams = good.column("team").combine_chunks()
    team_code = _codes(teams)
    team_at = latest(team_code >= 0)  # who holds the case after each row
    team_after = np.where(team_at >= 0, team_code[np.maximum(team_at, 0)], -1)

    status_sorted = pc.take(statuses, pa.array(row))
    status_at = latest(pc.is_valid(status_sorted).to_numpy(zero_copy_only=False))

    # Group ends against the group end before them in the same case.
    ends = np.flatnonzero(group_end)
    prev = np.concatenate(([-1], ends[:-1]))
    same = (prev >= 0) & (prev >= case_start[ends])
    prev = np.maximum(prev, 0)
    smile_before = np.where(same, smile_after[prev], False)
    holder_before = np.where(same, team_after[prev], team_code[case_start[ends]])
    now_smile, now_team = smile_after[ends], team_after[ends]
    handoff = ends[(now_team >= 0) & (now_team != holder_before)]
    smiled = ends[now_smile & ~smile_before]
    reopened = ends[~now_smile & smile_before]

    # The interruption: at the first row, or at the case's start time.
    at = ts[starts].copy()
    case_problems: list[dict[str, Any]] = []
    case_names = pc.take(case_ids, pa.array(row[starts]))

    def report(text: str, which: np.ndarray, detail: list[str] | None = None) -> None:
        if which.any():
            idx = np.flatnonzero(which)[:_EXAMPLES]
            examples = detail or [str(case_names[int(i)]) for i in idx]
            case_problems.append({"problem": text, "count": int(which.sum()),
                                  "examples": examples[:_EXAMPLES]})

    if has_start:
        start_col = good.column("start")
        start_val = pc.fill_null(start_col, 0).to_numpy()
        start_at = first(pc.is_valid(start_col).to_numpy(zero_copy_only=False))
        case_start_ts = np.where(start_at >= 0, start_val[np.maximum(start_at, 0)], at)
        late = (start_at >= 0) & (case_start_ts > at)
        at = np.where(late, at, case_start_ts)
        report("cases without a start time (the first row's time is used)", start_at < 0)
        late_idx = np.flatnonzero(late)[:_EXAMPLES]
        report("cases whose start time is after their first row (the first row's time is "
               "used)", late,
               [f"{case_names[int(i)]}: starts {_iso(int(case_start_ts[i]))}, first row "
                f"{_iso(int(ts[starts[i]]))}" for i in late_idx])

    accounts_sorted = pc.take(accounts, pa.array(row))
    account_code = _codes(accounts_sorted)
    account_at = first(account_code >= 0)
    case_account = pc.fill_null(_take(accounts_sorted, account_at), NO_ACCOUNT)
    report(f"cases without an account (given account {NO_ACCOUNT!r})" if has_account else
           f"cases without an account: no account column was given (given {NO_ACCOUNT!r})",
           account_at < 0)
    if has_account:
        big = np.iinfo(np.int64).max
        low = np.minimum.reduceat(np.where(account_code >= 0, account_code, big), starts)
        high = np.maximum.reduceat(account_code, starts)
        differ = (account_at >= 0) & (low < high)
        report("cases naming more than one account (the first is used)", differ,
               [f"{case_names[int(i)]}: {case_account[int(i)]}"
                for i in np.flatnonzero(differ)[:_EXAMPLES]])

    # Every event: the row that gave it, its kind, time, and where its team and label are.
    source_pos = np.concatenate([starts, handoff, smiled, reopened])
    kind_code = np.concatenate([np.full(len(x), KIND_RANK[k], dtype=np.int64) for x, k in (
        (starts, "interruption"), (handoff, "handoff"), (smiled, "smile"),
        (reopened, "reopen"))])
    when = np.concatenate([at, ts[handoff], ts[smiled], ts[reopened]])
    later = np.concatenate([handoff, smiled, reopened])
    team_pos = np.concatenate([starts, team_at[later]])
    team_pos = np.where(np.concatenate([team_code[starts] >= 0, np.ones(len(later), bool)]),
                        team_pos, -1)
    label_pos = np.concatenate([starts, status_at[later]])
    order = np.lexsort((kind_code, source_pos))
    source_pos, kind_code, when = source_pos[order], kind_code[order], when[order]
    team_pos, label_pos = team_pos[order], label_pos[order]

    kinds = pa.DictionaryArray.from_arrays(pa.array(kind_code), pa.array(list(KIND_RANK)))
    rows = pa.array(row[source_pos])
    cols: dict[str, pa.Array] = {
        "account_id": pc.take(case_account, pa.array(case_no[source_pos])),
        "timestamp": pa.array(when, pa.int64()).cast(EVENTS_SCHEMA.field("timestamp").type),
        "kind": kinds.cast(pa.string()),
        "case_id": pc.take(case_ids, rows),
        "team": _take(teams, team_pos),
        "label": _take(status_sorted, label_pos),
        "_ts": pa.array(when, pa.int64()),
    }
    for i, column in enumerate(kept):
        cols[f"attr_{i}"] = pc.take(column, rows)
    return cols, case_problems, len(starts)


def _iso(us: int) -> str:
    return (np.datetime64(us, "us").astype("datetime64[s]").item().isoformat() + "Z")


def _event_ids(con: duckdb.DuckDBPyConnection, events: dict[str, pa.Array],
               source: str) -> pa.Array:
    """``sha256(source, case, kind, time)``, first 20 hex digits, one per event."""
    keys = pa.table({"i": pa.array(np.arange(len(events["kind"]), dtype=np.int64)),
                     "case_id": events["case_id"], "kind": events["kind"],
                     "ts": events["_ts"]})
    con.register("event_keys", keys)
    ids = con.sql(f"SELECT left(sha256(concat_ws({_SEP}, {sql_text(source)}, case_id, kind, "
                  f"ts::VARCHAR)), 20) AS id FROM event_keys ORDER BY i").to_arrow_table()
    return ids.column("id").combine_chunks()
