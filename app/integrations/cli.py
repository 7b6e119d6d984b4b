"""`flask alliance-sim` (the loopback alliance) and `flask outbox deliver|status`."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("alliance-sim")
@click.option("--port", default=8765, show_default=True)
@click.option("--union-id", default="demo-vendor", show_default=True)
@click.option("--key", default="demo-alliance-key", show_default=True)
@click.option("--platform", default="http://127.0.0.1:5000", show_default=True,
              help="Where payment notices go (the platform's address).")
@click.option("--webhook-secret", default="whsec_demo-receiver", show_default=True,
              help="The secret of the webhook subscription that posts to /_sim/webhook.")
def alliance_sim_command(port, union_id, key, platform, webhook_secret):
    """Serve the alliance simulator on loopback until interrupted."""
    from werkzeug.serving import run_simple

    from app.integrations.sim import AllianceSim

    click.echo(f"alliance simulator on http://127.0.0.1:{port}/ (vendor {union_id}); notices go to {platform}")
    run_simple("127.0.0.1", port, AllianceSim(union_id, key, platform, webhook_secret), threaded=True)


@click.group("outbox")
def outbox_cli():
    """The outbox of events that leave the platform."""


@outbox_cli.command("deliver")
@with_appcontext
def deliver_command():
    """Deliver every due message now (what the worker does every minute)."""
    from app.integrations.tasks import run_delivery

    click.echo(run_delivery())


@outbox_cli.command("status")
@with_appcontext
def status_command():
    """Messages by state."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.integrations.models import OutboxMessage

    for state, count in db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)):
        click.echo(f"{state}: {count}")
