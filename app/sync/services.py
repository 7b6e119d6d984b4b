"""The link's rules: site servers and their secrets, request authentication, heartbeats and barrier
commands. Plain functions; the caller commits."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, and_, delete, func, or_, select

from app.audit.services import record
from app.core.bulk import insert_ignore
from app.core.errors import Conflict, Invalid, NotFound, Refused, Unauthorized
from app.core.types import utcnow
from app.extensions import db
from app.lanes.services import is_online, online_since, record_heartbeat
from app.sync import signing
from app.sync.models import BarrierCommand, LaneUpload, SiteServer, SyncNonce
from app.tenancy.models import Park, ParkKind

CLOCK_SKEW = timedelta(seconds=300)
ACTIONS = ("lift", "lower")
COMMAND_STATES = ("queued", "delivered", "done", "failed")


class LinkError(Refused, ValueError):
    """A refusal shown on an admin form."""
    code = "link_refused"


def link_down(now: datetime):
    """A site set up but not heard from (heartbeat, upload or acknowledgement) within the online window, as
    `link_statuses` says; a park without a site is not set up, not down."""
    since = online_since(now)
    recent_upload = select(LaneUpload.id).where(LaneUpload.park_id == SiteServer.park_id,
                                                LaneUpload.received_at >= since).exists()
    return and_(or_(SiteServer.last_heartbeat_at.is_(None), SiteServer.last_heartbeat_at < since),
                or_(SiteServer.acked_at.is_(None), SiteServer.acked_at < since), ~recent_upload)


def site_of(park_id: int) -> SiteServer | None:
    return db.session.scalar(select(SiteServer).where(SiteServer.park_id == park_id))


def _new_secret() -> str:
    return "sk_" + secrets.token_urlsafe(32)


def create_site_server(actor, park: Park, *, ip: str | None = None) -> tuple[SiteServer, str]:
    """The park's on-site server and its first secret (returned once, to show once)."""
    if park.kind != ParkKind.OFF_STREET.value:
        raise LinkError(_("Only off-street parks have an on-site server."))
    if site_of(park.id) is not None:
        raise LinkError(_("This park already has an on-site server; rotate its secret instead."))
    secret = _new_secret()
    site = SiteServer(park_id=park.id, secret=secret, secret_hint=secret[-4:], secret_rotated_at=utcnow())
    db.session.add(site)
    db.session.flush()
    record(actor, "create", site, anchor=park, label=f"{park.name} on-site server",
           after={"park_id": park.id, "secret_hint": site.secret_hint}, ip=ip)
    return site, secret


def rotate_secret(actor, site: SiteServer, *, ip: str | None = None) -> str:
    """A new secret; the old one stops working at once."""
    before = {"secret_hint": site.secret_hint}
    secret = _new_secret()
    site.secret, site.secret_hint, site.secret_rotated_at = secret, secret[-4:], utcnow()
    park = db.session.get_one(Park, site.park_id)
    record(actor, "rotate_secret", site, anchor=park, label=f"{park.name} on-site server", before=before,
           after={"secret_hint": site.secret_hint}, ip=ip)
    return secret


# --- authentication of /sync/v1 requests -----------------------------------------------------------

def authenticate(method: str, path: str, headers, body: bytes, now: datetime) -> SiteServer:
    """The site server that signed this request, or Unauthorized with a code saying why."""
    park_raw, stamp = headers.get(signing.PARK_HEADER, ""), headers.get(signing.TIME_HEADER, "")
    nonce, sent = headers.get(signing.NONCE_HEADER, ""), headers.get(signing.SIGNATURE_HEADER, "")
    if not (park_raw and stamp and nonce and sent):
        raise Unauthorized("signature_missing", "Sign the request: X-Park-Id, X-Timestamp, X-Request-Id and "
                                                "X-Signature are required.")
    if not park_raw.isdigit() or len(park_raw) > 10 or not stamp.isdigit() or len(stamp) > 12 \
            or not 8 <= len(nonce) <= 64 or not nonce.isascii():
        raise Unauthorized("signature_malformed", "A signature header is malformed.")
    site = db.session.scalar(select(SiteServer).where(SiteServer.park_id == int(park_raw)))
    if site is None:
        raise Unauthorized("unknown_park", "This park has no on-site server in the cloud.")
    if abs(now.timestamp() - int(stamp)) > CLOCK_SKEW.total_seconds():
        raise Unauthorized("stale_timestamp", "The request time is more than 300 s away from the cloud's: "
                                              "check the site's clock.", extra={"server_time": int(now.timestamp())})
    expected = signing.signature(site.secret, method, path, stamp, nonce, body)
    if not hmac.compare_digest(expected, sent.lower()):
        raise Unauthorized("bad_signature", "The signature does not match: wrong secret or altered request.")
    remember_nonce(site.park_id, nonce, now)
    return site


def remember_nonce(park_id: int, nonce: str, now: datetime) -> None:
    """Each request id is accepted once inside the window (a later copy fails the timestamp check)."""
    stored = db.session.execute(insert_ignore(SyncNonce.__table__).values(park_id=park_id, nonce=nonce, seen_at=now)
                                .returning(SyncNonce.id)).first()
    if stored is None:
        raise Unauthorized("replayed_request", "This request was already received.")


def forget_old_nonces(now: datetime) -> int:
    done = cast(CursorResult, db.session.execute(delete(SyncNonce).where(SyncNonce.seen_at < now - 2 * CLOCK_SKEW)))
    return done.rowcount


# --- heartbeats -----------------------------------------------------------------------------------

