"""A believable demo company, generated: Northbeam, a B2B software vendor, and its event log.

The story
---------
Northbeam sells a reporting product to other businesses in three segments:

* **SMB** (about 60% of the accounts): short sales cycles (a couple of weeks), often a
  self-serve checkout, value a few days after signing, few support cases.
* **Mid-Market** (about 30%): a month or two of evaluation with demos, onboarding by
  Professional Services and Training within two or three weeks, more cases.
* **Enterprise** (about 10%): a quarter-long sales cycle with lots of free content, demos and
  reference calls, a long onboarding (weeks to months), many cases, with more of them urgent
  and handled by phone.

Each account first meets Northbeam on some day of the window. Before the sale it gets value
from free content and demos (``value`` events by Marketing, Sales, Customer Success and now and
then Support's "common issues" guide); Sales events come closer to the signature. Some accounts
buy without any prior value, some never buy (prospects: value events, no ``sale``), and some are
still evaluating when the data ends. A sale (``sale``, team Sales) is followed by onboarding
milestones (``value`` by Professional Services, Training and Customer Success). A few accounts
reach value at the very moment they sign (a ``value`` at the sale's timestamp), some are stuck
and still waiting for value at the end of the data, and a few sign a second (expansion) order.

Sold accounts open cases. A case starts with an ``interruption`` (usually held by Support,
sometimes arriving unassigned through a web form), is handed off between Support, Engineering
and Billing and back to Support (``handoff``), and ends with a ``smile``. Some cases are
reopened (``smile``, ``reopen``, more handoffs, ``smile``), some are still open when the data
ends, and a few handoffs do not record a team (empty ``team``: the holder stays as it was).
Case events carry the case's ``priority`` (low/normal/high/urgent) and ``channel``
(email/chat/phone); other events have them empty.

Durations are lognormal (heavy-tailed: most cases are answered in hours, a few take weeks), and
value and sale events fall on business days in the account's local working hours (mostly;
urgent cases come at any hour). Regions have their own time zones, so in UTC the working day of
an account in APAC is not that of one in North America.

The knobs
---------
:func:`generate` takes ``seed`` (same seed, same company, byte for byte), ``accounts`` (how many
accounts first appear in the window), ``start`` (the first moment of the window, default
2025-01-01 00:00 UTC) and ``days`` (its length; nothing is generated at or after
``start + days``). :func:`generate_events` picks the number of accounts so that the log has about
the requested number of rows, for benchmarks. The behaviour of the segments is in
:data:`SEGMENTS`; case shapes are in ``_CASE_TEMPLATES``.

Everything is built with numpy arrays (no loop over events or accounts): a million events take
about a second (peak memory about 0.4 GB), ten million about 10 s and 2 GB, fifty million about
a minute and a half and 9 GB.

Example::

    from valueclock import demo
    d = demo.generate(seed=7)
    demo.write(d, Path("out"))            # out/events.csv, out/accounts.csv
    big = demo.generate_events(10_000_000)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from valueclock.errors import UsageError

__all__ = ["SEGMENTS", "DEFAULT_START", "Demo", "generate", "generate_events", "write"]

#: The first moment of the window when ``start`` is not given.
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)

#: Column order of the generated event log (the canonical columns plus the case attributes).
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id", "account_id", "timestamp", "kind", "case_id", "team", "label",
    "priority", "channel",
)

_DAY = 86_400
_HOUR = 3_600


class DemoParameterError(UsageError, ValueError):
    """A parameter of :func:`generate`, :func:`generate_events` or :func:`write` is unusable."""


@dataclass(frozen=True)
class Demo:
    """A generated company: its event log and its accounts table.

    ``events`` has the columns of :data:`EVENT_COLUMNS`, sorted by timestamp; ``accounts`` has
    ``account_id`` first, then name, segment, region, industry, employees, plan and owner.
    ``start`` and ``end`` are the window the data was generated for (``end`` excluded) and
    ``seed`` the seed; they are informative only.
    """

    events: pa.Table
    accounts: pa.Table
    start: datetime | None = None
    end: datetime | None = None
    seed: int | None = None


# --------------------------------------------------------------------------------------------
# Vocabulary. Every categorical column is generated as small integer codes into these lists.
# --------------------------------------------------------------------------------------------

#: Per segment: share of accounts, and the numbers that make it behave like its segment.
SEGMENTS: dict[str, dict[str, Any]] = {
    "SMB": {
        "share": 0.60,
        "buy": 0.68,               # share of accounts that mean to buy at some point
        "cycle_days": 12.0,        # median first touch -> sale (lognormal)
        "presale_share": 0.65,     # share of buyers who got value before the sale
        "presale_mean": 1.5,       # mean number of extra pre-sale value events
        "ttv_days": 4.0,           # median sale -> first value after the sale
        "stuck": 0.04,             # share of buyers whose onboarding stalls (x8 slower)
        "instant": 0.06,           # share of buyers with value at the moment of sale
        "milestones": (1, 3),      # onboarding milestones, inclusive range
        "second_sale": 0.04,
        "cases_per_month": 0.30,
        "case_speed": 1.0,         # multiplier on every hold of a case
        "priority": (0.30, 0.50, 0.15, 0.05),
        "channel": (0.50, 0.45, 0.05),
        "employees": 40.0,
        "plans": (("Starter", 0.6), ("Growth", 0.4)),
    },
    "Mid-Market": {
        "share": 0.30,
        "buy": 0.62,
        "cycle_days": 40.0,
        "presale_share": 0.80,
        "presale_mean": 3.0,
        "ttv_days": 14.0,
        "stuck": 0.06,
        "instant": 0.03,
        "milestones": (2, 4),
        "second_sale": 0.08,
        "cases_per_month": 0.80,
        "case_speed": 1.0,
        "priority": (0.25, 0.50, 0.18, 0.07),
        "channel": (0.45, 0.35, 0.20),
        "employees": 400.0,
        "plans": (("Growth", 0.5), ("Business", 0.5)),
    },
    "Enterprise": {
        "share": 0.10,
        "buy": 0.55,
        "cycle_days": 95.0,
        "presale_share": 0.92,
        "presale_mean": 5.0,
        "ttv_days": 40.0,
        "stuck": 0.10,
        "instant": 0.01,
        "milestones": (3, 6),
        "second_sale": 0.15,
        "cases_per_month": 2.0,
        "case_speed": 0.8,
        "priority": (0.15, 0.45, 0.28, 0.12),
        "channel": (0.35, 0.20, 0.45),
        "employees": 6000.0,
        "plans": (("Business", 0.3), ("Enterprise", 0.7)),
    },
}

_REGIONS = ("North America", "EMEA", "APAC", "LATAM")
_REGION_SHARE = (0.45, 0.30, 0.15, 0.10)
_REGION_UTC_OFFSET_HOURS = (-5, 1, 8, -3)
_INDUSTRIES = ("Software", "Manufacturing", "Retail", "Healthcare", "Financial Services",
               "Logistics", "Education", "Media")
_OWNERS = {
    "SMB": ("Maya Chen", "Tom Okafor", "Lina Petrova", "Sam Rivera", "Ava Lindqvist"),
    "Mid-Market": ("Jonas Weber", "Priya Nair", "Diego Alvarez", "Grace Kim"),
    "Enterprise": ("Helen Brooks", "Marcus Adeyemi", "Sofia Moretti"),
}
_NAME_HEADS = ("Northwind", "Bluepeak", "Cedar", "Ironbridge", "Lumen", "Silverline", "Oakridge",
               "Brightwater", "Redstone", "Kestrel", "Harbor", "Summit", "Granite", "Willow",
               "Falcon", "Meridian", "Copperfield", "Evergreen", "Pinecrest", "Starling")
_NAME_TAILS = ("Logistics", "Health", "Foods", "Analytics", "Manufacturing", "Retail", "Labs",
               "Financial", "Systems", "Media", "Energy", "Partners", "Learning", "Mobility")

_KINDS = ("sale", "value", "interruption", "handoff", "smile", "reopen")
_SALE, _VALUE, _INTERRUPTION, _HANDOFF, _SMILE, _REOPEN = range(6)
_PRIORITIES = ("low", "normal", "high", "urgent")
_PRIORITY_SPEED = np.array([1.6, 1.0, 0.6, 0.3])
_CHANNELS = ("email", "chat", "phone")

_TEAMS = ("Marketing", "Sales", "Customer Success", "Support", "Professional Services",
          "Training", "Engineering", "Billing")
_TEAM = {name: code for code, name in enumerate(_TEAMS)}

_LABELS: list[str] = []
_LABEL: dict[str, int] = {}


def _label(text: str) -> int:
    """The code of a label, added to the vocabulary the first time."""
    if text not in _LABEL:
        _LABEL[text] = len(_LABELS)
        _LABELS.append(text)
    return _LABEL[text]


def _pool(*pairs: tuple[str | None, str]) -> tuple[np.ndarray, np.ndarray]:
    """(team codes, label codes) of a pool of (team, label) pairs; team -1 is no team."""
    teams = np.array([-1 if team is None else _TEAM[team] for team, _ in pairs], dtype=np.int8)
    labels = np.array([_label(text) for _, text in pairs], dtype=np.int32)
    return teams, labels


_PRESALE_CONTENT = _pool(
    ("Marketing", "Read pricing guide"),
    ("Marketing", "Downloaded ROI calculator"),
    ("Marketing", "Attended webinar"),
    ("Marketing", "Read buyer's guide"),
    ("Marketing", "Watched product tour"),
    ("Customer Success", "Read best practices playbook"),
    ("Customer Success", "Read customer story"),
    ("Support", "Read common issues guide"),
)
_PRESALE_SALES = _pool(
    ("Sales", "Discovery call answered their question"),
    ("Sales", "Live demo"),
    ("Sales", "Custom demo for the buying team"),
    ("Sales", "Proof of concept succeeded"),
    ("Customer Success", "Reference call with a customer"),
)
_SALE_LABELS = _pool(
    ("Sales", "Signed order form"),
    ("Sales", "Closed-won: annual contract"),
    ("Sales", "Self-serve checkout"),
)
_SECOND_SALE_LABELS = _pool(
    ("Sales", "Expansion: added seats"),
    ("Sales", "Upgraded plan"),
)
_INSTANT_VALUE = _pool(
    ("Customer Success", "Workspace live at signing"),
    ("Sales", "Trial data carried over at signing"),
)
_FIRST_MILESTONES = _pool(
    ("Professional Services", "Kickoff workshop: first use case live"),
    ("Professional Services", "Data connected"),
    ("Customer Success", "First report delivered"),
    ("Training", "Admin training completed"),
)
_LATER_MILESTONES = _pool(
    ("Training", "End-user training completed"),
    ("Professional Services", "Integration configured"),
    ("Professional Services", "Go-live"),
    ("Customer Success", "Success plan agreed"),
    ("Customer Success", "First dashboard shared with leadership"),
)
_ONGOING_VALUE = _pool(
    ("Customer Success", "Quarterly business review"),
    ("Customer Success", "New use case adopted"),
    ("Training", "Advanced training session"),
)
_NO_TEAM_HANDOFF = _label("Reassigned (team not recorded)")

# A case step: (kind, pool of (team, label), median hours the clock stays with this step's
# holder before the next step, lognormal sigma). The last step's hold is not used.
_Step = tuple[int, tuple[np.ndarray, np.ndarray], float, float]

_PROBLEMS = _pool(
    ("Support", "Cannot log in"),
    ("Support", "Report shows wrong totals"),
    ("Support", "Dashboard very slow"),
    ("Support", "Data export fails"),
    ("Support", "Integration sync failing"),
    ("Support", "How do I share a report?"),
)
_BILLING_PROBLEMS = _pool(
    ("Support", "Invoice does not match contract"),
    ("Support", "Card payment declined"),
)
_WEB_FORM = _pool((None, "Web form submitted"))
_PICKED_UP = _pool(("Support", "Picked up by Support"))
_REPRODUCE = _pool(("Support", "Reproducing the problem"), ("Support", "Second line looking"))
_TO_ENGINEERING = _pool(("Engineering", "Escalated to Engineering"))
_TO_BILLING = _pool(("Billing", "Sent to Billing"))
_BACK_TO_SUPPORT = _pool(
    ("Support", "Back to Support with workaround"),
    ("Support", "Back to Support with fix"),
)
_BILLING_BACK = _pool(("Support", "Back to Support: credit note issued"))
_SMILES = _pool(
    ("Support", "Customer confirmed fixed"),
    ("Support", "Workaround accepted"),
    ("Support", "Answered by Support"),
)
_REOPENS = _pool(("Support", "Customer reopened: problem is back"))

_CASE_TEMPLATES: tuple[tuple[float, tuple[_Step, ...]], ...] = (
    # weight, steps
    (34.0, ((_INTERRUPTION, _PROBLEMS, 1.5, 1.0),
            (_SMILE, _SMILES, 0.0, 0.0))),
    (14.0, ((_INTERRUPTION, _PROBLEMS, 0.5, 0.8),
            (_HANDOFF, _REPRODUCE, 4.0, 0.9),
            (_SMILE, _SMILES, 0.0, 0.0))),
    # The article's example: Support 0.5 h + 4 h, Engineering 24 h, Support 0.5 h.
    (15.0, ((_INTERRUPTION, _PROBLEMS, 0.5, 0.6),
            (_HANDOFF, _REPRODUCE, 4.0, 0.8),
            (_HANDOFF, _TO_ENGINEERING, 24.0, 1.1),
            (_HANDOFF, _BACK_TO_SUPPORT, 0.5, 0.7),
            (_SMILE, _SMILES, 0.0, 0.0))),
    (10.0, ((_INTERRUPTION, _PROBLEMS, 1.0, 0.8),
            (_HANDOFF, _TO_ENGINEERING, 16.0, 1.2),
            (_HANDOFF, _BACK_TO_SUPPORT, 1.0, 0.8),
            (_SMILE, _SMILES, 0.0, 0.0))),
    (10.0, ((_INTERRUPTION, _BILLING_PROBLEMS, 0.5, 0.7),
            (_HANDOFF, _TO_BILLING, 8.0, 1.0),
            (_HANDOFF, _BILLING_BACK, 0.5, 0.7),
            (_SMILE, _SMILES, 0.0, 0.0))),
    (3.0, ((_INTERRUPTION, _PROBLEMS, 1.0, 0.8),
           (_HANDOFF, _TO_ENGINEERING, 20.0, 1.0),
           (_HANDOFF, _TO_BILLING, 6.0, 1.0),
           (_HANDOFF, _BACK_TO_SUPPORT, 0.5, 0.7),
           (_SMILE, _SMILES, 0.0, 0.0))),
    (4.0, ((_INTERRUPTION, _WEB_FORM, 3.0, 1.0),
           (_HANDOFF, _PICKED_UP, 1.0, 0.9),
           (_SMILE, _SMILES, 0.0, 0.0))),
    # Reopened: the smile did not hold (the happy gap between smile and reopen is not on the
    # clock).
    (4.0, ((_INTERRUPTION, _PROBLEMS, 1.0, 0.9),
           (_SMILE, _SMILES, 30.0, 1.0),
           (_REOPEN, _REOPENS, 2.0, 0.9),
           (_SMILE, _SMILES, 0.0, 0.0))),
    (4.0, ((_INTERRUPTION, _PROBLEMS, 1.0, 0.8),
           (_HANDOFF, _TO_ENGINEERING, 18.0, 1.0),
           (_HANDOFF, _BACK_TO_SUPPORT, 0.5, 0.7),
           (_SMILE, _SMILES, 48.0, 1.0),
           (_REOPEN, _REOPENS, 1.0, 0.8),
           (_HANDOFF, _TO_ENGINEERING, 24.0, 1.1),
           (_HANDOFF, _BACK_TO_SUPPORT, 0.5, 0.7),
           (_SMILE, _SMILES, 0.0, 0.0))),
)

#: Share of handoffs whose team was not recorded.
_NO_TEAM_SHARE = 0.02
#: Share of cases that stall (every hold 20x longer); most of them are still open at the end.
_STALLED_SHARE = 0.03


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float,
               size: int) -> np.ndarray:
    """Lognormal draws with the given median(s)."""
    return np.asarray(median, dtype=np.float64) * np.exp(sigma * rng.standard_normal(size))


def _pick(rng: np.random.Generator, pool: tuple[np.ndarray, np.ndarray],
          size: int) -> tuple[np.ndarray, np.ndarray]:
    """Random (team, label) codes from a pool."""
    which = rng.integers(0, len(pool[0]), size)
    return pool[0][which], pool[1][which]


def _choice_by_row(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (n, k) matrix of probabilities."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    return (rng.random(len(probs))[:, None] >= cum).sum(axis=1).astype(np.int8)


class _Clock:
    """Business days and local working hours, as seconds since the window's base midnight.

    Days are counted in *business days* (Monday to Friday) so that arithmetic on them needs
    no weekend fix-ups: business day ``b`` is calendar day :meth:`day` ``(b)`` after the base
    midnight. Calendar durations are turned into business days with :meth:`span`.
    """

    def __init__(self, base_weekday: int) -> None:
        self.base_weekday = base_weekday

    def business_day(self, day: int) -> int:
        """The business day index of calendar ``day``, or of the next Monday on a weekend."""
        week, weekday = divmod(day + self.base_weekday, 7)
        return week * 5 + min(weekday, 5)

    def day(self, bday: np.ndarray) -> np.ndarray:
        """The calendar day (since base midnight) of business day ``bday``."""
        week, weekday = np.divmod(np.asarray(bday, dtype=np.int64), 5)
        return week * 7 + weekday - self.base_weekday

    @staticmethod
    def span(calendar_days: np.ndarray, minimum: int = 1) -> np.ndarray:
        """Calendar days as whole business days (at least ``minimum``)."""
        return np.maximum(minimum, np.ceil(calendar_days * 5.0 / 7.0)).astype(np.int64)

    @staticmethod
    def working_time(rng: np.random.Generator, size: int, off_hours: float = 0.04) -> np.ndarray:
        """Seconds into the local day: mostly 08:00-18:30, peak early afternoon, whole minutes."""
        hours = np.clip(rng.normal(12.5, 2.3, size), 8.0, 18.5)
        anytime = rng.random(size) < off_hours
        hours[anytime] = rng.uniform(0.0, 24.0, int(anytime.sum()))
        return np.floor(hours * 60.0).astype(np.int64) * 60

    def at(self, bday: np.ndarray, time_of_day: np.ndarray,
           utc_offset_s: np.ndarray) -> np.ndarray:
        """UTC seconds since base midnight of business day ``bday`` at local ``time_of_day``."""
        return self.day(bday) * _DAY + time_of_day - utc_offset_s


class _Events:
    """Columns of events, appended block by block and concatenated at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("account", "t", "kind", "case", "team", "label", "priority",
                            "channel")
        }

    def add(self, account: np.ndarray, t: np.ndarray, kind: int | np.ndarray,
            team: np.ndarray, label: np.ndarray, case: np.ndarray | None = None,
            priority: np.ndarray | None = None, channel: np.ndarray | None = None) -> None:
        n = len(account)
        none = np.full(n, -1, dtype=np.int8)
        self.parts["account"].append(account.astype(np.int32))
        self.parts["t"].append(t.astype(np.int64))
        self.parts["kind"].append(np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)))
        self.parts["case"].append(np.full(n, -1, dtype=np.int32) if case is None
                                  else case.astype(np.int32))
        self.parts["team"].append(team.astype(np.int8))
        self.parts["label"].append(label.astype(np.int32))
        self.parts["priority"].append(none if priority is None else priority.astype(np.int8))
        self.parts["channel"].append(none if channel is None else channel.astype(np.int8))

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.parts.items()}


