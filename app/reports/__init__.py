"""Reports (统计报表): one definition per report page, shared by the page, its chart and its Excel export.

The figures come from `app.reports.queries` (SQL aggregates over the ledger, orders, arrears and pass
renewals); each report registers an ExportSpec `report_<name>` (income summary: one per grouping)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.core.replica import replica_reads
from app.exports.registry import DATE, TEXT, ExportSpec, register_export
from app.reports import queries as q
from app.staff.permissions import EXPORT, VIEW, PermissionArea, register_area

register_area(PermissionArea("reports", _l("Reports"), (VIEW, EXPORT)))


@dataclass(frozen=True)
class Report:
    name: str                      # URL /reports/<name>, endpoint reports.<name>
    title: object
    description: object
    label_header: object
    columns: list
    run: Callable                  # run(scope, filters, by) -> rows (dicts with key, label and column keys)
    totals: Callable | None        # totals(rows, filters) -> dict, or None (no totals row)
    chart: str = "bar"             # bar | line | pie
    groupings: tuple = ()          # allowed values of `by` (income summary)
    default_days: int = 7
    month_range: bool = False      # default range: this year (monthly report)

    def label_header_for(self, by: str | None):
        return q.GROUPINGS.get(by, self.label_header) if self.groupings else self.label_header

    def label_kind(self, by: str | None) -> str:
        return DATE if (self.name in ("daily", "trend") or (self.groupings and by == "day")) else TEXT


def _sum_totals(columns):
    keys = [c.key for c in columns]
    return lambda rows, f: q.totals(rows, keys)


REPORTS: list[Report] = [
    Report("daily", _l("Daily report"), _l("Orders, fees and money per local day."), _l("Day"),
           q.ORDER_REPORT_COLUMNS, lambda s, f, by: q.order_report(s, f, "day"), _sum_totals(q.ORDER_REPORT_COLUMNS)),
    Report("monthly", _l("Monthly report"), _l("Orders, fees and money per month."), _l("Month"),
           q.ORDER_REPORT_COLUMNS, lambda s, f, by: q.order_report(s, f, "month"), _sum_totals(q.ORDER_REPORT_COLUMNS),
           month_range=True),
    Report("collectors", _l("Collector report"), _l("Orders and money per collector."), _l("Collector"),
           q.ORDER_REPORT_COLUMNS, lambda s, f, by: q.order_report(s, f, "collector"),
           _sum_totals(q.ORDER_REPORT_COLUMNS)),
    Report("income", _l("Income summary"),
           _l("For each method: normal fees, recovered arrears and total; collected, unpaid and receivable."),
           _l("Park"), q.INCOME_COLUMNS, lambda s, f, by: q.income_summary(s, f, by or "park"),
           _sum_totals(q.INCOME_COLUMNS), groupings=tuple(q.GROUPINGS)),
    Report("trend", _l("Income trend"), _l("Parking income per day, by method."), _l("Day"), q.TREND_COLUMNS,
           lambda s, f, by: q.income_trend(s, f), _sum_totals(q.TREND_COLUMNS), chart="line", default_days=30),
    Report("methods", _l("Payment methods"), _l("Share of each payment method in all money taken."),
           _l("Method"), q.SHARE_COLUMNS, lambda s, f, by: q.method_share(s, f),
           lambda rows, f: {**q.totals(rows, ("amount", "entries")), "share": 1.0 if any(r["amount"] for r in rows)
                            else 0.0}, chart="pie", default_days=30),
    Report("arrears", _l("Arrears recovery"), _l("Unpaid orders of the period, what is recovered, the rate."),
           _l("Park"), q.ARREARS_COLUMNS, lambda s, f, by: q.arrears_recovery(s, f),
           lambda rows, f: q.arrears_totals(rows), default_days=30),
    Report("berths", _l("Berth usage"),
           _l("Turnover, average dwell and income per berth, per park."), _l("Park"), q.BERTH_COLUMNS,
           lambda s, f, by: q.berth_usage(s, f), q.berth_totals),
    Report("occupancy", _l("Occupancy by hour"),
           _l("Average cars in, out and parked per hour of the day, and occupancy of the berths."), _l("Hour"),
           q.OCCUPANCY_COLUMNS, lambda s, f, by: q.occupancy_by_hour(s, f), None, chart="line"),
    Report("passes", _l("Pass sales"), _l("Monthly passes sold and renewed, per park and product."),
           _l("Park · product"), q.PASS_COLUMNS, lambda s, f, by: q.pass_sales(s, f), _sum_totals(q.PASS_COLUMNS),
           default_days=30),
]
BY_NAME = {r.name: r for r in REPORTS}


def filters_for(report: Report, scope, params: dict) -> q.Filters:
    default_from = None
    if report.month_range:
        today = q.local_today(q.node_timezone(scope, q._int(params.get("park_id"))))
        default_from = today.replace(month=1, day=1)
    return q.filters_from_params(scope, params, report.default_days, default_from)


def grouping(report: Report, params: dict) -> str | None:
    if not report.groupings:
        return None
    by = params.get("by")
    return by if by in report.groupings else report.groupings[0]


def compute(report: Report, scope, params: dict):
    """(filters, by, rows, totals) of a report for these parameters, read from the reports' replica when
    one is configured (REPORTS_DATABASE_URL)."""
    with replica_reads():
        f = filters_for(report, scope, params)
        by = grouping(report, params)
        rows = report.run(scope, f, by)
        return f, by, rows, (report.totals(rows, f) if report.totals else None)


def export_kind(report: Report, by: str | None) -> str:
    return f"report_{report.name}" + (f"_{by}" if by else "")


TOTAL = _l("Total")


def _export_rows(report: Report, by: str | None):
    keys = [c.key for c in report.columns]

    def rows(scope, params):
        params = {**params, "by": by} if by else params
        _f, _by, data, tot = compute(report, scope, params)
        for r in data:  # a generator: the writer streams whatever the report yields
            yield [r["key"] if report.label_kind(by) == DATE else r["label"], *(r[k] for k in keys)]
        if tot is not None:
            yield [str(TOTAL), *(tot.get(k) for k in keys)]

    return rows


def _register_exports() -> None:
    for report in REPORTS:
        for by in report.groupings or (None,):
            columns = [(report.label_header_for(by), report.label_kind(by))] + [(c.header, c.kind)
                                                                              for c in report.columns]
            title = _TitleText(report.title, q.GROUPINGS[by] if by else None)
            register_export(ExportSpec(kind=export_kind(report, by), title=title, permission="reports.export",
                                       columns=columns, rows=_export_rows(report, by)))


class _TitleText:
    """A title translated when used (str()), like the lazy headers."""

    def __init__(self, title, by=None):
        self.title, self.by = title, by

    def __str__(self):
        return f"{self.title} - {self.by}" if self.by else str(self.title)

    def __html__(self):
        from markupsafe import escape

        return str(escape(str(self)))


_register_exports()
