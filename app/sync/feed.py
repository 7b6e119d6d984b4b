"""The change feed (下发): every admin edit of what a site needs becomes numbered rows of each
covered off-street park's feed, written in the same transaction as the edit.

Numbers come from `site_servers.last_seq`, raised under the row's lock: a second writer waits for
the first to commit, so commit order equals number order and a puller never sees a gap that a
slower transaction fills later."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, event, insert, inspect, or_, select, true, update
from sqlalchemy.orm import Session

from app.core.errors import Invalid
from app.core.types import utcnow
from app.lanes.models import Lane
from app.members.models import MonthlyPass, MonthlyProduct, PassPlate, PlateListEntry
from app.parks.models import CarType, ParkParameters, PlateCarType
from app.parks.services import parameters_payload, park_parameters
from app.sync.models import SiteServer, SyncChange
from app.tariffs.models import TariffRule, TariffVersion
from app.tenancy.models import Park

FEED_KEEP = timedelta(days=7)  # acknowledged changes stay this long, for a site restored from a backup

SNAPSHOT_ENTITIES = ("park_parameters", "lane", "car_type", "plate_car_type", "tariff", "product", "pass",
                     "plate_list")


def _watched() -> dict:
    """Model -> entity name: the rows whose changes the sites follow."""
    return {ParkParameters: "park_parameters", Lane: "lane", CarType: "car_type", PlateCarType: "plate_car_type",
            TariffRule: "tariff", MonthlyProduct: "product", MonthlyPass: "pass", PlateListEntry: "plate_list"}


_WATCHED: dict | None = None


def watched() -> dict:
    global _WATCHED
    if _WATCHED is None:
        _WATCHED = _watched()
    return _WATCHED


def _plain(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def payload(obj) -> dict:
    """The row as the site gets it: every column, plus a pass's plates and a tariff's current version;
    park parameters as the parameters page has them (wherever each is stored, with the city's rules)."""
    entity = watched().get(type(obj))
    if entity == "park_parameters":
        return {"id": obj.id, "park_id": obj.park_id,
                **{k: _plain(v) for k, v in parameters_payload(obj.park_id).items()}}
    data = {attr.key: _plain(getattr(obj, attr.key)) for attr in inspect(obj).mapper.column_attrs}
    if entity == "pass":
        data["plates"] = [p.plate for p in obj.plates]
    elif entity == "tariff":
        latest = obj.latest
        data["version"] = None if latest is None else {
            "id": latest.id, "version": latest.version, "kind": latest.kind, "document": latest.document,
            "effective_from": latest.effective_from.isoformat()}
    return data


def _owner(obj):
    """A child row changes its parent's entity (a pass's plates, a tariff's versions)."""
    if isinstance(obj, PassPlate):
        return obj.pass_
    if isinstance(obj, TariffVersion):
        return obj.rule
    return obj


def _linked_parks(session, conn) -> list:
    """(park, city, group, area) ids of every park with a site server: few, read once per transaction
    (a bulk import may flush many times) and again only when the transaction adds or removes a site server."""
    transaction = session.get_transaction()
    cached = session.info.get("sync_linked_parks")
    if cached is not None and cached[0] is transaction and \
            not any(isinstance(obj, SiteServer) for obj in (*session.new, *session.deleted)):
        return cached[1]
    linked = conn.execute(select(Park.id, Park.city_id, Park.group_id, Park.area_id).join(
        SiteServer, SiteServer.park_id == Park.id)).all()
    session.info["sync_linked_parks"] = (transaction, linked)
    return linked


def _by_node(linked: list) -> dict:
    """The linked parks under each node: {("park"|"city"|"group"|"area", id): [park ids]}, built once per flush."""
    index: dict = {}
    for row in linked:
        for level, node_id in (("park", row.id), ("city", row.city_id), ("group", row.group_id),
                               ("area", row.area_id)):
            index.setdefault((level, node_id), []).append(row.id)
    index[("platform", None)] = [row.id for row in linked]
    return index


def _site_parks(index: dict, obj) -> list[int]:
    """Parks with a site server that the object reaches: its park, or every park under the node a
    group- or city-wide row (products, passes) hangs at."""
    level = getattr(obj, "level", None) or "park"
    node_id = None if level == "platform" else getattr(obj, f"{level}_id")
    return index.get((level, node_id), [])


def next_seq(conn, park_id: int, count: int = 1) -> int:
    """Reserve `count` numbers of the park's feed; returns the last one."""
    return conn.execute(update(SiteServer).where(SiteServer.park_id == park_id)
                        .values(last_seq=SiteServer.last_seq + count).returning(SiteServer.last_seq)).scalar_one()


def _collect(session) -> dict:
    models = tuple(watched())
    children = (PassPlate, TariffVersion)
    found: dict = {}
    for obj in session.new:
        if isinstance(obj, models + children):
            owner = _owner(obj)
            if owner is not None:
                found.setdefault((type(owner), owner.id), [owner, "upsert"])
    for obj in session.dirty:
        if isinstance(obj, models + children) and session.is_modified(obj):
            owner = _owner(obj)
            if owner is not None:
                found.setdefault((type(owner), owner.id), [owner, "upsert"])
    for obj in session.deleted:
        if isinstance(obj, models):
            found[(type(obj), obj.id)] = [obj, "delete"]
        elif isinstance(obj, children):
            owner = _owner(obj)
            if owner is not None and owner not in session.deleted:
                found.setdefault((type(owner), owner.id), [owner, "upsert"])
    return found


@event.listens_for(Session, "after_flush")
def _record_changes(session, _context) -> None:
    if not (session.new or session.dirty or session.deleted):
        return
    found = _collect(session)
    if not found:
        return
    conn = session.connection()
    linked = _linked_parks(session, conn)
    if not linked:
        return
    index, rows_by_park = _by_node(linked), {}
    for obj, op in found.values():
        parks = _site_parks(index, obj)
        if not parks:
            continue
        entity = watched()[type(obj)]
        body = payload(obj) if op == "upsert" else None
        for park_id in parks:
            rows_by_park.setdefault(park_id, []).append((entity, obj.id, op, body))
    now, rows = utcnow(), []
    for park_id in sorted(rows_by_park):  # one lock order for every writer: no deadlock between two edits
        changes = rows_by_park[park_id]
        first = next_seq(conn, park_id, len(changes)) - len(changes) + 1
        rows += [{"park_id": park_id, "seq": first + i, "entity": entity, "entity_id": entity_id, "op": op,
                  "payload": body, "created_at": now} for i, (entity, entity_id, op, body) in enumerate(changes)]
    if rows:
        conn.execute(insert(SyncChange), rows)


# --- reading the feed ---------------------------------------------------------------------------

def _covering(model, park):
    """Rows of an anchored model (products, passes) that apply at `park`."""
    return or_(model.level == "platform", *(
        (model.level == level) & (getattr(model, f"{level}_id") == getattr(park, f"{level}_id"))
        for level in ("city", "group", "area", "park") if getattr(park, f"{level}_id", None) is not None))


def snapshot(session, park) -> list[dict]:
    """Every row the site needs, as upserts (for a new site, or one behind what the feed keeps)."""
    params = park_parameters(park.id)  # a park that never saved its parameters gets the defaults
    items = [{"entity": "park_parameters", "entity_id": params.id, "op": "upsert", "payload": payload(params)}]
    for model, entity in watched().items():
        if model is ParkParameters:
            continue
        clause = _covering(model, park) if hasattr(model, "level") else (
            model.park_id == park.id if hasattr(model, "park_id") else true())
        for obj in session.scalars(select(model).where(clause).order_by(model.id)):
            items.append({"entity": entity, "entity_id": obj.id, "op": "upsert", "payload": payload(obj)})
    return items


def first_retained(session, park_id: int) -> int | None:
    return session.scalar(select(SyncChange.seq).where(SyncChange.park_id == park_id)
                          .order_by(SyncChange.seq).limit(1))


def changes_after(session, site: SiteServer, after: int, limit: int) -> dict:
    """The next changes after the site's cursor, in order; a full snapshot for cursor 0, for a cursor
    older than what is kept, or for a cursor ahead of the feed (a site restored from an old backup
    of the cloud must not skip anything)."""
    last = session.scalar(select(SiteServer.last_seq).where(SiteServer.id == site.id))
    first = first_retained(session, site.park_id)
    behind = after < first - 1 if first is not None else after < last  # what it missed is pruned
    if after <= 0 or after > last or behind:
        park = session.get(Park, site.park_id)
        return {"snapshot": True, "seq": last, "changes": snapshot(session, park), "more": False}
    rows = session.scalars(select(SyncChange).where(SyncChange.park_id == site.park_id, SyncChange.seq > after)
                           .order_by(SyncChange.seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"snapshot": False, "seq": rows[-1].seq if rows else after, "more": more,
            "changes": [{"seq": r.seq, "entity": r.entity, "entity_id": r.entity_id, "op": r.op,
                         "payload": r.payload} for r in rows]}


def prune(session, now, keep=FEED_KEEP) -> int:
    """Drop changes every site has acknowledged and that are older than `keep`; a site restored from
    an old backup of its own then gets a snapshot instead (see `changes_after`)."""
    acked = select(SiteServer.acked_seq).where(SiteServer.park_id == SyncChange.park_id).scalar_subquery()
    return session.execute(delete(SyncChange).where(SyncChange.seq <= acked, SyncChange.created_at < now - keep)
                           .execution_options(synchronize_session=False)).rowcount


def ack(session, site: SiteServer, seq: int, now) -> int:
    """The site applied everything up to `seq`: its acknowledged position moves forward, never back."""
    last = session.scalar(select(SiteServer.last_seq).where(SiteServer.id == site.id))
    if seq > last:
        raise Invalid("ack_ahead", "This position is beyond the feed.", {"seq": f"at most {last}"})
    if seq > site.acked_seq:
        site.acked_seq, site.acked_at = seq, now
    return site.acked_seq
