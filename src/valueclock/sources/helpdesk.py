"""The "Helpdesk" ticket log shape (an Italian software company's help desk, 4,580 cases).

Columns ``Case ID``, ``Activity``, ``Resource``, ``Complete Timestamp``
(``yyyy/m/d HH:MM:SS``, no time zone), ``customer``, ``workgroup``, ``support_section``,
... One row per activity on a ticket.

What becomes what, and why:

- The case is ``Case ID``; its first activity (usually *Assign seriousness* or
  *Insert ticket*) starts the clock.
- Smiles are **Resolve ticket** and **Closed**: the ticket is resolved for the customer
  at *Resolve ticket* (*Closed* follows it in 4,558 of 4,569 resolved cases, some two
  weeks later, when the ticket is closed administratively), so the clock stops at the
  first of them; an activity after them (*Take in charge ticket* again, 154 times) is a
  reopen.
- The upper-case activities ``RESOLVED``, ``VERIFIED``, ``INVALID``, ``DUPLICATE`` are
  the statuses of a linked software-anomaly report, written into the ticket by the bug
  tracker (workgroup of their own, often after the ticket was resolved). They say
  nothing about the customer's ticket, so their rows neither change its status nor hand
  it over: their status and team are read as empty. Use ``tracker_statuses=()`` to take
  them as they are.
- The team is ``workgroup`` (``support_section`` or ``Resource`` are the alternatives);
  the account is ``customer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from valueclock.sources.files import read_table
from valueclock.sources.status_log import ConversionResult, status_log_to_events

__all__ = ["helpdesk_to_events", "HELPDESK_SMILES", "HELPDESK_TRACKER_STATUSES"]

HELPDESK_SMILES: tuple[str, ...] = ("Resolve ticket", "Closed")
HELPDESK_TRACKER_STATUSES: tuple[str, ...] = ("RESOLVED", "VERIFIED", "INVALID", "DUPLICATE")
HELPDESK_TIME_FORMAT = "%Y/%m/%d %H:%M:%S"


def helpdesk_to_events(
    path: str | Path, *,
    smile: Sequence[str] = HELPDESK_SMILES,
    case: str = "Case ID",
    time: str = "Complete Timestamp",
    status: str = "Activity",
    team: str | None = "workgroup",
    account: str | None = "customer",
    time_format: str | None = HELPDESK_TIME_FORMAT,
    timezone: str = "UTC",
    tracker_statuses: Sequence[str] = HELPDESK_TRACKER_STATUSES,
    source: str = "helpdesk",
    team_pattern: str | None = None,
    team_unmatched: str | None = None,
    attributes: Sequence[str] = (),
) -> ConversionResult:
    """Import a Helpdesk-shaped ticket log (see this module's documentation)."""
    columns = [c for c in (case, time, status, team, account) if c] + list(attributes)
    table = read_table(path, columns)
    if tracker_statuses:
        tracker = pc.is_in(pc.utf8_trim_whitespace(pc.cast(table.column(status), pa.string())),
                           value_set=pa.array(list(tracker_statuses), pa.string()))
        for name in (status, team):
            if name:
                column = table.column(name)
                blank = pc.if_else(tracker, pa.scalar(None, column.type), column)
                table = table.set_column(table.column_names.index(name), name, blank)
    return status_log_to_events(
        table, case=case, time=time, status=status, team=team, account=account,
        smile=smile, time_format=time_format, timezone=timezone, source=source,
        team_pattern=team_pattern, team_unmatched=team_unmatched, attributes=attributes)
