"""valueclock: Time to Customer Value (Klever's Law) from the event logs you already have.

    >>> import valueclock
    >>> m = valueclock.measure("events.csv", accounts="accounts.csv")   # doctest: +SKIP
    >>> m.summary()["ttcv_text"]                                          # doctest: +SKIP
    '11 days, 5 hours'
    >>> m.accounts.to_pandas(); m.cases.to_pyarrow(); m.holds           # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from valueclock.api import measure
from valueclock.calendar import Calendar
from valueclock.engine import Measurement, Stat, days_text
from valueclock.engines import accounts_table, connect, events_table
from valueclock.errors import InputError, UsageError, ValueclockError
from valueclock.events import read_accounts, read_events
from valueclock.workspace import Workspace

__all__ = [
    "Calendar",
    "InputError",
    "Measurement",
    "Stat",
    "UsageError",
    "ValueclockError",
    "Workspace",
    "__version__",
    "accounts_table",
    "connect",
    "days_text",
    "events_table",
    "measure",
    "read_accounts",
    "read_events",
]
