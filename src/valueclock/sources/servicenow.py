"""ServiceNow incident exports, such as the UCI incident event log.

One row per update of an incident (``sys_updated_at``), with its state
(``incident_state``), the group it is assigned to (``assignment_group``), the caller
(``caller_id``) and when it was opened (``opened_at``). The export may be the CSV itself
or a zip holding one CSV (read directly, not unpacked to disk).

What becomes what: the incident ``number`` is the case; it starts at ``opened_at``;
states ``Resolved`` and ``Closed`` are smiles, so a later ``Active`` is a reopen;
a change of ``assignment_group`` is a handoff; the caller is the account (ServiceNow's
incident has no company in this export; use ``account="company"`` when yours has one).
Dates are ``dd/mm/yyyy HH:MM`` and ``?`` means empty, as in the UCI export.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from valueclock.errors import InputError
from valueclock.sources.files import check_file, read_csv_stream, read_table
from valueclock.sources.status_log import ConversionResult, status_log_to_events

__all__ = ["read_servicenow", "servicenow_to_events", "SERVICENOW_SMILES"]

SERVICENOW_SMILES: tuple[str, ...] = ("Resolved", "Closed")
SERVICENOW_TIME_FORMAT = "%d/%m/%Y %H:%M"


def read_servicenow(path: str | Path, columns: Sequence[str]) -> pa.Table:
    """Read ``columns`` (as text) from a ServiceNow export: a CSV, or a zip with one CSV."""
    path = Path(path)
    check_file(path)
    if not zipfile.is_zipfile(path):
        return read_table(path, columns)
    with zipfile.ZipFile(path) as archive:
        inner = [i for i in archive.infolist()
                 if not i.is_dir() and i.filename.lower().endswith(".csv")
                 and not i.filename.startswith("__MACOSX/")]
        if len(inner) != 1:
            found = ", ".join(i.filename for i in inner) or "none"
            raise InputError(f"expected a zip with one CSV file, found: {found}",
                             path=str(path))
        with archive.open(inner[0]) as stream:
            return read_csv_stream(stream, columns, name=f"{path}:{inner[0].filename}")


def servicenow_to_events(
    path: str | Path, *,
    smile: Sequence[str] = SERVICENOW_SMILES,
    case: str = "number",
    time: str = "sys_updated_at",
    status: str = "incident_state",
    team: str | None = "assignment_group",
    account: str | None = "caller_id",
    start: str | None = "opened_at",
    time_format: str | None = SERVICENOW_TIME_FORMAT,
    timezone: str = "UTC",
    null_tokens: Sequence[str] = ("?",),
    source: str = "servicenow",
    team_pattern: str | None = None,
    team_unmatched: str | None = None,
    attributes: Sequence[str] = (),
) -> ConversionResult:
    """Import a ServiceNow incident export (see this module's documentation)."""
    columns = [c for c in (case, time, status, team, account, start) if c] + list(attributes)
    table = read_servicenow(path, columns)
    return status_log_to_events(
        table, case=case, time=time, status=status, team=team, account=account,
        start=start, smile=smile, time_format=time_format, timezone=timezone,
        null_tokens=null_tokens, source=source, team_pattern=team_pattern,
        team_unmatched=team_unmatched, attributes=attributes)
