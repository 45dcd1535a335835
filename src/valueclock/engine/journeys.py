"""Accounts: Time to Value before and after the sale, and the account's Time to Smile."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from valueclock.engine.prepare import US_PER_DAY, _problem, _quote, flag

#: Columns of the ``accounts`` table, in order, before the account attributes.
ACCOUNT_COLUMNS = ("account_id", "sale_at", "first_value_before_at", "ttv_before_days",
                   "first_value_after_at", "ttv_after_days", "value_reached", "waiting_days",
                   "cases", "open_cases", "smile_hours", "ttcv_days")


def latest_attributes(attrs: ir.Table) -> ir.Table:
    """The accounts table with one row per account: its last row wins."""
    cols = [c for c in attrs.columns if not c.startswith("_")]
    if "_seq" not in attrs.columns:
        # No read order (a table stored in an engine): one row per account, the same on
        # every backend (DISTINCT ON ... keep="last" has no PostgreSQL translation).
        attrs = attrs.mutate(_seq=ibis.row_number().over(order_by=[attrs[c] for c in cols]))
    w = ibis.window(group_by=attrs.account_id, order_by=ibis.desc(attrs._seq))
    ranked = attrs.filter(attrs.account_id.notnull()).mutate(_k=ibis.row_number().over(w))
    return ranked.filter(ranked._k == 0).select(*cols)


def attribute_problems(attrs: ir.Table, usable: ir.Table) -> ir.Table:
    """Accounts listed twice, and accounts with no event."""
    for name in ("_source", "_row"):
        if name not in attrs.columns:
            attrs = attrs.mutate(**{name: ibis.null("string" if name == "_source" else
                                                    "int64")})
    w = ibis.window(group_by=attrs.account_id, order_by=attrs._row)
    ranked = attrs.filter(attrs.account_id.notnull()).mutate(_k=ibis.row_number().over(w))
    dup = ranked.filter(ranked._k > 0)
    seen = usable.select(_acc=usable.account_id).distinct()
    lonely = ranked.filter(ranked._k == 0).anti_join(seen, ranked.account_id == seen._acc)
    return ibis.union(
        _problem(dup, "duplicate_account", ibis.literal("account ").concat(
            _quote(dup.account_id))),
        _problem(lonely, "account_without_events", ibis.literal("account ").concat(
            _quote(lonely.account_id))),
    )


def accounts(usable: ir.Table, case_table: ir.Table, as_of_us: int,
             lookback_days: float | None = None,
             attributes: ir.Table | None = None) -> ir.Table:
    """One row per sold account (see ``ACCOUNT_COLUMNS``), then its attributes."""
    sales = usable.filter(usable.kind == "sale")
    sold = sales.group_by(sales.account_id).aggregate(
        sale_at=sales.timestamp.min(), _sale_us=sales._us.min())
    values = usable.filter(usable.kind == "value")
    values = values.select(_acc=values.account_id, _vts=values.timestamp, _vus=values._us)
    j = sold.left_join(values, sold.account_id == values._acc)
    before = j._vus < j._sale_us
    if lookback_days is not None:
        before = before & (j._vus >= j._sale_us - int(round(lookback_days * US_PER_DAY)))
    after = j._vus >= j._sale_us
    journeys = j.group_by([j.account_id, j.sale_at, j._sale_us]).aggregate(
        first_value_before_at=j._vts.min(where=before),
        _before_us=j._vus.min(where=before),
        first_value_after_at=j._vts.min(where=after),
        _after_us=j._vus.min(where=after),
    )
    per_case = case_table.group_by(_acc=case_table.account_id).aggregate(
        _cases=case_table.count(),
        _open=flag(~case_table.resolved).sum(),
        _smile=case_table.smile_hours.mean(),
    )
    a = journeys.left_join(per_case, journeys.account_id == per_case._acc)
    ttv_before = ((a._before_us - a._sale_us).cast("float64") / US_PER_DAY).fill_null(0.0)
    ttv_after = (a._after_us - a._sale_us).cast("float64") / US_PER_DAY
    reached = a._after_us.notnull()
    smile = a._smile.fill_null(0.0)
    out = a.select(
        account_id=a.account_id,
        sale_at=a.sale_at,
        first_value_before_at=a.first_value_before_at,
        ttv_before_days=ttv_before,
        first_value_after_at=a.first_value_after_at,
        ttv_after_days=ttv_after,
        value_reached=reached,
        waiting_days=ibis.ifelse(
            reached, ibis.null("float64"),
            (ibis.literal(as_of_us, "int64") - a._sale_us).cast("float64") / US_PER_DAY),
        cases=a._cases.fill_null(0).cast("int64"),
        open_cases=a._open.fill_null(0).cast("int64"),
        smile_hours=smile,
        ttcv_days=ttv_before + ttv_after + smile / 24.0,
    )
    if attributes is None:
        return out
    attrs = latest_attributes(attributes)
    extra = [c for c in attrs.columns if c != "account_id" and c not in ACCOUNT_COLUMNS]
    attrs = attrs.select(_acc=attrs.account_id, **{c: attrs[c] for c in extra})
    joined = out.left_join(attrs, out.account_id == attrs._acc)
    return joined.select(*ACCOUNT_COLUMNS, *extra)


def prospects(usable: ir.Table) -> ir.IntegerScalar:
    """How many accounts have events but no sale."""
    seen = usable.select(usable.account_id).distinct()
    sold = usable.filter(usable.kind == "sale").select(_acc=usable.account_id).distinct()
    return seen.anti_join(sold, seen.account_id == sold._acc).count()
