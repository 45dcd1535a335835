"""The dashboard: FastAPI pages and a JSON API over :class:`~valueclock.web.data.Dashboard`.

Pages (stable addresses): ``/`` the dashboard, ``/accounts``, ``/accounts/{account_id}``,
``/cases``, ``/cases/{case_id}``, ``/teams``, ``/report.html`` (the view as the HTML
report). The API lives under ``/api`` with its OpenAPI description at
``/api/openapi.json``. Filters are query parameters on every address, so a view can be
shared as a link. Nothing here computes a figure: it asks the engine and shows the answer.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

import pyarrow as pa
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from valueclock import __version__
from valueclock.engine import iso
from valueclock.errors import UsageError
from valueclock.output import dumps, plain
from valueclock.report import charts as report_charts
from valueclock.report import environment
from valueclock.web import svg
from valueclock.web.data import LRU, NONE, PAGE_SIZES, Dashboard, Filters, every_names
from valueclock.web.security import COOKIE, Guard, safe_cell, session_value, token_matches

__all__ = ["create_app", "csv_text"]

STATS = ("median", "mean", "p75", "p90")
_MISSING = object()


# -- query parameters ----------------------------------------------------------------------

StatQ = Annotated[str | None, Query(description="Statistic of each part: median (default), "
                                                "mean, or a percentile such as p90.")]
EveryQ = Annotated[str | None, Query(description="Periods of the trend: week, month or "
                                                 "quarter (as `report --every`).")]
PeriodQ = Annotated[str | None, Query(description="One period of `every` to look at, as "
                                                  "the report names it: 2025-03, 2025-W10, "
                                                  "2025-Q1.")]
ByQ = Annotated[str | None, Query(description="An attribute: with `value`, only that slice "
                                              "is measured; in /api/report also "
                                              "`report --by`.")]
ValueQ = Annotated[str | None, Query(description=f"The value of `by` to keep ({NONE}: rows "
                                                 "without a value).")]
TeamQ = Annotated[str | None, Query(description="Only the cases whose clock this team held "
                                                "(account events all kept).")]
AsOfQ = Annotated[str | None, Query(description="The moment to measure for (ISO 8601), as "
                                                "`report --as-of`. Default: the data's.")]

ListQ = Annotated[str | None, Query(description="Search the ids and text attributes.")]
FormatQ = Annotated[str, Query(description="json (a page) or csv (every matching row, "
                                           "formulas neutralised).")]



def _page_filters(stat: StatQ = None, every: EveryQ = None, period: PeriodQ = None,
                  by: ByQ = None, value: ValueQ = None, team: TeamQ = None,
                  as_of: AsOfQ = None) -> Filters:
    return Filters.parse(stat, every, period, by, value, team, as_of, default_every="month")


def _api_filters(stat: StatQ = None, every: EveryQ = None, period: PeriodQ = None,
                 by: ByQ = None, value: ValueQ = None, team: TeamQ = None,
                 as_of: AsOfQ = None) -> Filters:
    return Filters.parse(stat, every, period, by, value, team, as_of, default_every=None)


# -- CSV -----------------------------------------------------------------------------------

def _csv_value(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return safe_cell(str(value))


def csv_text(table: pa.Table | list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Rows as CSV for a spreadsheet: numbers as numbers; any text starting with = + - @,
    a tab or a carriage return prefixed with ``'`` so it is never run as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if isinstance(table, pa.Table):
        writer.writerow([safe_cell(c) for c in table.column_names])
        for batch in table.to_batches(max_chunksize=65536):
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            writer.writerows([_csv_value(v) for v in row] for row in zip(*cols, strict=True))
    else:
        names = columns or (list(table[0]) if table else [])
        writer.writerow([safe_cell(c) for c in names])
        writer.writerows([_csv_value(r.get(c)) for c in names] for r in table)
    return out.getvalue()


def _csv_response(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}.csv"'})


def _json(data: Any) -> Response:
    return Response(dumps(data) + "\n", media_type="application/json")


# -- the app -------------------------------------------------------------------------------

def create_app(dashboard: Dashboard, token: str | None = None) -> Any:
    """The dashboard as an ASGI app (FastAPI behind the token guard)."""
    app = FastAPI(
        title="valueclock dashboard", version=__version__, docs_url=None, redoc_url=None,
        openapi_url="/api/openapi.json",
        description="Time to Customer Value (Klever's Law) for the data the dashboard was "
                    "started on. Every figure is the engine's: `/api/report` answers the "
                    "object `valueclock report --format json` prints for the same events "
                    "and options. Filters are query parameters. With a token, send "
                    "`Authorization: Bearer TOKEN`.")
    env = environment("valueclock.web")
    rendered = LRU(128)
    chart_lock = threading.Lock()

    def url(path: str, f: Filters, extra: dict[str, Any] | None = None,
            **changes: Any) -> str:
        query = f.query(**changes)
        for k, v in (extra or {}).items():
            if v not in (None, "", False):
                query[k] = "1" if v is True else str(v)
        return path + ("?" + urlencode(query) if query else "")

    def part(value: Any) -> str:
        return quote(str(value), safe="")

    env.globals.update(url=url, STATS=STATS, EVERY=every_names(), NONE=NONE,
                       PAGE_SIZES=PAGE_SIZES)
    env.filters["part"] = part

    def chart_svg(key: tuple, build: Any) -> Markup | None:
        found = rendered.get(key, _MISSING)
        if found is _MISSING:
            chart = build()
            with chart_lock:
                found = None if chart is None else report_charts.to_svg(chart, key[0])
            rendered.put(key, found)
        return None if found is None else Markup(found)

    def page(request: Request, template: str, f: Filters, **context: Any) -> HTMLResponse:
        d = dashboard
        attrs = d.attributes()
        context.setdefault("title", "valueclock")
        html = env.get_template(template).render(
            request_path=request.url.path, f=f, source=d.source.label,
            as_of=d.base.as_of, attributes=attrs,
            values=d.values(f.by) if f.by else [], teams=d.teams(),
            periods=d.periods(f), signed_in=token is not None, **context)
        return HTMLResponse(html)

    # -- errors ----------------------------------------------------------------------------

    @app.exception_handler(UsageError)
    async def usage_error(request: Request, exc: UsageError) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        html = env.get_template("error.html.j2").render(
            title="Cannot show this", message=str(exc), f=Filters(), status=400,
            attributes={"account": [], "case": []}, values=[], teams=[], periods=[],
            source=dashboard.source.label, as_of=dashboard.base.as_of,
            signed_in=token is not None, request_path=request.url.path)
        return HTMLResponse(html, status_code=400)

    def not_found(request: Request, what: str) -> HTMLResponse:
        html = env.get_template("error.html.j2").render(
            title="Not found", message=what, f=Filters(), status=404,
            attributes={"account": [], "case": []}, values=[], teams=[], periods=[],
            source=dashboard.source.label, as_of=dashboard.base.as_of,
            signed_in=token is not None, request_path=request.url.path)
        return HTMLResponse(html, status_code=404)

    # -- pages -----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, stat: StatQ = None, every: EveryQ = None, period: PeriodQ = None,
             by: ByQ = None, value: ValueQ = None, team: TeamQ = None,
             as_of: AsOfQ = None) -> HTMLResponse:
        f = _page_filters(stat, every, period, by, value, team, as_of)
        view = dashboard.view(f)
        h = view.headline
        key = (f.view_key(), f.stat, f.every, f.period, f.by)
        charts = {
            "waterfall": chart_svg(("waterfall",) + key,
                                   lambda: report_charts.waterfall(h)),
            "trend": chart_svg(("trend",) + key,
                               lambda: report_charts.trend(view.summary.get("periods"))),
            "slices": chart_svg(("slices",) + key,
                                lambda: report_charts.slices_chart(view.summary.get("slices"))),
        }
        return page(request, "dashboard.html.j2", f, view=view, s=h, summary=view.summary,
                    charts=charts, title="Time to Customer Value")

    def _list_page(request: Request, which: str, f: Filters, q: str | None,
                   sort: str | None, desc: bool, page_no: int, per_page: int,
                   state: str | None) -> HTMLResponse:
        view = dashboard.view(f)
        result = dashboard.table_page(view, which, q=q, sort=sort, desc=desc, page=page_no,
                                      per_page=per_page, state=state)
        extra = {"q": q, "sort": sort, "desc": desc, "state": state,
                 "per_page": per_page if per_page != 50 else None}
        return page(request, f"{which}.html.j2", f, view=view, s=view.headline,
                    result=result, extra=extra, title=which.capitalize())

    @app.get("/accounts", response_class=HTMLResponse, include_in_schema=False)
    def accounts_page(request: Request, q: ListQ = None, sort: str | None = None,
                      desc: bool = False, page: int = 1, per_page: int = 50,
                      state: str | None = None, stat: StatQ = None, every: EveryQ = None,
                      period: PeriodQ = None, by: ByQ = None, value: ValueQ = None,
                      team: TeamQ = None, as_of: AsOfQ = None) -> HTMLResponse:
        f = _page_filters(stat, every, period, by, value, team, as_of)
        return _list_page(request, "accounts", f, q, sort or None, desc, page, per_page,
                          state or None)

    @app.get("/cases", response_class=HTMLResponse, include_in_schema=False)
    def cases_page(request: Request, q: ListQ = None, sort: str | None = None,
                   desc: bool = False, page: int = 1, per_page: int = 50,
                   state: str | None = None, stat: StatQ = None, every: EveryQ = None,
                   period: PeriodQ = None, by: ByQ = None, value: ValueQ = None,
                   team: TeamQ = None, as_of: AsOfQ = None) -> HTMLResponse:
        f = _page_filters(stat, every, period, by, value, team, as_of)
        return _list_page(request, "cases", f, q, sort or None, desc, page, per_page,
                          state or None)

    @app.get("/accounts/{account_id:path}", response_class=HTMLResponse,
             include_in_schema=False)
    def account_page(request: Request, account_id: str, stat: StatQ = None,
                     every: EveryQ = None, period: PeriodQ = None, by: ByQ = None,
                     value: ValueQ = None, team: TeamQ = None,
                     as_of: AsOfQ = None) -> HTMLResponse:
        f = _page_filters(stat, every, period, by, value, team, as_of)
        detail = dashboard.account(f, account_id)
        if detail is None:
            return not_found(request, f"No account {account_id!r} in the data.")
        return page(request, "account.html.j2", f, d=detail, account_id=account_id,
                    timeline=svg.account_timeline(detail, dashboard.palette()),
                    title=f"Account {account_id}")

    @app.get("/cases/{case_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def case_page(request: Request, case_id: str, stat: StatQ = None, every: EveryQ = None,
                  period: PeriodQ = None, by: ByQ = None, value: ValueQ = None,
                  team: TeamQ = None, as_of: AsOfQ = None) -> HTMLResponse:
        f = _page_filters(stat, every, period, by, value, team, as_of)
        detail = dashboard.case(f, case_id)
        if detail is None:
            return not_found(request, f"No measured case {case_id!r} in the data.")
        return page(request, "case.html.j2", f, d=detail, case_id=case_id,
                    clock=svg.case_clock(detail, dashboard.palette()), title=f"Case {case_id}")

    @app.get("/teams", response_class=HTMLResponse, include_in_schema=False)
    def teams_page(request: Request, stat: StatQ = None, every: EveryQ = None,
                   period: PeriodQ = None, by: ByQ = None, value: ValueQ = None,
                   team: TeamQ = None, as_of: AsOfQ = None) -> HTMLResponse:
        f = _page_filters(stat, every, period, by, value, team, as_of)
        view = dashboard.view(f)
        table = dashboard.teams_table(view)
        key = (f.view_key(),)
        charts = {"team_hours": chart_svg(("team_hours",) + key,
                                          lambda: report_charts.team_hours(table)),
                  "team_parts": chart_svg(("team_parts",) + key,
                                          lambda: report_charts.team_parts(
                                              table, dashboard.palette()))}
        return page(request, "teams.html.j2", f, view=view, s=view.headline, table=table,
                    charts=charts, palette=dashboard.palette(),
                    title="Teams")

    @app.get("/report.html", response_class=HTMLResponse, include_in_schema=False)
    def html_report(stat: StatQ = None, every: EveryQ = None, period: PeriodQ = None,
                    by: ByQ = None, value: ValueQ = None, team: TeamQ = None,
                    as_of: AsOfQ = None) -> HTMLResponse:
        from valueclock.report import build_charts, gather, render_html, render_svgs

        f = _page_filters(stat, every, None, by, value, team, as_of)
        key = ("report.html", f.view_key(), f.stat, f.every, f.by)
        found = rendered.get(key, _MISSING)
        if found is _MISSING:
            m = dashboard.measurement(f)
            with dashboard.lock:
                data = gather(m, f.stat, every=f.every,
                              by=f.by if f.value is None else None)
            with chart_lock:
                svgs = render_svgs(build_charts(data))
            found = render_html(data, svgs)
            rendered.put(key, found)
        return HTMLResponse(found)

    # -- sign in ---------------------------------------------------------------------------

    @app.get("/signin", response_class=HTMLResponse, include_in_schema=False)
    def signin_page(next: str = "/", error: str | None = None) -> HTMLResponse:
        html = env.get_template("signin.html.j2").render(next=_local(next), error=error,
                                                         token_needed=token is not None)
        return HTMLResponse(html)

    @app.post("/signin", include_in_schema=False)
    async def signin(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0]
        target = _local((form.get("next") or ["/"])[0])
        if token is None:
            return RedirectResponse(target, status_code=303)
        if not token_matches(given, token):
            return RedirectResponse("/signin?error=1&next=" + quote(target, safe=""),
                                    status_code=303)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="strict",
                            path="/")
        return response

    @app.post("/signout", include_in_schema=False)
    def signout() -> Response:
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- API -------------------------------------------------------------------------------

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_index(request: Request) -> HTMLResponse:
        return page(request, "api.html.j2", Filters(), title="API",
                    routes=[r for r in app.openapi()["paths"].items()])

    json_or_csv = {200: {"content": {"application/json": {}, "text/csv": {}},
                         "description": "JSON, or CSV with format=csv."}}

    @app.get("/api/report", tags=["report"],
             responses={200: {"content": {"application/json": {}},
                              "description": "The object `valueclock report --format json` "
                                             "prints."}})
    def api_report(stat: StatQ = None, every: EveryQ = None, by: ByQ = None,
                   value: ValueQ = None, team: TeamQ = None, as_of: AsOfQ = None,
                   target_days: Annotated[float, Query(description="As `--target-days`.")]
                   = 0.0,
                   min_size: Annotated[int, Query(ge=0, description="As `--min-size`.")] = 30,
                   bins: Annotated[int, Query(ge=1, description="As `--bins`.")] = 10
                   ) -> Response:
        """The report of the events the filters keep: exactly what `valueclock report
        --format json` prints for them with the same options (`stat`, `every`, `by`,
        `as_of`, `target_days`, `min_size`, `bins`). With `by` and `value` (or `team`)
        only those events are measured, at the same as_of as the whole data."""
        f = _api_filters(stat, every, None, by, value, team, as_of)
        key = ("api/report", f.view_key(), f.stat, f.by, f.every, target_days, min_size,
               bins)
        text = rendered.get(key)
        if text is None:
            text = dumps(dashboard.report(f, by=f.by, every=f.every,
                                          target_days=target_days, min_size=min_size,
                                          bins=bins)) + "\n"
            rendered.put(key, text)
        return Response(text, media_type="application/json")

    def _api_list(which: str, f: Filters, q: str | None, sort: str | None, desc: bool,
                  page_no: int, per_page: int, state: str | None, fmt: str) -> Response:
        if f.period is not None and f.every is None:
            f = replace(f, every="month")
        view = dashboard.view(f)
        if fmt == "csv":
            found = dashboard.table_page(view, which, q=q, sort=sort, desc=desc, state=state,
                                         everything=True)
            return _csv_response(csv_text(found["table"]), which)
        if fmt != "json":
            raise UsageError("format must be json or csv")
        found = dashboard.table_page(view, which, q=q, sort=sort, desc=desc, page=page_no,
                                     per_page=per_page, state=state)
        return _json(found)

    @app.get("/api/accounts", tags=["accounts"], responses=json_or_csv)
    def api_accounts(q: ListQ = None, sort: str | None = None, desc: bool = False,
                     page: int = 1, per_page: int = 50,
                     state: Annotated[str | None, Query(description="waiting or reached")]
                     = None, format: FormatQ = "json", stat: StatQ = None,
                     every: EveryQ = None, period: PeriodQ = None, by: ByQ = None,
                     value: ValueQ = None, team: TeamQ = None,
                     as_of: AsOfQ = None) -> Response:
        """Sold accounts of the view (as `valueclock accounts`), searched, sorted and
        paginated: `{total, page, pages, per_page, columns, rows}`; or CSV."""
        f = _api_filters(stat, every, period, by, value, team, as_of)
        return _api_list("accounts", f, q, sort, desc, page, per_page, state, format)

    @app.get("/api/cases", tags=["cases"], responses=json_or_csv)
    def api_cases(q: ListQ = None, sort: str | None = None, desc: bool = False,
                  page: int = 1, per_page: int = 50,
                  state: Annotated[str | None, Query(description="open or resolved")] = None,
                  format: FormatQ = "json", stat: StatQ = None, every: EveryQ = None,
                  period: PeriodQ = None, by: ByQ = None, value: ValueQ = None,
                  team: TeamQ = None, as_of: AsOfQ = None) -> Response:
        """Measured cases of the view (as `valueclock cases`): searched, sorted,
        paginated; or CSV."""
        f = _api_filters(stat, every, period, by, value, team, as_of)
        return _api_list("cases", f, q, sort, desc, page, per_page, state, format)

    @app.get("/api/accounts/{account_id:path}", tags=["accounts"])
    def api_account(account_id: str, as_of: AsOfQ = None) -> Response:
        """One account: its row (null for a prospect), attributes, events, cases and the
        stretches each case's clock ran, by team."""
        detail = dashboard.account(Filters(as_of=as_of), account_id)
        if detail is None:
            return JSONResponse({"detail": f"no account {account_id!r}"}, status_code=404)
        return _json(detail)

    @app.get("/api/cases/{case_id:path}", tags=["cases"])
    def api_case(case_id: str, as_of: AsOfQ = None) -> Response:
        """One case: its row, hours held by each team, the stretches its clock ran, and
        its events with the clock's state and holder after each."""
        detail = dashboard.case(Filters(as_of=as_of), case_id)
        if detail is None:
            return JSONResponse({"detail": f"no measured case {case_id!r}"}, status_code=404)
        return _json(detail)

    @app.get("/api/teams", tags=["teams"], responses=json_or_csv)
    def api_teams(format: FormatQ = "json", stat: StatQ = None, by: ByQ = None,
                  value: ValueQ = None, team: TeamQ = None, as_of: AsOfQ = None) -> Response:
        """Per team (as `valueclock teams`): cases and hours held, passes, ping-pong, and
        the value it delivered before and after the sale."""
        f = _api_filters(stat, None, None, by, value, team, as_of)
        table = dashboard.teams_table(dashboard.view(f))
        if format == "csv":
            from valueclock.engine.teams import TEAM_COLUMNS

            return _csv_response(csv_text(table, list(TEAM_COLUMNS)), "teams")
        return _json({"as_of": iso(dashboard.measurement(f).as_of), "teams": table})

    @app.get("/api/filters", tags=["report"])
    def api_filters(by: ByQ = None) -> Response:
        """What the filters offer: attributes (account and case), the values of `by`,
        the teams that held a clock, and the periods of each `every`."""
        return _json({"attributes": dashboard.attributes(),
                      "values": dashboard.values(by) if by else None,
                      "teams": dashboard.teams(), "every": every_names()})

    app.mount("/static", StaticFiles(packages=[("valueclock.web", "static")]),
              name="static")
    return Guard(app, token)


def _local(target: str) -> str:
    """Only paths on this site (no open redirect through ``next``)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
