"""`flask tariff quote` on a bare Flask app (independent of the app factory)."""
import json

import flask
import pytest

from app.tariffs.cli import tariff_cli
from cases_parkingos import RULES


@pytest.fixture()
def run(tmp_path):
    app = flask.Flask(__name__)
    app.cli.add_command(tariff_cli)
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps(RULES["dn_15m1.5_60m1"]))

    def invoke(*args, rule_path=str(rule)):
        return app.test_cli_runner().invoke(args=["tariff", "quote", "--rule", rule_path, *args])
    invoke.tmp = tmp_path
    return invoke


def test_quote_prints_one_json_object(run):
    result = run("--entered", "2018-06-20T21:01:00+08:00", "--left", "2018-06-21T13:01:00+08:00")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_fen"] == 4750
    assert sum(line["amount_fen"] for line in data["lines"]) == 4750


def test_naive_times_with_tz(run):
    result = run("--entered", "2018-06-20T20:00", "--left", "2018-06-21T08:00", "--tz", "Asia/Shanghai")
    assert result.exit_code == 0 and json.loads(result.stdout)["total_fen"] == 2200


def test_naive_times_without_tz_refused(run):
    result = run("--entered", "2018-06-20T20:00", "--left", "2018-06-21T08:00")
    assert result.exit_code != 0 and "--tz" in result.stderr


def test_unparseable_time(run):
    result = run("--entered", "yesterday", "--left", "2018-06-21T08:00+08:00")
    assert result.exit_code != 0 and "ISO 8601" in result.stderr


def test_bad_rule_file(run):
    bad = run.tmp / "bad.json"
    bad.write_text(json.dumps({"kind": "parkingos", "day": {"b_time": 7, "e_time": 21, "price": "1"}}))
    result = run("--entered", "2018-06-20T20:00+08:00", "--left", "2018-06-20T21:00+08:00", rule_path=str(bad))
    assert result.exit_code != 0
    assert "day.unit" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_rule_file_not_json(run):
    bad = run.tmp / "bad.json"
    bad.write_text("{nope")
    result = run("--entered", "2018-06-20T20:00+08:00", "--left", "2018-06-20T21:00+08:00", rule_path=str(bad))
    assert result.exit_code != 0 and "not valid JSON" in result.stderr


def test_missing_rule_file(run):
    result = run("--entered", "2018-06-20T20:00+08:00", "--left", "2018-06-20T21:00+08:00",
                 rule_path=str(run.tmp / "missing.json"))
    assert result.exit_code != 0 and "cannot read" in result.stderr


def test_unknown_time_zone(run):
    result = run("--entered", "2018-06-20T20:00", "--left", "2018-06-20T21:00", "--tz", "Mars/Olympus")
    assert result.exit_code != 0 and "time zone" in result.stderr


def test_pass_and_vehicle(run):
    spec = run.tmp / "pass.json"
    spec.write_text(json.dumps({"kind": "night_window", "start": "21:00", "end": "07:00"}))
    result = run("--entered", "2018-06-20T20:00+08:00", "--left", "2018-06-21T08:00+08:00",
                 "--pass", str(spec), "--vehicle", "large")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total_fen"] == 1200
