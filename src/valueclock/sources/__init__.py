"""Sources: everything that turns data where it lives into the canonical event log.

Every help desk, tracker and process-mining export is flattened into a *status log*
(one row per change of a case) and converted by one function,
:func:`status_log_to_events`; the presets and connectors below only fetch, read and
flatten. CRMs give ``sale`` events and analytics ``value`` events directly. What becomes
what, per source: ``docs/sources.md``.
"""

from valueclock.sources.analytics import analytics_to_events
from valueclock.sources.crm import hubspot_to_events, sales_from_history
from valueclock.sources.files import read_table, write_events
from valueclock.sources.helpdesk import helpdesk_to_events
from valueclock.sources.jira import jira_to_events, link_jira_to_cases, read_jira
from valueclock.sources.ocel import ocel_to_events, read_ocel
from valueclock.sources.servicenow import read_servicenow, servicenow_to_events
from valueclock.sources.status_log import NO_ACCOUNT, ConversionResult, status_log_to_events
from valueclock.sources.xes import read_xes, xes_to_events
from valueclock.sources.zendesk import read_zendesk, zendesk_to_events

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
    "zendesk_to_events",
    "read_zendesk",
    "jira_to_events",
    "link_jira_to_cases",
    "read_jira",
    "sales_from_history",
    "hubspot_to_events",
    "analytics_to_events",
]
