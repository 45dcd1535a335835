"""Distributions: percentiles as numpy has them, bins that hold every value once, the
accounts and cases behind each bar, and every JSON key of the report documented."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pyarrow.parquet as pq
import pytest

import valueclock
from tests.conftest import REPO
from tests.test_slices import cli
from valueclock import demo
from valueclock.errors import UsageError

AS_OF = "2025-09-01T00:00:00Z"
PARTS = {"ttv_before_days": "accounts", "ttv_after_days": "accounts",
         "smile_hours": "cases", "ttcv_days": "accounts"}


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    d = demo.generate(seed=3, accounts=300)
    folder = tmp_path_factory.mktemp("company")
    pq.write_table(d.events, folder / "events.parquet")
    pq.write_table(d.accounts, folder / "accounts.parquet")
    return d, folder


@pytest.fixture(scope="module")
def m(company):
    d, _ = company
    return valueclock.measure(d.events, accounts=d.accounts, as_of=AS_OF, cache=True)


@pytest.fixture(scope="module")
def dist(m):
    return m.distributions()


def _values(m, part):
    table = m.accounts if PARTS[part] == "accounts" else m.cases
    return table.to_pandas()[part].dropna().to_numpy()


@pytest.mark.parametrize("part", list(PARTS))
def test_percentiles_and_bins(m, dist, part):
    d = dist[part]
    values = _values(m, part)
    assert d["count"] == len(values) > 0
    assert d["min"] == values.min() and d["max"] == values.max()
    for name, q in (("p10", 0.1), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p90", 0.9),
                    ("p95", 0.95)):
        assert d["percentiles"][name] == pytest.approx(float(np.quantile(values, q)),
                                                       rel=1e-12, abs=1e-12)
    bins = d["bins"]
    assert [b["bin"] for b in bins] == list(range(len(bins)))
    assert bins[0]["lo"] <= d["min"] and bins[-1]["hi"] >= d["max"]
    assert sum(b["count"] for b in bins) == d["count"]
    for b in bins:
        last = b["bin"] == len(bins) - 1
        inside = (values >= b["lo"]) & ((values <= b["hi"]) if last else (values < b["hi"]))
        assert inside.sum() == b["count"]


def test_unfinished_are_counted_beside(m, dist):
    s = m.summary()
    assert dist["ttv_after_days"]["unfinished"] == s["waiting_accounts"] > 0
    assert dist["ttcv_days"]["unfinished"] == s["waiting_accounts"]
    assert dist["smile_hours"]["unfinished"] == s["open_cases"]
    assert dist["ttv_before_days"]["unfinished"] == 0
    assert s["distributions"] == dist


@pytest.mark.parametrize("part", list(PARTS))
def test_the_rows_behind_each_bar(m, dist, part):
    key = "account_id" if PARTS[part] == "accounts" else "case_id"
    seen: set[str] = set()
    for b in dist[part]["bins"]:
        rows = m.in_bin(part, b["bin"]).to_pyarrow().to_pylist()
        assert len(rows) == b["count"]
        assert all(b["lo"] <= r[part] <= b["hi"] for r in rows)
        ids = {r[key] for r in rows}
        assert not ids & seen
        seen |= ids
    assert len(seen) == dist[part]["count"]


def test_bins_option_and_errors(m):
    few = m.distributions(bins=3)["smile_hours"]["bins"]
    many = m.distributions(bins=30)["smile_hours"]["bins"]
    assert len(few) < len(many) <= 33
    with pytest.raises(UsageError, match="there is no bin 99"):
        m.in_bin("smile_hours", 99)
    with pytest.raises(UsageError):
        m.in_bin("elapsed_hours", 0)
    with pytest.raises(UsageError):
        m.distributions(bins=0)


def test_where_bin_on_the_command_line(company, m, dist):
    _, folder = company
    events = folder / "events.parquet"
    b = max(dist["ttv_after_days"]["bins"], key=lambda x: x["count"])
    out = cli("accounts", events, "--as-of", AS_OF, "--where-bin",
              f"ttv_after_days:{b['bin']}")
    rows = list(csv.DictReader(io.StringIO(out)))
    want = {r["account_id"] for r in
            m.in_bin("ttv_after_days", b["bin"]).to_pyarrow().to_pylist()}
    assert {r["account_id"] for r in rows} == want and len(rows) == b["count"]
    out = cli("cases", events, "--as-of", AS_OF, "--where-bin", "smile_hours:0",
              "--format", "json")
    assert len(json.loads(out)) == dist["smile_hours"]["bins"][0]["count"]
    table = cli("cases", events, "--as-of", AS_OF, "--where-bin", "smile_hours:0",
                "--format", "table")
    assert "smile_hours bin 0" in table
    with pytest.raises(UsageError, match="distribution of cases"):
        cli("accounts", events, "--where-bin", "smile_hours:0")
    with pytest.raises(UsageError, match="PART:INDEX"):
        cli("cases", events, "--where-bin", "smile_hours")


# ------------------------------------------------------------------------------------------
# Every key of the report's JSON is documented.
# ------------------------------------------------------------------------------------------

DOCS = REPO / "docs"


def _documented() -> set[str]:
    keys: set[str] = set()
    for page in DOCS.glob("*.md"):
        for line in page.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\|\s*`([A-Za-z0-9_]+)`\s*\|", line)
            if match:
                keys.add(match.group(1))
    return keys


def _keys(obj, found: set[str], path: str = "") -> set[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            found.add(k)
            _keys(v, found, f"{path}.{k}")
    elif isinstance(obj, list):
        for v in obj:
            _keys(v, found, path)
    return found


def test_every_report_key_is_documented(company):
    _, folder = company
    data = json.loads(cli("report", folder / "events.parquet", "--accounts",
                          folder / "accounts.parquet", "--as-of", AS_OF, "--by", "segment",
                          "--every", "month", "--format", "json"))
    survival = json.loads(cli("survival", folder / "events.parquet", "--as-of", AS_OF,
                              "--format", "json"))
    found = _keys(data, set()) | _keys(survival, set())
    # Keys whose names are data (team names in what-if factors) are not keys to document.
    found -= set((data.get("scale") or {}).keys())
    missing = sorted(found - _documented())
    assert not missing, f"undocumented JSON keys (add them to docs/report-json.md): {missing}"
    assert {"distributions", "slices", "periods", "ttv_after_days_km", "curve", "bins"} <= found


def test_every_new_option_is_documented():
    doc = (DOCS / "report-json.md").read_text(encoding="utf-8")
    for option in ("--target-days", "--by", "--every", "--min-size", "--bins", "--where-bin",
                   "--part", "--alpha", "--all", "account:NAME", "case:NAME"):
        assert option in doc, option
    for words in ("--target-days", "--by", "--every", "--min-size", "--bins"):
        assert words in " ".join(cli("report", "--help").split()), words
    assert "--where-bin" in cli("accounts", "--help") and "--part" in cli("survival", "--help")


def test_the_lowest_and_highest_values_are_in_a_bin_whatever_their_digits(journey):
    """Outer edges are raw values (17 digits): no engine may drop them by reading the
    literal as a decimal that rounds to another double (DuckDB 1.5 would)."""
    # 1.9256713071412037 days is one of the doubles that DuckDB 1.5 puts above its own
    # 17-digit literal; here it is the highest value, the end of the last, wider bin.
    rows = [f"a{k},2026-03-01T09:00:00Z,sale,,,\na{k},2026-03-01T{9 + k:02d}:00:00Z,value,,,"
            for k in range(1, 15)]
    rows.append("b,2026-03-01T09:00:00Z,sale,,,\nb,2026-03-03T07:12:58.000937Z,value,,,")
    m = journey("\n".join(rows))
    d = m.distributions()
    for part in ("ttv_after_days", "ttcv_days"):
        bins = d[part]["bins"]
        assert bins[-1]["hi"] == d[part]["max"] == 166378000937 / 86_400_000_000, bins
        assert sum(b["count"] for b in bins) == d[part]["count"] == 15, (part, bins)
        highest = m.in_bin(part, len(bins) - 1).to_pyarrow().column("account_id").to_pylist()
        assert highest == ["b"], (part, bins)
    single = journey("""
        b,2026-03-01T09:00:00Z,sale,,,
        b,2026-03-03T07:12:58.000937Z,value,,,
    """).distributions()["ttv_after_days"]
    assert single["bins"] == [{"bin": 0, "lo": single["min"], "hi": single["min"], "count": 1}]