DEVICE_KINDS = ("booth", "lane", "camera", "barrier", "led", "monitor")


def heartbeat(site: SiteServer, version: str | None, devices: dict, ip: str | None, now: datetime) -> dict:
    """The site is alive; the devices it lists answered it. Returns ids the cloud does not know."""
    site.version, site.ip, site.last_heartbeat_at = version, ip, now
    site.device_status = devices
    unknown = record_heartbeat(site.park_id, devices, now)
    forget_old_nonces(now)
    return unknown


# --- the link's state, from what the link writes ----------------------------------------------------

@dataclass(frozen=True)
class LinkStatus:
    """What the link pages and the command rule say of a site, read from the records its requests write:
    the heartbeat (site_servers), the uploads (lane_uploads) and the feed acknowledgements."""

    last_heartbeat_at: datetime | None
    last_upload_at: datetime | None
    acked_at: datetime | None
    last_contact_at: datetime | None
    feed_seq: int
    acked_seq: int
    online: bool

    @property
    def waiting(self) -> int:
        """Changes written to the feed that the site has not confirmed yet."""
        return max(self.feed_seq - self.acked_seq, 0)


def link_statuses(sites, now: datetime) -> dict[int, LinkStatus]:
    """Park id -> the status of its site. Online: the site was heard (heartbeat, upload or acknowledgement)
    within the window."""
    sites = list(sites)
    ids = [s.park_id for s in sites]
    uploads = dict(db.session.execute(select(LaneUpload.park_id, func.max(LaneUpload.received_at))
                                      .where(LaneUpload.park_id.in_(ids)).group_by(LaneUpload.park_id)).all()) \
        if ids else {}
    statuses = {}
    for site in sites:
        upload = uploads.get(site.park_id)
        contact = max((t for t in (site.last_heartbeat_at, upload, site.acked_at) if t), default=None)
        statuses[site.park_id] = LinkStatus(site.last_heartbeat_at, upload, site.acked_at, contact, site.last_seq,
                                            site.acked_seq, is_online(contact, now))
    return statuses


def link_status(site: SiteServer | None, now: datetime) -> LinkStatus | None:
    return None if site is None else link_statuses([site], now)[site.park_id]


# --- barrier commands -----------------------------------------------------------------------------

def queue_command(actor, lane, action: str, reason: str | None, *, ip: str | None = None) -> BarrierCommand:
    """远程抬杆/落杆: asked from the admin, fetched by the site on its next pull."""
    if action not in ACTIONS:
        raise LinkError(_("Lift or lower."), "action")
    site = site_of(lane.park_id)
    if site is None:
        raise LinkError(_("This park has no on-site server to send the command to."))
    refusal = command_refusal(link_status(site, utcnow()))
    if refusal:
        raise LinkError(refusal)
    command = BarrierCommand(park_id=lane.park_id, lane_id=lane.id, action=action, state="queued",
                             reason=(reason or "").strip() or None, requested_by_id=getattr(actor, "id", None),
                             requested_at=utcnow())
    db.session.add(command)
    db.session.flush()
    record(actor, f"barrier_{action}", command, anchor=db.session.get(Park, lane.park_id),
           label=f"{lane.name}: {action}", after={"lane_id": lane.id, "action": action, "reason": command.reason},
           ip=ip)
    return command


def command_refusal(status: LinkStatus | None) -> str | None:
    """Why a barrier command cannot be sent now, or None: a command to a silent site would wait unseen and
    lift a barrier whenever the link comes back."""
    if status is None:
        return _("This park has no on-site server to send the command to.")
    if not status.online:
        return _("The on-site link is offline: the site has not been heard from for more than five minutes, "
                 "so a command could not reach the barrier.")
    return None


def pending_commands(site: SiteServer, now: datetime) -> list[dict]:
    """Commands the site has not answered yet; handed out again until it does (it acts on each id once)."""
    rows = db.session.scalars(select(BarrierCommand).where(
        BarrierCommand.park_id == site.park_id, BarrierCommand.state.in_(("queued", "delivered")))
        .order_by(BarrierCommand.id).limit(50)).all()
    for command in rows:
        if command.state == "queued":
            command.state, command.delivered_at = "delivered", now
    return [command_dict(c) for c in rows]


def command_dict(c: BarrierCommand) -> dict:
    return {"id": c.id, "lane_id": c.lane_id, "action": c.action, "reason": c.reason, "state": c.state,
            "requested_at": c.requested_at.isoformat(), "result_message": c.result_message}


def command_result(site: SiteServer, command_id: int, ok: bool, message: str | None, now: datetime) -> BarrierCommand:
    command = db.session.scalar(select(BarrierCommand).where(BarrierCommand.id == command_id,
                                                             BarrierCommand.park_id == site.park_id))
    if command is None:
        raise NotFound("command_not_found", "No such command for this park.")
    state = "done" if ok else "failed"
    if command.state in ("done", "failed"):
        if command.state != state:
            raise Conflict("command_finished", f"This command is already {command.state}.")
        return command  # the same answer again: nothing changes
    command.state, command.result_at, command.result_message = state, now, (message or "")[:200] or None
    command.delivered_at = command.delivered_at or now
    record(None, f"barrier_{command.action}_{state}", command, anchor=db.session.get(Park, site.park_id),
           label=f"lane {command.lane_id}: {command.action} {state}",
           after={"state": state, "message": command.result_message})
    return command


def check_ack(seq) -> int:
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise Invalid("validation_failed", "Send the last position applied.", {"seq": "a whole number >= 0"})
    return seq
