"""The canonical event log: its columns and kinds (see docs/metric.md)."""

from __future__ import annotations

#: Columns of the canonical event log, in the order valueclock writes them.
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id", "account_id", "timestamp", "kind", "case_id", "team", "label",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("account_id", "timestamp", "kind")

#: The kinds, in the order events at the same timestamp are taken.
KINDS: tuple[str, ...] = ("sale", "value", "interruption", "handoff", "smile", "reopen")
KIND_RANK: dict[str, int] = {kind: rank for rank, kind in enumerate(KINDS)}
CASE_KINDS: tuple[str, ...] = ("interruption", "handoff", "smile", "reopen")

#: The holder of a case's clock before any team is named.
UNASSIGNED = "Unassigned"
