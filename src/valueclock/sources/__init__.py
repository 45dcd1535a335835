"""Sources: everything that turns data where it lives into the canonical event log.

Every help desk, tracker and process-mining export is flattened into a *status log*
(one row per change of a case) and converted by one function,
:func:`status_log_to_events`; the presets below only read and flatten.
"""

from valueclock.sources.files import read_table, write_events
from valueclock.sources.helpdesk import helpdesk_to_events
from valueclock.sources.ocel import ocel_to_events, read_ocel
from valueclock.sources.servicenow import read_servicenow, servicenow_to_events
from valueclock.sources.status_log import NO_ACCOUNT, ConversionResult, status_log_to_events
from valueclock.sources.xes import read_xes, xes_to_events

__all__ = [
    "ConversionResult",
    "NO_ACCOUNT",
    "status_log_to_events",
    "read_table",
    "write_events",
    "servicenow_to_events",
    "read_servicenow",
    "helpdesk_to_events",
    "xes_to_events",
    "read_xes",
    "ocel_to_events",
    "read_ocel",
]
