"""Two languages: the zh_CN catalogue covers every text, the page language follows the person's
choice, then the browser, then the default; codes are shown as words in both languages."""
from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from babel.messages.catalog import Catalog

from app.core.labels import LABELS, label
from app.core.templating import money
from app.i18n import catalogue
from app.staff.models import Staff
from tests.factories import PASSWORD

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


# ---------------------------------------------------------------------------------------- catalogues

def test_every_extracted_message_has_a_chinese_translation_with_the_same_placeholders():
    """Extracts from the code and templates now (as `make translations` does) and compares with the
    committed zh_CN .po: a new English text without its translation fails here."""
    template = catalogue.extract()
    assert len(template) > 1000
    assert catalogue.problems(template, catalogue.load("zh_CN")) == []


def test_the_check_finds_a_missing_fuzzy_empty_or_misplaced_translation():
    zh = catalogue.load("zh_CN")
    template = Catalog()
    template.add("A text nobody translated yet")
    template.add("Sign in")
    template.add("Berth %(number)s saved.")
    assert catalogue.problems(template, zh) == ["missing: A text nobody translated yet"]
    broken = Catalog(locale="zh_CN")
    broken.add("Sign in", "")
    broken.add("Berth %(number)s saved.", "泊位已保存。")
    found = catalogue.problems(template, broken)
    assert "untranslated: Sign in" in found and "placeholders differ: Berth %(number)s saved." in found
    broken.get("Sign in").string, broken.get("Sign in").flags = "登录", {"fuzzy"}
    assert "fuzzy: Sign in" in catalogue.problems(template, broken)


def test_english_catalogue_holds_every_message():
    en = catalogue.load("en")
    missing = [m.id for m in catalogue.extract() if m.id and en.get(m.id) is None]
    assert missing == []


# ---------------------------------------------------------------------------------- choosing a locale

@pytest.mark.parametrize("header", ["zh-CN", "zh", "zh-Hans", "zh-Hans-CN,en;q=0.5", "zh-TW"])
def test_a_chinese_browser_gets_chinese_pages(client, header):
    body = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in body
    assert "登录 ParkingOS" in body and "Sign in to ParkingOS" not in body


def test_no_header_or_another_language_gets_the_default(client, app):
    assert "Sign in to ParkingOS" in client.get("/login").get_data(as_text=True)
    assert "Sign in to ParkingOS" in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    app.config["DEFAULT_LOCALE"] = "zh_CN"
    try:
        assert "登录 ParkingOS" in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert "Sign in to ParkingOS" in client.get("/login", headers=EN).get_data(as_text=True)
    finally:
        app.config["DEFAULT_LOCALE"] = "en"


def _csrf(client, path="/login", headers=None) -> str:
    body = client.get(path, headers=headers or {}).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)


@pytest.fixture
def csrf_on(app):
    """CSRF checked as in production (the suite turns it off); sign in with `client_as` before using it."""
    def enable():
        app.config["WTF_CSRF_ENABLED"] = True
    yield enable
    app.config["WTF_CSRF_ENABLED"] = False


