"""Report pages under /reports: filters, a table and a chart of the same numbers, a totals row, export."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.core.web import permission_required
from app.reports import BY_NAME, REPORTS, compute, export_kind
from app.reports import queries as q
from app.reports.forms import build_form
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("reports", __name__)

add_nav("reports", _l("All reports"), "reports.index", "reports.view")
for _r in REPORTS:
    add_nav("reports", _r.title, f"reports.{_r.name}", "reports.view")
add_nav("reports", _l("Exports"), "exports.list_jobs", "reports.export")

PLOTLY_JS = None


def _plotly_path() -> Path:
    global PLOTLY_JS
    if PLOTLY_JS is None:
        import plotly

        PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return PLOTLY_JS


@bp.route("/reports/assets/plotly.min.js")
@login_required
def plotly_js():
    """The charting library, served from the installed plotly package (no CDN)."""
    path = _plotly_path()
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="text/javascript", max_age=86400, conditional=True)


@bp.route("/reports/")
@permission_required("reports.view")
def index():
    return render_template("reports/index.html", reports=REPORTS)


def chart_payload(report, rows, by=None) -> dict:
    """What static/js/charts.js draws: the same numbers as the table (money in yuan)."""
    cols = [c for c in report.columns if c.chart] or report.columns[:1]
    if report.chart == "pie":
        col = cols[0]
        return {"type": "pie", "labels": [str(r["label"]) for r in rows],
                "values": [_chart_value(col, r[col.key]) for r in rows], "money": col.kind == q.MONEY}
    return {"type": report.chart, "x": [str(r["label"]) for r in rows],
            "series": [{"name": str(c.header), "values": [_chart_value(c, r[c.key]) for r in rows],
                        "percent": c.kind == q.PERCENT,
                        "axis": "y2" if (c.kind != cols[0].kind and c.kind in (q.PERCENT, "float")) else "y"}
                       for c in cols]}


def _chart_value(col, value):
    if value is None:
        return None
    if col.kind == q.MONEY:
        return round(value / 100, 2)
    if col.kind == q.PERCENT:
        return round(value * 100, 2)
    return value


def _drill(report, row, f, by):
    """Where a row leads: a park opens its days, a group its parks, a day its parks."""
    key = row["key"]
    if key is None:
        return None
    dates = {"date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat()}
    if (report.name == "income" and by == "park") or report.name in ("berths", "arrears"):
        return url_for("reports.income", by="day", park_id=key, **dates)
    if report.name == "income" and by == "group":
        return url_for("reports.income", by="park", group_id=key, **dates)
    if (report.name == "income" and by == "day") or report.name in ("daily", "trend"):
        day = key.isoformat()
        extra = {"park_id": f.park_id} if f.park_id else {}
        return url_for("reports.income", by="park", date_from=day, date_to=day, **extra)
    return None


def _make_view(report):
    @permission_required("reports.view")
    def view():
        scope = current_scope()
        params = request.args.to_dict()
        f, by, rows, totals = compute(report, scope, params)
        form = build_form(report, scope, f, by, request.args)
        export_params = {**f.params(), **({"by": by} if by else {})}
        export_url = url_for("exports.new_job", kind=export_kind(report, by), **f.params()) \
            if current_user.can("reports.export") else None
        return render_template("reports/report.html", report=report, form=form, rows=rows, totals=totals, f=f,
                               by=by, label_header=report.label_header_for(by), chart=chart_payload(report, rows, by),
                               export_url=export_url, drill=lambda row: _drill(report, row, f, by),
                               export_params=export_params)

    view.__name__ = f"report_{report.name}"
    return view


for _report in REPORTS:
    bp.add_url_rule(f"/reports/{_report.name}", endpoint=_report.name, view_func=_make_view(_report))

__all__ = ["bp", "BY_NAME", "chart_payload"]
