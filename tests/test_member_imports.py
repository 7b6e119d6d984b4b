"""Excel imports of passes, white and black lists: all or nothing, with a per-row report."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.members import imports, services
from app.members.models import MonthlyPass, PassRenewal
from app.orders.models import LedgerEntry, PlateListEntry

PASS_HEADERS = ["Selling park", "Product", "Holder name", "Phone", "Plates", "Start date", "Months",
                "Amount paid (yuan)", "Payment method", "Note"]
LIST_HEADERS = ["Park", "Plate", "Reason", "Valid from", "Valid until"]


def xlsx(headers, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def products(db, tree):
    park = services.save_product(None, None, services.ProductValues(anchor=tree.p1, name="Street monthly",
                                                                    kind="all_day", price_fen=30000))
    group = services.save_product(None, None, services.ProductValues(anchor=tree.a1, name="Group wide",
                                                                     kind="all_day", price_fen=50000))
    db.session.commit()
    return park, group


def upload(client, url, data: bytes, name="passes.xlsx"):
    return client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_a_good_pass_import(db, tree, products, client_as):
    data = xlsx(PASS_HEADERS, [
        ["Alpha Street One", "Street monthly", "Zhang San", "13800000000", "沪A12345, 沪B67890", "2025-01-01", 3, "",
         "cash", "imported"],
        ["Alpha Street Two", "Group wide", "Li Si", None, "沪C11111", datetime(2025, 2, 1), 1.0, 450.5, "card", None],
        ["Alpha Street One", "Group wide", "Wang Wu", None, "沪D22222", "2025/03/01", "2", 0, "现金", None],
    ])
    response = upload(client_as("groupa1"), "/members/import/passes", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    passes = {p.holder_name: p for p in db.session.scalars(select(MonthlyPass))}
    assert set(passes) == {"Zhang San", "Li Si", "Wang Wu"}
    assert passes["Zhang San"].ends_on == date(2025, 3, 31) and passes["Zhang San"].park_id == tree.p1.id
    assert passes["Li Si"].level == "group"
    paid = dict(db.session.execute(select(PassRenewal.pass_id, PassRenewal.paid_fen)).all())
    assert paid[passes["Zhang San"].id] == 90000 and paid[passes["Li Si"].id] == 45050
    assert paid[passes["Wang Wu"].id] == 0
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen))) == 90000 + 45050
    assert count(db, LedgerEntry) == 2  # the free one moved no money


def test_bad_rows_import_nothing_and_are_reported(db, tree, products, client_as):
    client = client_as("groupa1")
    services.sell_pass(tree.staff["groupa1"], product=products[0], selling_park=tree.p1, holder_name="Existing",
                       phone=None, plates="沪E55555", starts_on=date(2025, 1, 1), months=1)
    db.session.commit()
    data = xlsx(PASS_HEADERS, [
        ["Alpha Street One", "Street monthly", "Good Row", None, "沪A12345", "2025-01-01", 1, None, "cash", None],
        ["Alpha Garage Three", "Street monthly", "Foreign park", None, "沪A22222", "2025-01-01", 1, None, None, None],
        ["Alpha Street One", "No such product", "X", None, "沪A33333", "2025-01-01", 1, None, None, None],
        ["Alpha Street One", "Street monthly", "", None, "bad!", "someday", 40, "1.234", "bitcoin", None],
        ["Alpha Street One", "Street monthly", "Dup", None, "沪A12345", "2025-01-15", 1, None, None, None],
        ["Alpha Street One", "Street monthly", "Overlap", None, "沪E55555", "2025-01-20", 1, None, None, None],
        ["Alpha Street One", "Street monthly", "Too much", None, "沪F66666", "2025-01-01", 1, 300.01, None, None],
    ])
    response = upload(client, "/members/import/passes", data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert count(db, MonthlyPass) == 1 and count(db, PassRenewal) == 1 and count(db, LedgerEntry) == 1
    report = imports.import_passes(tree.staff["groupa1"], _scope(tree, "groupa1"), data)
    assert report.imported == 0 and count(db, MonthlyPass) == 1
    by_row = {}
    for e in report.errors:
        by_row.setdefault(e.row, set()).add(e.column)
    assert 2 not in by_row                      # the good row is not refused, yet not imported
    assert by_row[3] == {"Selling park"}
    assert by_row[4] == {"Product"}
    assert by_row[5] == {"Holder name", "Plates", "Start date", "Months", "Amount paid (yuan)", "Payment method"}
    assert by_row[6] == {"Plates"} and by_row[7] == {"Plates"} and by_row[8] == {"Amount paid (yuan)"}
    messages = {(e.row, e.message) for e in report.errors}
    assert (6, "Repeats row 2 of this file (same plate, park and dates).") in messages
    assert any(row == 7 and "already has an active pass" in m for row, m in messages)
    assert "Repeats row 2" in body and "Nothing was imported" in body


def _scope(tree, username):
    from app.tenancy.scope import Scope

    return Scope.of(tree.staff[username])


def test_file_level_refusals(db, tree, products, client_as):
    client = client_as("groupa1")
    assert upload(client, "/members/import/passes", b"not a zip").status_code == 400
    wrong = upload(client, "/members/import/passes", xlsx(["Foo", "Bar"], [["a", "b"]]))
    assert wrong.status_code == 400 and "missing" in wrong.get_data(as_text=True)
    empty = upload(client, "/members/import/passes", xlsx(PASS_HEADERS, []))
    assert empty.status_code == 400
    assert client.post("/members/import/passes", data={}).status_code == 400
    big = xlsx(PASS_HEADERS, [["Alpha Street One", "Street monthly", "H", None, f"沪A{n:05d}", "2025-01-01", 1,
                               None, None, None] for n in range(imports.MAX_ROWS + 1)])
    too_many = upload(client, "/members/import/passes", big)
    assert too_many.status_code == 400 and "5,000" in too_many.get_data(as_text=True)
    with pytest.raises(imports.FileRefused):
        imports.read_rows(b"x" * (imports.MAX_BYTES + 1), "passes")
    assert count(db, MonthlyPass) == 0


def test_template_downloads_and_round_trips_headers(db, tree, client_as):
    client = client_as("groupa1")
    for kind, headers in (("passes", PASS_HEADERS), ("white", LIST_HEADERS), ("black", LIST_HEADERS)):
        response = client.get(f"/members/import/{kind}?template=1")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
        assert [c for c in next(sheet.iter_rows(values_only=True))] == headers
    assert "template=1" in client.get("/members/import/passes").get_data(as_text=True)


def test_list_imports(db, tree, client_as):
    client = client_as("parkp1")
    bad = xlsx(LIST_HEADERS, [
        ["Alpha Street One", "沪K11111", "Unpaid", None, None],
        ["Alpha Street One", "沪K11111", "Again", None, None],        # repeats row 2
        ["Alpha Street Two", "沪K22222", "Not my park", None, None],  # outside the scope
        ["Alpha Street One", "沪K33333", "", None, None],             # a black entry needs a reason
    ])
    response = upload(client, "/members/import/black", bad, "black.xlsx")
    assert response.status_code == 400 and count(db, PlateListEntry) == 0
    body = response.get_data(as_text=True)
    assert "Repeats row 2" in body and "No park named" in body and "Say why" in body
    good = xlsx(LIST_HEADERS, [["Alpha Street One", "沪K11111", "Unpaid", None, None],
                               ["Alpha Street One", "沪K33333", "Rude", "2025-01-01", None]])
    assert upload(client, "/members/import/black", good, "black.xlsx").status_code == 302
    white = xlsx(LIST_HEADERS, [["Alpha Street One", "沪W11111", "", "2025-01-01", "2025-06-30"],
                                ["Alpha Street One", "沪W11111", "", "2025-07-01", "2025-12-31"]])
    assert upload(client, "/members/import/white", white, "white.xlsx").status_code == 302
    kinds = db.session.execute(select(PlateListEntry.kind, func.count()).group_by(PlateListEntry.kind)).all()
    assert dict(kinds) == {"black": 2, "white": 2}
    assert services.white_listed(tree.p1.id, "沪W11111", datetime(2025, 7, 2, 12).astimezone())


def _lookups(db, tables):
    """Counts the SELECTs that read `tables` while the block runs."""
    from sqlalchemy import event

    seen = []

    def listen(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and any(f"FROM {t}" in statement for t in tables):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", listen)


def test_large_imports_look_up_in_batches_and_still_refuse_per_row(db, tree, products):
    n = 240
    actor = tree.staff["groupa1"]
    services.sell_pass(actor, product=products[1], selling_park=tree.p2, holder_name="Existing", phone=None,
                       plates="沪E00007", starts_on=date(2025, 1, 1), months=12)
    db.session.commit()
    rows = [["Alpha Street One", "Street monthly" if i % 2 else "Group wide", f"Holder {i}", None, f"沪E{i:05d}",
             "2025-02-01", 1, None, "cash", None] for i in range(n)]
    seen, stop = _lookups(db, ("pass_plates", "monthly_passes"))
    report = imports.import_passes(actor, _scope(tree, "groupa1"), xlsx(PASS_HEADERS, rows))
    stop()
    assert len(seen) <= 3, len(seen)  # not one per row
    assert [(e.row, e.column) for e in report.errors] == [(9, "Plates")]  # 沪E00007 has a group pass
    assert "pass #" in report.errors[0].message and count(db, MonthlyPass) == 1
    rows[7][4] = "沪E99999"
    report = imports.import_passes(actor, _scope(tree, "groupa1"), xlsx(PASS_HEADERS, rows))
    assert report.ok and report.imported == n
    db.session.commit()
    assert count(db, MonthlyPass) == n + 1 and count(db, PassRenewal) == n + 1
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen))) == (
        50000 * 12 + (n // 2) * 30000 + (n // 2) * 50000)
    # the white list: one lookup per chunk of plates; a plate already listed is refused on its row
    services.save_list_entry(actor, None, kind="white", park=tree.p1, plate="沪W00003", reason=None,
                             valid_from=None, valid_until=None)
    db.session.commit()
    rows = [["Alpha Street One", f"沪W{i:05d}", "", "2025-01-01", None] for i in range(n)]
    seen, stop = _lookups(db, ("plate_list_entries",))
    report = imports.import_list(actor, _scope(tree, "groupa1"), "white", xlsx(LIST_HEADERS, rows))
    stop()
    assert len(seen) <= 3, len(seen)
    assert [(e.row, e.column) for e in report.errors] == [(5, "Plate")] and count(db, PlateListEntry) == 1
    del rows[3]
    assert imports.import_list(actor, _scope(tree, "groupa1"), "white", xlsx(LIST_HEADERS, rows)).ok
    db.session.commit()
    assert count(db, PlateListEntry) == n
