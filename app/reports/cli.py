"""CLI: `flask reports rebuild --from YYYY-MM-DD --to YYYY-MM-DD [--park ID ...]` rebuilds the daily
rollups of a range (after an upgrade, to backfill the history; after a repair done outside the app)."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup, with_appcontext

reports_cli = AppGroup("reports", help="Report rollups.")


@reports_cli.command("rebuild")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First local day.")
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last local day.")
@click.option("--park", "parks", multiple=True, type=int, help="Only these parks (default: all).")
@with_appcontext
def rebuild_command(date_from, date_to, parks):
    """Rebuild the daily rollups of every closed day of the range (a day commits on its own)."""
    from app.reports.rollups import rebuild

    first: date = date_from.date()
    last: date = date_to.date()
    if last < first:
        raise click.BadParameter("--to is before --from")
    built = rebuild(first, last, list(parks) or None)
    click.echo(f"rebuilt {built} park-days from {first} to {last}")
