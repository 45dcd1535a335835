"""From raw canonical events to the usable ones, and the data problems of the rest.

Pure Ibis: nothing here reads a file or prints. Every row that is not used is named by
one problem class, so the counts of the report add up to the rows read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir

from valueclock.schema import CASE_KINDS, KIND_RANK, KINDS

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 86_400_000_000

#: Problem classes, in the order the report lists them, with what each means.
PROBLEMS: dict[str, str] = {
    "quarantined": "rows set aside when they were ingested into the workspace because they "
                   "cannot be used (see `valueclock check`; not measured)",
    "missing_account_id": "rows without an account_id (not measured)",
    "unparseable_timestamp": "rows whose timestamp cannot be read (not measured)",
    "unknown_kind": "rows whose kind is not one of " + ", ".join(KINDS) + " (not measured)",
    "missing_case_id": "case events (interruption, handoff, smile, reopen) without a "
                       "case_id (not measured)",
    "after_as_of": "rows after as_of (left out of this report)",
    "duplicate_event_id": "rows repeating an earlier row's event_id (taken as one event)",
    "case_without_interruption": "cases with events but no interruption (not measured)",
    "event_before_case_start": "case events before the case's first interruption "
                               "(not measured)",
    "repeated_interruption": "a later interruption in a case that already started "
                             "(counted as a reopen)",
    "case_event_other_account": "case events under another account than the case's "
                                "interruption (measured for the interruption's account)",
    "duplicate_account": "accounts listed more than once in the accounts table "
                         "(the last row is used)",
    "account_without_events": "accounts in the accounts table with no event "
                              "(not counted)",
}


_EPOCH = ibis.timestamp("1970-01-01 00:00:00")


def epoch_us(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Microseconds since 1970 of a timestamp, exact and the same on every backend.

    Durations are differences of these integers: subtracting timestamps gives intervals
    whose unit and precision differ between backends, ``epoch_seconds`` drops the
    fraction, and Spark cannot extract microseconds; a difference in microseconds is
    compiled natively by DuckDB, PostgreSQL and Spark alike.
    """
    return ts.delta(_EPOCH, unit="microsecond").cast("int64")


def flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where ``condition`` holds, else 0 (PostgreSQL cannot cast booleans to integers)."""
    return ibis.ifelse(condition, 1, 0).cast("int64")


def kind_rank(kind: ir.StringValue) -> ir.IntegerValue:
    """The position of a kind in the order events at one timestamp are taken."""
    return ibis.cases(*[(kind == k, r) for k, r in KIND_RANK.items()], else_=len(KINDS))


@dataclass(frozen=True)
class Prepared:
    """Usable events (with ``_us``, ``_rank`` and ``_seq``) and the problem rows."""

    usable: ir.Table
    problems: ir.Table
    as_of: datetime
    as_of_us: int


def _with_defaults(events: ir.Table) -> ir.Table:
    cols = events.columns
    extra = {}
    for name in ("case_id", "team", "label", "event_id"):
        if name not in cols:
            extra[name] = ibis.null("string")
    if "_seq" not in cols:
        # Without a read order (a table stored in an engine), rows at one moment are taken
        # by their content: the canonical columns, then the other text columns. The same
        # order on every backend, whatever order the table is stored in.
        keys = [c for c in ("event_id", "account_id", "kind", "case_id", "team", "label")
                if c in cols]
        keys += [c for c in cols if c not in keys and c != "timestamp"
                 and not c.startswith("_") and events[c].type().is_string()]
        extra["_seq"] = ibis.row_number().over(
            order_by=[events.timestamp, *[events[c] for c in keys]]).cast("int64")
    if "_source" not in cols:
        extra["_source"] = ibis.null("string")
    if "_row" not in cols:
        extra["_row"] = ibis.null("int64")
    # The timestamp as written; typed timestamps are shown as the engine writes them.
    extra["_timestamp_raw"] = (events._timestamp_raw.fill_null(events.timestamp.cast("string"))
                               if "_timestamp_raw" in cols else events.timestamp.cast("string"))
    if extra:
        events = events.mutate(**extra)
    # Files are trimmed by the reader. No strip() here: Ibis compiles it for Spark with a
    # character set that removes the letter 'v' (as in 'value').
    return events.mutate(kind=events.kind.lower())


def _problem(rows: ir.Table, problem: str, detail: ir.StringValue) -> ir.Table:
    return rows.select(problem=ibis.literal(problem), source=rows._source, row=rows._row,
                       detail=detail)


def _quote(value: ir.Value) -> ir.StringValue:
    return ibis.literal("'").concat(value.cast("string").fill_null(""), ibis.literal("'"))


def prepare(events: ir.Table, as_of: datetime | None = None,
            keep: Callable[[ir.Table], ir.Table] | None = None) -> Prepared:
    """Split canonical events into usable rows and data problems.

    ``as_of`` defaults to the latest timestamp among the rows that are otherwise usable,
    so the same data always gives the same numbers. ``as_of`` is naive UTC. ``keep``
    (such as ``Table.cache``) is applied to every row with its problem class, before
    ``as_of``, the usable rows and the problems are taken from it: the classification
    then runs once.
    """
    t = _with_defaults(events)
    # Rows with the same event_id are one event: the first one read stands for them.
    # A hash aggregate finds the repeated ids (few, usually none) and a join marks the
    # later rows: much cheaper than numbering every row in a window sorted by event_id.
    ids = t.filter(t.event_id.notnull())
    repeated = ids.group_by(_dup_id=ids.event_id).aggregate(_first=ids._seq.min(),
                                                            _n=ids.count())
    repeated = repeated.filter(repeated._n > 1).drop("_n")
    t = t.left_join(repeated, t.event_id == repeated._dup_id)
    t = t.mutate(_dup=flag(t._first.notnull() & (t._seq != t._first))).drop("_dup_id",
                                                                             "_first")
    kinds = list(KINDS)
    no_account = t.account_id.isnull()
    bad_ts = ~no_account & t.timestamp.isnull()
    unknown = ~no_account & ~bad_ts & (t.kind.isnull() | ~t.kind.isin(kinds))
    no_case = (~no_account & ~bad_ts & ~unknown & t.kind.isin(list(CASE_KINDS))
               & t.case_id.isnull())
    dup = ~no_account & ~bad_ts & ~unknown & ~no_case & (t._dup > 0)
    t = t.mutate(_problem=ibis.cases(
        (no_account, "missing_account_id"),
        (bad_ts, "unparseable_timestamp"),
        (unknown, "unknown_kind"),
        (no_case, "missing_case_id"),
        (dup, "duplicate_event_id"),
        else_=ibis.null("string"),
    ))
    t = t.drop("_dup").mutate(_us=epoch_us(t.timestamp), _rank=kind_rank(t.kind))
    if keep is not None:
        t = keep(t)
    candidates = t.filter(t._problem.isnull())
    if as_of is None:
        latest = candidates.timestamp.max().to_pyarrow().as_py()
        as_of = latest if latest is not None else datetime(1970, 1, 1)
    as_of = as_of.replace(tzinfo=None)
    as_of_lit = ibis.literal(as_of, type="timestamp")
    usable = candidates.filter(candidates.timestamp <= as_of_lit)
    usable = usable.drop("_problem", "_timestamp_raw")

    bad = t.filter(t._problem.notnull())
    problems = [
        bad.select(problem=bad._problem, source=bad._source, row=bad._row,
                   detail=ibis.cases(
                       (bad._problem == "unparseable_timestamp",
                        ibis.literal("timestamp ").concat(_quote(bad._timestamp_raw))),
                       (bad._problem == "unknown_kind",
                        ibis.literal("kind ").concat(_quote(bad.kind))),
                       (bad._problem == "missing_case_id",
                        ibis.literal("kind ").concat(_quote(bad.kind))),
                       (bad._problem == "duplicate_event_id",
                        ibis.literal("event_id ").concat(_quote(bad.event_id))),
                       else_=ibis.literal("account_id empty"))),
    ]
    late = candidates.filter(candidates.timestamp > as_of_lit)
    problems.append(_problem(late, "after_as_of",
                             ibis.literal("timestamp ").concat(_quote(late._timestamp_raw))))
    return Prepared(usable=usable, problems=ibis.union(*problems), as_of=as_of,
                    as_of_us=_to_us(as_of))


def _to_us(moment: datetime) -> int:
    delta = moment.replace(tzinfo=None) - datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