def _codes_to_strings(codes: np.ndarray, vocabulary: tuple[str, ...] | list[str]) -> pa.Array:
    """A string array from integer codes into a vocabulary; negative codes are nulls."""
    missing = codes < 0
    indices = pa.array(codes.astype(np.int32), mask=missing if missing.any() else None)
    return pc.take(pa.array(list(vocabulary), type=pa.string()), indices)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids like ``e0000001`` from integers, zero-padded to ``width`` digits; negatives are nulls.

    Built as one fixed-width byte matrix (prefix, then the digits), so no string is formatted
    one at a time; ``width`` must hold the largest number.
    """
    n = len(numbers)
    head = prefix.encode("ascii")
    size = len(head) + width
    # Digits are filled in a (size, n) matrix (contiguous rows are fast to write), then
    # transposed into one id a row.
    columns = np.empty((size, n), dtype=np.uint8)
    columns[: len(head)] = np.frombuffer(head, dtype=np.uint8)[:, None]
    rest = np.maximum(numbers, 0)
    rest = rest.astype(np.uint32 if (n == 0 or int(rest.max()) < 2**32) else np.uint64)
    for position in range(size - 1, len(head) - 1, -1):
        quotient = rest // 10
        columns[position] = rest - quotient * 10 + ord("0")
        rest = quotient
    chars = np.ascontiguousarray(columns.T)
    del columns
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int32 if n * size < 2**31 else np.int64)
    missing = numbers < 0
    validity = None
    if missing.any():
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    kind = pa.string() if offsets.dtype == np.int32 else pa.large_string()
    array = pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(offsets),
                                            pa.py_buffer(chars.reshape(-1))],
                                  null_count=int(missing.sum()))
    return array if kind == pa.string() else array.cast(pa.string())


def _width(count: int, minimum: int) -> int:
    return max(minimum, len(str(max(count, 1))))


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------

def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def generate(seed: int = 7, accounts: int = 3000, start: datetime | None = None,
             days: int = 365) -> Demo:
    """Generate the demo company (see the module's docstring for the story).

    ``seed`` makes it deterministic; ``accounts`` is the number of accounts that first appear in
    the window (the accounts table holds those with at least one event in it: nearly all),
    ``start`` the window's first moment (naive datetimes are taken as UTC; default
    :data:`DEFAULT_START`) and ``days`` its length. No event is at or after ``start + days``,
    nor before ``start``. A year's log has about 12 events an account (3000 accounts: 35,000
    events, 1,800 of them sold, 5,500 cases).
    """
    if isinstance(accounts, bool) or not isinstance(accounts, int) or accounts < 1:
        raise DemoParameterError(f"accounts must be a positive integer, not {accounts!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DemoParameterError(f"days must be a positive integer, not {days!r}")
    start = _as_utc(DEFAULT_START if start is None else start)
    end = start + timedelta(days=days)
    base = start.replace(hour=0, minute=0, second=0, microsecond=0)
    lo = int((start - base).total_seconds())            # first allowed second since base
    hi = int((end - base).total_seconds())              # first excluded second since base
    clock = _Clock(base.weekday())
    first_b = clock.business_day(0)                     # business days of the window:
    end_b = clock.business_day(math.ceil(hi / _DAY))    # first_b .. end_b - 1
    rng = np.random.default_rng(seed)
    out = _Events()
    n = accounts

    # ---- accounts --------------------------------------------------------------------------
    seg_names = tuple(SEGMENTS)
    seg_share = np.array([SEGMENTS[s]["share"] for s in seg_names])
    segment = rng.choice(len(seg_names), size=n, p=seg_share / seg_share.sum()).astype(np.int8)

    def per_segment(key: str) -> np.ndarray:
        return np.array([SEGMENTS[s][key] for s in seg_names], dtype=np.float64)[segment]

    region = rng.choice(len(_REGIONS), size=n, p=_REGION_SHARE).astype(np.int8)
    offset_s = np.array(_REGION_UTC_OFFSET_HOURS, dtype=np.int64)[region] * _HOUR
    industry = rng.integers(0, len(_INDUSTRIES), n)
    employees = np.maximum(
        2, np.round(_lognormal(rng, per_segment("employees"), 0.6, n))).astype(np.int64)

    plan_names: list[str] = []
    plan_probs = np.zeros((len(seg_names), 0))
    for s_code, s in enumerate(seg_names):
        for name, p in SEGMENTS[s]["plans"]:
            if name not in plan_names:
                plan_names.append(name)
                plan_probs = np.hstack([plan_probs, np.zeros((len(seg_names), 1))])
            plan_probs[s_code, plan_names.index(name)] = p
    plan = _choice_by_row(rng, plan_probs[segment])

    owner_names = [o for s in seg_names for o in _OWNERS[s]]
    owner_first = np.cumsum([0] + [len(_OWNERS[s]) for s in seg_names])[:-1]
    owner_count = np.array([len(_OWNERS[s]) for s in seg_names])
    owner = owner_first[segment] + (rng.random(n) * owner_count[segment]).astype(np.int64)
    name_head = rng.integers(0, len(_NAME_HEADS), n)
    name_tail = rng.integers(0, len(_NAME_TAILS), n)

    # First touch: spread over the window, a little denser early (the data of a young year
    # holds accounts that met Northbeam before it, whose first touch is day 0-ish).
    first_day = first_b + np.sort(
        np.floor((rng.random(n) ** 1.1) * max(end_b - first_b, 1) * 0.95).astype(np.int64))
    account = np.arange(n, dtype=np.int64)

    # ---- before the sale -------------------------------------------------------------------
    buyer = rng.random(n) < per_segment("buy")
    cycle = np.maximum(1.0, _lognormal(rng, per_segment("cycle_days"), 0.7, n))
    sale_day = first_day + clock.span(cycle)
    sold = buyer & (sale_day < end_b)
    sale_t = clock.at(sale_day, clock.working_time(rng, n, 0.02), offset_s)
    sold &= (sale_t >= lo) & (sale_t < hi)

    # Pre-sale value for buyers (those with any), and browsing for prospects (never buy).
    has_presale = buyer & (rng.random(n) < per_segment("presale_share"))
    n_pre = np.where(has_presale, 1 + rng.poisson(per_segment("presale_mean")), 0)
    n_pre = np.where(~buyer, 1 + rng.poisson(2.0, n), n_pre)
    pre_acc = np.repeat(account, n_pre)
    m = len(pre_acc)
    u = rng.random(m)                                   # 0 = at first touch, 1 = at the sale
    span = np.where(buyer, sale_day - first_day, clock.span(_lognormal(rng, 30.0, 0.8, n)))
    span = np.maximum(span, 1)
    back = 1 + np.floor((1.0 - u) * span[pre_acc]).astype(np.int64)  # days before the anchor
    anchor = np.where(buyer, sale_day, first_day + span)[pre_acc]
    pre_day = anchor - back
    sales_led = rng.random(m) < 0.15 + 0.55 * u * buyer[pre_acc]
    team_c, label_c = _pick(rng, _PRESALE_CONTENT, m)
    team_s, label_s = _pick(rng, _PRESALE_SALES, m)
    out.add(pre_acc, clock.at(pre_day, clock.working_time(rng, m), offset_s[pre_acc]), _VALUE,
            np.where(sales_led, team_s, team_c), np.where(sales_led, label_s, label_c))

    # ---- the sale ----------------------------------------------------------------------------
    sale_acc = account[sold]
    k = len(sale_acc)
    sale_team, sale_label = _pick(rng, _SALE_LABELS, k)
    out.add(sale_acc, sale_t[sold], _SALE, sale_team, sale_label)

    second = rng.random(k) < per_segment("second_sale")[sold]
    second_acc = sale_acc[second]
    second_day = sale_day[second_acc] + clock.span(_lognormal(rng, 150.0, 0.5, len(second_acc)))
    t2, l2 = _pick(rng, _SECOND_SALE_LABELS, len(second_acc))
    out.add(second_acc, clock.at(second_day, clock.working_time(rng, len(second_acc), 0.02),
                                 offset_s[second_acc]), _SALE, t2, l2)

    # ---- after the sale: onboarding milestones --------------------------------------------------
    seg_sold = segment[sold]
    instant = rng.random(k) < per_segment("instant")[sold]
    it, il = _pick(rng, _INSTANT_VALUE, int(instant.sum()))
    out.add(sale_acc[instant], sale_t[sold][instant], _VALUE, it, il)

    stuck = rng.random(k) < per_segment("stuck")[sold]
    ttv = _lognormal(rng, per_segment("ttv_days")[sold], 0.9, k) * np.where(stuck, 8.0, 1.0)
    lo_m = np.array([SEGMENTS[s]["milestones"][0] for s in seg_names])[seg_sold]
    hi_m = np.array([SEGMENTS[s]["milestones"][1] for s in seg_names])[seg_sold]
    n_mile = rng.integers(lo_m, hi_m + 1)
    max_m = int(hi_m.max()) if k else 0
    gaps = np.ceil(per_segment("ttv_days")[sold][:, None] * 0.5
                   * np.exp(0.8 * rng.standard_normal((k, max_m))))
    gaps[:, 0] = ttv if max_m else 0
    mile_day = sale_day[sold][:, None] + np.cumsum(clock.span(gaps), axis=1)
    keep = np.arange(max_m)[None, :] < n_mile[:, None]
    mile_acc = np.broadcast_to(sale_acc[:, None], mile_day.shape)[keep]
    mile_order = np.broadcast_to(np.arange(max_m)[None, :], mile_day.shape)[keep]
    md = mile_day[keep]
    mm = len(mile_acc)
    ft, fl = _pick(rng, _FIRST_MILESTONES, mm)
    lt, ll = _pick(rng, _LATER_MILESTONES, mm)
    first = mile_order == 0
    out.add(mile_acc, clock.at(md, clock.working_time(rng, mm), offset_s[mile_acc]), _VALUE,
            np.where(first, ft, lt), np.where(first, fl, ll))
    onboarded_day = np.zeros(n, dtype=np.int64)
    onboarded_day[sale_acc] = mile_day[np.arange(k), np.maximum(n_mile - 1, 0)] if k else 0

    # Ongoing value once onboarded: business reviews, new use cases, advanced training.
    live = np.maximum(end_b - onboarded_day[sale_acc], 0)
    n_on = rng.poisson(live / 43.0 * np.where(seg_sold == 0, 0.5, 1.0))
    on_acc = np.repeat(sale_acc, n_on)
    o = len(on_acc)
    on_day = (onboarded_day[on_acc] + 1
              + np.floor(rng.random(o) * live[np.repeat(np.arange(k), n_on)]).astype(np.int64))
    ot, ol = _pick(rng, _ONGOING_VALUE, o)
    out.add(on_acc, clock.at(on_day, clock.working_time(rng, o), offset_s[on_acc]), _VALUE,
            ot, ol)

    # ---- cases -----------------------------------------------------------------------------
    active_from = sale_day[sold] + 1
    active = np.maximum(end_b - active_from, 0)
    n_cases = rng.poisson(per_segment("cases_per_month")[sold] * active / 21.7)
    case_acc = np.repeat(sale_acc, n_cases)
    c = len(case_acc)
    case_day = (np.repeat(active_from, n_cases)
                + np.floor(rng.random(c) * np.repeat(active, n_cases)).astype(np.int64))
    seg_case = segment[case_acc]
    prio_p = np.array([SEGMENTS[s]["priority"] for s in seg_names])[seg_case]
    chan_p = np.array([SEGMENTS[s]["channel"] for s in seg_names])[seg_case]
    priority = _choice_by_row(rng, prio_p)
    channel = _choice_by_row(rng, chan_p)
    urgent = priority == 3
    case_start = clock.at(case_day, clock.working_time(rng, c, 0.04), offset_s[case_acc])
    anytime = urgent & (rng.random(c) < 0.5)               # urgent cases come at any hour
    case_start[anytime] = clock.at(case_day[anytime], rng.integers(0, _DAY, int(anytime.sum())),
                                   offset_s[case_acc][anytime])
    speed = (_PRIORITY_SPEED[priority]
             * np.array([SEGMENTS[s]["case_speed"] for s in seg_names])[seg_case]
             * np.where(rng.random(c) < _STALLED_SHARE, 20.0, 1.0))
    weights = np.array([w for w, _ in _CASE_TEMPLATES])
    template = rng.choice(len(_CASE_TEMPLATES), size=c, p=weights / weights.sum())
    case_no = np.arange(c, dtype=np.int64)
    for t_code, (_, steps) in enumerate(_CASE_TEMPLATES):
        which = np.flatnonzero(template == t_code)
        w = len(which)
        if w == 0:
            continue
        t = case_start[which].copy()
        for i, (kind, pool, median_h, sigma) in enumerate(steps):
            team, label = _pick(rng, pool, w)
            if kind == _HANDOFF:
                unrecorded = rng.random(w) < _NO_TEAM_SHARE
                team = np.where(unrecorded, -1, team)
                label = np.where(unrecorded, _NO_TEAM_HANDOFF, label)
            out.add(case_acc[which], t, kind, team, label, case=case_no[which],
                    priority=priority[which], channel=channel[which])
            if i < len(steps) - 1:
                hold = _lognormal(rng, median_h, sigma, w)
                if kind != _SMILE:                         # happy gaps do not depend on speed
                    hold = hold * speed[which]
                t = t + np.maximum(60, np.round(hold * _HOUR)).astype(np.int64)

    # ---- assemble --------------------------------------------------------------------------
    ev = out.arrays()
    del out
    inside = np.flatnonzero((ev["t"] >= lo) & (ev["t"] < hi))
    # Same timestamp: sale, value, interruption, handoff, smile, reopen (kind codes follow that
    # order), then in generation order.
    order = inside[np.argsort(ev["t"][inside] * 8 + ev["kind"][inside], kind="stable")]
    del inside
    for key in list(ev):                                 # one column at a time: less memory
        ev[key] = ev[key][order]
    del order

    # Case ids in the order the cases start.
    case_id = np.full(len(ev["case"]), -1, dtype=np.int32)
    if c:
        renumber = np.full(c, -1, dtype=np.int32)
        starts = ev["case"][ev["kind"] == _INTERRUPTION]
        renumber[starts] = np.arange(1, len(starts) + 1)
        is_case = ev["case"] >= 0
        case_id[is_case] = renumber[ev["case"][is_case]]

    ev["case"] = case_id
    # Accounts whose every event falls after the window (a sale due later, nothing before it)
    # are not in the data yet: leave them out of the accounts table too, as a CRM export of
    # the window would.
    seen = np.zeros(n, dtype=bool)
    seen[ev["account"]] = True
    del case_id
    n_ev = len(ev["t"])
    acc_width = _width(n, 5)
    base_us = int(base.timestamp()) * 1_000_000
    events = pa.table({
        "event_id": _ids("e", np.arange(1, n_ev + 1, dtype=np.int64), _width(n_ev, 7)),
        "account_id": _ids("A", ev.pop("account") + 1, acc_width),
        "timestamp": pa.array(base_us + ev.pop("t") * 1_000_000,
                              type=pa.timestamp("us", tz="UTC")),
        "kind": _codes_to_strings(ev.pop("kind"), _KINDS),
        "case_id": _ids("C", ev.pop("case"), _width(c, 6)),
        "team": _codes_to_strings(ev.pop("team"), _TEAMS),
        "label": _codes_to_strings(ev.pop("label"), _LABELS),
        "priority": _codes_to_strings(ev.pop("priority"), _PRIORITIES),
        "channel": _codes_to_strings(ev.pop("channel"), _CHANNELS),
    })
    accounts_table = pa.table({key: column.filter(pa.array(seen)) for key, column in {
        "account_id": _ids("A", account + 1, acc_width),
        "name": pc.binary_join_element_wise(_codes_to_strings(name_head, _NAME_HEADS),
                                            _codes_to_strings(name_tail, _NAME_TAILS), " "),
        "segment": _codes_to_strings(segment, seg_names),
        "region": _codes_to_strings(region, _REGIONS),
        "industry": _codes_to_strings(industry, _INDUSTRIES),
        "employees": pa.array(employees, type=pa.int64()),
        "plan": _codes_to_strings(plan, plan_names),
        "owner": _codes_to_strings(owner, owner_names),
    }.items()})
    return Demo(events=events, accounts=accounts_table, start=start, end=end, seed=seed)


def generate_events(n_events: int, seed: int = 7) -> Demo:
    """The same company (a year from :data:`DEFAULT_START`) with about ``n_events`` events.

    The number of accounts is chosen from a small pilot run with the same seed, then corrected
    if the result is more than 3% off, so the log is within a few percent of ``n_events`` (within
    10% from about a thousand events up; tiny logs are coarse). Deterministic for a seed.
    """
    if isinstance(n_events, bool) or not isinstance(n_events, int) or n_events < 1:
        raise DemoParameterError(f"n_events must be a positive integer, not {n_events!r}")
    pilot_accounts = 2000
    per_account = max(generate(seed=seed, accounts=pilot_accounts).events.num_rows, 1)
    per_account /= pilot_accounts
    accounts = max(1, round(n_events / per_account))
    best = generate(seed=seed, accounts=accounts)
    # Large logs land within a percent or two at once; small ones vary more from one number of
    # accounts to the next, so correct a few times (cheap at that size) and keep the closest.
    tries = 1 if accounts > 50_000 else 5
    demo = best
    for _ in range(tries):
        rows = demo.events.num_rows
        if rows == 0 or abs(rows - n_events) <= 0.03 * n_events:
            break
        accounts = max(1, round(accounts * n_events / rows))
        demo = generate(seed=seed, accounts=accounts)
        if abs(demo.events.num_rows - n_events) < abs(best.events.num_rows - n_events):
            best = demo
    return best


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

def _iso_timestamps(table: pa.Table) -> pa.Table:
    """The table with every timestamp column as ISO 8601 UTC text with a ``Z`` suffix."""
    for i, field in enumerate(table.schema):
        if not pa.types.is_timestamp(field.type):
            continue
        column = table.column(i)
        utc = pa.timestamp(field.type.unit, tz="UTC")
        if field.type.tz is None:
            column = pc.assume_timezone(column, "UTC")
        column = column.cast(utc)
        try:
            seconds = column.cast(pa.timestamp("s", tz="UTC"))     # whole seconds: no fraction
            text = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        except pa.ArrowInvalid:                                    # keep the fraction
            text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ")
        table = table.set_column(i, field.name, text)
    return table


def write(demo: Demo, out_dir: Path, format: str = "csv") -> dict[str, Path]:
    """Write ``events`` and ``accounts`` of ``demo`` into ``out_dir`` (created if needed).

    ``format`` is ``"csv"`` (a header row, timestamps like ``2026-01-11T09:00:00Z``, nulls as
    empty fields) or ``"parquet"``. Returns ``{"events": path, "accounts": path}``.
    """
    fmt = format.lower()
    if fmt not in ("csv", "parquet"):
        raise DemoParameterError(f"format must be 'csv' or 'parquet', not {format!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, table in (("events", demo.events), ("accounts", demo.accounts)):
        path = out_dir / f"{name}.{fmt}"
        if fmt == "csv":
            pacsv.write_csv(_iso_timestamps(table), path)
        else:
            pq.write_table(table, path)
        paths[name] = path
    return paths
