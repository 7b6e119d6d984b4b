"""提醒: the overview's alerts panel. Each kind is one count with the filtered list that shows its rows;
a kind is left out for a viewer who may not open that list, and for a scope that has nothing of that kind
(no sensor line without sensors). Domains above the dashboard (the on-site link) add theirs with
`register_alert`; each kind costs at most one statement."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import case, func, select

from app.core.types import utcnow
from app.devices.models import Handheld, HandheldStatus
from app.extensions import db
from app.inspections.models import InspectionTask, TaskState
from app.orders.models import Arrear, OrderState, ParkingOrder
from app.orders.queries import local_range
from app.sensors.models import BaseStation, Sensor
from app.tenancy.models import City
from app.tenancy.scope import current_scope

LONG_STAY_DAYS = 2  # 超长停车: the long-stay list's own lower bound


@dataclass(frozen=True)
class Found:
    count: int                              # rows needing attention, as the linked list shows them
    present: bool = True                    # whether the scope has anything of this kind at all
    args: dict = field(default_factory=dict)  # the list's filter


@dataclass(frozen=True)
class AlertKind:
    key: str
    label: object                                   # a lazy text
    endpoint: str
    permission: str
    count: Callable[..., Found]                     # (scope, now) -> Found, in one statement


ALERTS: list[AlertKind] = []


def register_alert(kind: AlertKind) -> None:
    if all(k.key != kind.key for k in ALERTS):
        ALERTS.append(kind)


def alerts_for(scope, may: Callable[[str], bool], now: datetime) -> list[tuple[AlertKind, Found]]:
    """The viewer's alerts, in the order the kinds were registered."""
    shown = []
    for kind in ALERTS:
        if not may(kind.permission):
            continue
        found = kind.count(scope, now)
        if found.present:
            shown.append((kind, found))
    return shown


def panel() -> list[tuple[AlertKind, Found]]:
    """The signed-in viewer's alerts: the overview template calls this, so the overview's view stays as it is."""
    return alerts_for(current_scope(), current_user.can, utcnow())


def count_of(model, scope, attention) -> tuple[int, int]:
    """(all rows of the scope, those matching `attention`) in one statement."""
    total, hits = db.session.execute(select(func.count(), func.coalesce(func.sum(case((attention, 1), else_=0)), 0))
                                     .select_from(model).where(scope.clause(model))).one()
    return int(total), int(hits)


def _pending_handhelds(scope, now) -> Found:
    total, pending = count_of(Handheld, scope, Handheld.status == HandheldStatus.PENDING.value)
    return Found(pending, total > 0, {"status": HandheldStatus.PENDING.value})


def _offline_sensors(scope, now) -> Found:
    total, offline = count_of(Sensor, scope, Sensor.online.is_(False))
    return Found(offline, total > 0, {"status": "offline"})


def _offline_stations(scope, now) -> Found:
    total, offline = count_of(BaseStation, scope, BaseStation.online.is_(False))
    return Found(offline, total > 0, {"status": "offline"})


def _long_stays(scope, now) -> Found:
    count = db.session.scalar(select(func.count()).select_from(ParkingOrder).where(
        scope.clause(ParkingOrder), ParkingOrder.state == OrderState.OPEN.value,
        ParkingOrder.entered_at <= now - timedelta(days=LONG_STAY_DAYS)))
    return Found(int(count or 0), args={"min_days": LONG_STAY_DAYS, "max_days": ""})


def _scope_zone(scope) -> ZoneInfo:
    """The zone the unpaid list's date filter uses for this scope (`filter_zone` without a park); read through
    the identity map, where the page's header has usually put the city already."""
    city = db.session.get(City, scope.city_id) if scope.city_id is not None else None
    return ZoneInfo((city.timezone if city is not None else None) or current_app.config["DEFAULT_TIMEZONE"])


def _unpaid_today(scope, now) -> Found:
    """Debts that arose today (the scope's local day) and are still open, as the unpaid list filters them."""
    zone = _scope_zone(scope)
    today: date = now.astimezone(zone).date()
    start, end = local_range(zone, today, today)
    count = db.session.scalar(select(func.count()).select_from(Arrear).where(
        scope.clause(Arrear), Arrear.state == "open", Arrear.created_at >= start, Arrear.created_at < end))
    return Found(int(count or 0), args={"date_from": today.isoformat(), "date_to": today.isoformat()})


def _open_tasks(scope, now) -> Found:
    total, open_ = count_of(InspectionTask, scope, InspectionTask.state == TaskState.OPEN)
    return Found(open_, total > 0, {"state": TaskState.OPEN})


for _kind in (
    AlertKind("handhelds-pending", _l("Handhelds waiting for approval"), "devices.list_handhelds", "devices.view",
              _pending_handhelds),
    AlertKind("sensors-offline", _l("Sensors offline"), "sensors.list_sensors", "sensors.view", _offline_sensors),
    AlertKind("stations-offline", _l("Base stations offline"), "sensors.list_stations", "sensors.view",
              _offline_stations),
    AlertKind("long-stays", _l("Cars parked over the long-stay limit"), "orders.long_stays", "orders.view",
              _long_stays),
    AlertKind("unpaid-today", _l("Unpaid today"), "orders.unpaid", "orders.view", _unpaid_today),
    AlertKind("tasks-open", _l("Open inspection tasks"), "inspections.list_tasks", "inspections.view", _open_tasks),
):
    register_alert(_kind)