def test_switch_before_sign_in_keeps_the_choice_in_the_session(app, tree, csrf_on):
    csrf_on()
    client = app.test_client()
    assert client.post("/locale", data={"locale": "zh_CN", "next": "/login"}).status_code == 400  # no token
    response = client.post("/locale", data={"locale": "zh_CN", "next": "/login", "csrf_token": _csrf(client)},
                           headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "登录 ParkingOS" in client.get("/login", headers=EN).get_data(as_text=True)  # the choice beats the header
    response = client.post("/login", data={"username": "parkp1", "password": PASSWORD,
                                           "csrf_token": _csrf(client)}, headers=EN)
    assert response.status_code == 302
    assert "数据中心" in client.get("/", headers=EN).get_data(as_text=True)
    assert client.post("/locale", data={"locale": "fr", "csrf_token": _csrf(client, "/")}).status_code == 400


def test_switch_when_signed_in_saves_the_choice_on_the_staff_row(app, tree, client_as, db, csrf_on):
    client = client_as("parkp1")
    other = client_as("parkp1")
    csrf_on()
    token = _csrf(client, "/", headers=ZH)
    response = client.post("/locale", data={"locale": "en", "next": "/staff/?q=x", "csrf_token": token},
                           headers=ZH)
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/?q=x")
    assert db.session.get(Staff, tree.staff["parkp1"].id).locale == "en"
    assert "Dashboard" in client.get("/", headers=ZH).get_data(as_text=True)  # saved choice beats the header
    # the choice follows the person to a new session, on another browser without a header
    assert client.post("/locale", data={"locale": "zh_CN", "csrf_token": _csrf(client, "/")}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Staff, tree.staff["parkp1"].id).locale == "zh_CN"
    body = other.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body and "数据中心" in body


def test_the_switch_is_in_the_header_and_marks_the_current_language(client):
    body = client.get("/login", headers=ZH).get_data(as_text=True)
    switch = re.search(r'<form[^>]*id="language-switch".*?</form>', body, re.S).group(0)
    assert 'action="/locale"' in switch and 'name="csrf_token"' in switch
    assert re.search(r'value="zh_CN"[^>]*\n?[^>]*btn-light"[^>]*aria-pressed="true"', switch)
    assert "中文" in switch and "English" in switch


# ------------------------------------------------------------------------------ words instead of codes

def test_audit_log_shows_actions_objects_and_levels_as_words(tree, client_as):
    client_as("parkp1")
    body = client_as("groupa1").get("/audit?action=login", headers=ZH).get_data(as_text=True)
    table = re.search(r'id="audit-table".*?</table>', body, re.S).group(0)
    assert "登录" in table and "员工" in table and "车场" in table
    assert ">login<" not in table and "Staff" not in table and ">park<" not in table
    english = client_as("groupa1").get("/audit?action=login").get_data(as_text=True)
    assert "Signed in" in english and "Staff member" in english


def test_every_audit_action_written_in_the_code_has_a_label():
    written = set()
    action = r"f?\"([a-z_{}]+)\""
    for path in Path(__file__).resolve().parents[1].joinpath("app").rglob("*.py"):
        # record(actor, "create" if creating else "update", ...): the literals before and after the condition
        for call in re.finditer(rf"record\((?:[^,()]|\([^()]*\))+,\s*{action}(?:\s+if\s+[^,]+?\s+else\s+{action})?",
                                path.read_text()):
            written.update(a for a in call.groups() if a)
    fixed = {a for a in written if "{" not in a}
    assert {"create", "login_failed", "whitewash", "settle", "sensor_escape"} <= fixed
    assert sorted(fixed - set(LABELS["audit_action"])) == []


def test_every_model_has_an_object_type_label(app):
    from app.extensions import db as sqla

    names = {mapper.class_.__name__ for mapper in sqla.Model.registry.mappers}
    internal = {"RolePermission", "IdempotentRequest", "SyncChange", "SyncNonce", "TrackPoint", "LastPosition",
                "RollupDay", "RollupDirty", "RollupIncome", "RollupIncomePark", "RollupCarsIn", "RollupCarsOut",
                "RollupArrears", "RollupHourly"}  # the rollups: sums no page names
    assert sorted(names - internal - set(LABELS["object_type"])) == []


def test_role_editor_and_role_list_show_permission_words(tree, client_as):
    client = client_as("citya")
    page = client.get("/roles/new?kind=admin&target_level=park", headers=ZH).get_data(as_text=True)
    form = re.search(r'id="role-form".*?</form>', page, re.S).group(0)
    visible = re.sub(r"<[^>]+>", " ", form)
    assert "members.renew" not in visible and "续费" in visible and "月卡会员" in visible
    assert 'value="members.renew"' in form  # the code stays the form's value


def test_labels_fall_back_to_the_code_and_money_has_its_sign(app):
    with app.test_request_context(headers=ZH):
        assert label("login_failed", "audit_action") == "登录失败"
        assert label("a_code_nobody_named", "audit_action") == "a_code_nobody_named"
    assert money(123456) == "¥1234.56" and money(-5) == "-¥0.05" and money(None) == "—"


def test_engine_messages_and_fee_lines_are_translated(app):
    from app.tariffs.engine import RuleError, parse_rule
    from app.tariffs.labels import fee_line_label

    with app.test_request_context(headers=ZH):
        with pytest.raises(RuleError) as exc:
            parse_rule({"kind": "parkingos", "day": {"b_time": 21, "e_time": 7, "unit": 15, "price": 1.5}})
        messages = " ".join(exc.value.fields.values())
        assert "日间结束时间必须晚于开始时间" in messages and "元金额" in messages
        assert fee_line_label({"kind": "first_period", "label": "day: first period (首优惠时段)"}) == "日间：首优惠时段"
        assert fee_line_label({"kind": "cap", "label": "daily cap (每日封顶)"}) == "每日封顶"
        assert fee_line_label({"kind": "band", "label": "peak hours"}) == "peak hours"  # a name the park gave


def test_dates_are_typed_as_yyyy_mm_dd_whatever_the_browser(tree, client_as):
    body = client_as("parkp1").get("/audit", headers=ZH).get_data(as_text=True)
    assert 'type="date"' not in body
    assert re.search(r'<input[^>]*id="date_from"[^>]*pattern="[^"]+"[^>]*placeholder="YYYY-MM-DD"', body) or \
        re.search(r'<input[^>]*placeholder="YYYY-MM-DD"[^>]*id="date_from"', body)
    assert client_as("parkp1").get("/audit?date_from=2026-3-1").status_code == 200


# ------------------------------------------------------------------------------------------- exports

def _sheet(response):
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    return wb, [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("inline", [True, False])
def test_export_is_written_in_the_requesters_language_also_by_the_worker(tree, client_as, app, inline):
    client_as("parkp1")
    client = client_as("groupa1")
    app.config["EXPORT_INLINE_MAX_ROWS"] = 5000 if inline else 0
    try:
        response = client.post("/exports/new/audit?action=login", headers=ZH)
        job_url = response.headers["Location"]
        status = client.get(job_url + "/status", headers=ZH).get_json()
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = 5000
    assert status["state"] == "done" and status["state_label"] == "已完成"
    wb, rows = _sheet(client.get(status["download_url"]))
    assert wb.sheetnames == ["操作日志"]
    assert rows[0][:6] == ["时间", "操作人", "操作", "对象", "层级", "IP"]
    assert {r[2] for r in rows[1:]} == {"登录"} and {r[6] for r in rows[1:]} == {"login"}
    from app.exports.models import ExportJob
    from app.extensions import db

    with app.app_context():
        assert db.session.get(ExportJob, int(job_url.rstrip("/").rsplit("/", 1)[1])).locale == "zh_CN"
