"""`flask tariff quote`: price one stay from the command line (计费测试)."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from .engine import RuleError, quote
from .engine.clock import get_zone

tariff_cli = AppGroup("tariff", help="Tariff rules: quote a stay with a rule document.")


def _load_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.UsageError(f"cannot read {what} file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{what} file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def _parse_time(text: str, option: str, tz_name: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.UsageError(f"{option} {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        if tz_name is None:
            raise click.UsageError(f"{option} {text!r} has no UTC offset; add one or pass --tz")
        moment = moment.replace(tzinfo=get_zone(tz_name))
    return moment


@tariff_cli.command("quote")
@click.option("--rule", "rule_path", required=True, type=click.Path(dir_okay=False), help="Rule document (JSON).")
@click.option("--entered", required=True, help="Arrival, ISO 8601 (e.g. 2026-05-01T08:00:00+08:00).")
@click.option("--left", required=True, help="Departure, ISO 8601.")
@click.option("--vehicle", default="small", show_default=True, help="Vehicle class or park car-type code.")
@click.option("--tz", "tz_name", default=None, help="Park time zone (IANA); default Asia/Shanghai.")
@click.option("--pass", "pass_path", default=None, type=click.Path(dir_okay=False), help="Pass coverage (JSON).")
def quote_command(rule_path: str, entered: str, left: str, vehicle: str, tz_name: str | None,
                  pass_path: str | None) -> None:
    """Print the fee of one stay as a JSON object (total_fen and lines)."""
    if tz_name is not None:
        try:
            get_zone(tz_name)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    doc = _load_json(rule_path, "rule")
    pass_doc = _load_json(pass_path, "pass") if pass_path else None
    entered_at = _parse_time(entered, "--entered", tz_name)
    left_at = _parse_time(left, "--left", tz_name)
    try:
        fee = quote(doc, entered_at, left_at, vehicle_class=vehicle,
                    park_timezone=tz_name or "Asia/Shanghai", pass_=pass_doc)
    except RuleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(fee.to_dict(), ensure_ascii=False))
