"""Excel imports of passes, white and black lists: all or nothing, with a per-row report; hostile and broken
files refused with the form's per-file error; large files through the worker with progress."""
from __future__ import annotations

import io
import random
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from datetime import date, datetime

import pytest
import xlsxwriter
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.members import import_jobs, imports, services
from app.members.models import ImportJob, MonthlyPass, PassRenewal
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
    report = imports.import_file(tree.staff["groupa1"], _scope(tree, "groupa1"), "passes", data)
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
    too_many = upload(client, "/members/import/passes", big)  # past 1,000 rows: the worker reads the rest
    assert too_many.status_code == 302 and "/members/imports/" in too_many.headers["Location"]
    page = client.get(too_many.headers["Location"]).get_data(as_text=True)
    assert "more than 5,000 rows" in page and "failed" in page
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
    report = imports.import_file(actor, _scope(tree, "groupa1"), "passes", xlsx(PASS_HEADERS, rows))
    stop()
    assert len(seen) <= 3, len(seen)  # not one per row
    assert [(e.row, e.column) for e in report.errors] == [(9, "Plates")]  # 沪E00007 has a group pass
    assert "pass #" in report.errors[0].message and count(db, MonthlyPass) == 1
    rows[7][4] = "沪E99999"
    report = imports.import_file(actor, _scope(tree, "groupa1"), "passes", xlsx(PASS_HEADERS, rows))
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
    report = imports.import_file(actor, _scope(tree, "groupa1"), "white", xlsx(LIST_HEADERS, rows))
    stop()
    assert len(seen) <= 3, len(seen)
    assert [(e.row, e.column) for e in report.errors] == [(5, "Plate")] and count(db, PlateListEntry) == 1
    del rows[3]
    assert imports.import_file(actor, _scope(tree, "groupa1"), "white", xlsx(LIST_HEADERS, rows)).ok
    db.session.commit()
    assert count(db, PlateListEntry) == n


# --- hostile and broken files -----------------------------------------------------------------------
# Each is answered with the form's per-file error (400), never a 500, and reading it stays small in memory.

def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def _good_list_file() -> bytes:
    """One good black-list row, written by xlsxwriter: like Excel, it keeps text in a shared-strings part."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, LIST_HEADERS)
    sheet.write_row(1, 0, ["Alpha Street One", "沪K11111", "Unpaid"])
    book.close()
    return out.getvalue()


def _peak_mb(read) -> float:
    """Peak Python memory (MB) while `read()` runs; zlib's output buffers are Python bytes, so counted."""
    tracemalloc.start()
    try:
        read()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 2**20


def _refusal(data: bytes, kind: str = "black") -> str:
    with pytest.raises(imports.FileRefused) as caught:
        imports.read_rows(data, kind)
    return str(caught.value)


def _upload_refused(client, data: bytes, words: str) -> None:
    response = upload(client, "/members/import/black", data, "black.xlsx")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and words in body and 'class="invalid-feedback' in body


def _lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite `name`'s declared size (local header and central directory) to `size` bytes, with the
    CRC of its first `size` bytes, so zipfile's own checks pass while the stream inflates much further."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
        crc = zlib.crc32(archive.read(name)[:size])
        start_dir = archive.start_dir
    out = bytearray(data)
    struct.pack_into("<I", out, info.header_offset + 14, crc)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    at = start_dir
    while out[at:at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, at + 28)
        if out[at + 46:at + 46 + name_len].decode() == name:
            struct.pack_into("<I", out, at + 16, crc)
            struct.pack_into("<I", out, at + 24, size)
        at += 46 + name_len + extra_len + comment_len
    return bytes(out)


def test_a_member_declaring_a_huge_size_is_refused_before_it_is_inflated(db, tree, client_as):
    parts = _parts(_good_list_file())
    bomb = _zip({**parts, "xl/sharedStrings.xml": b"<sst>" + b"A" * (200 * 2**20) + b"</sst>"})
    assert len(bomb) < imports.MAX_BYTES  # 200 MB in an upload under the limit
    assert "unpacks to more than 10 MB" in _refusal(bomb)
    assert _peak_mb(lambda: pytest.raises(imports.FileRefused, imports.read_rows, bomb, "black")) < 3
    _upload_refused(client_as("parkp1"), bomb, "unpacks to more than 10 MB")
    # under the per-part limit, but too many of them, or one packed like a bomb
    noise = random.Random(0)
    padding = b"".join(noise.randbytes(16) + bytes(300) for _ in range(9 * 2**20 // 316))  # packs ~20:1
    total = _zip({**parts, **{f"xl/media/pad{i}.bin": padding for i in range(4)}})
    assert len(total) < imports.MAX_BYTES
    assert "unpacks to more than 30 MB" in _refusal(total)
    dense = _zip({**parts, "xl/media/pad.bin": b"\0" * (5 * 2**20)})
    assert "compressed suspiciously well" in _refusal(dense)
    assert count(db, PlateListEntry) == 0


@pytest.mark.parametrize("part", ["xl/styles.xml", "xl/worksheets/sheet1.xml"])
def test_a_member_lying_about_its_size_is_cut_where_it_claims_to_end(db, tree, client_as, part):
    parts = _parts(_good_list_file())
    body = parts[part]
    padded = body[:-len(b"</styleSheet>")] if part.endswith("styles.xml") else body
    parts[part] = padded + b"<!--" + b" " * (60 * 2**20) + b"-->"  # well-formed up to its first bytes
    liar = _lie_about_size(_zip(parts), part, len(body) // 2)
    with zipfile.ZipFile(io.BytesIO(liar)) as plain:  # the bomb is real: a plain read inflates it whole
        assert plain.getinfo(part).file_size == len(body) // 2
        if part.endswith("styles.xml"):
            assert _peak_mb(lambda: plain.read(part)) > 50
    assert "not a readable .xlsx workbook" in _refusal(liar)
    assert _peak_mb(lambda: pytest.raises(imports.FileRefused, imports.read_rows, liar, "black")) < 10
    _upload_refused(client_as("parkp1"), liar, "not a readable .xlsx workbook")


def test_too_many_members(db, tree, client_as):
    parts = _parts(_good_list_file())
    crowded = _zip({**parts, **{f"xl/media/p{i}.xml": b"<p/>" for i in range(101 - len(parts))}})
    assert "more than 100 parts" in _refusal(crowded)
    _upload_refused(client_as("parkp1"), crowded, "more than 100 parts")
    assert imports.read_rows(_zip({**parts, **{f"xl/media/p{i}.xml": b"<p/>" for i in range(100 - len(parts))}}),
                             "black")  # exactly at the limit is fine


BILLION_LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10)) + b"]>")
EXTERNAL_ENTITY = b'<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
PLAIN_DTD = b'<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">'


def _with_prolog(body: bytes, prolog: bytes) -> bytes:
    if body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        return body[:end] + prolog + body[end:]
    return prolog + body


@pytest.mark.parametrize("part", ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                  "xl/styles.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml",
                                  "docProps/core.xml", "xl/theme/theme1.xml"])
@pytest.mark.parametrize("prolog", [BILLION_LAUGHS, EXTERNAL_ENTITY, PLAIN_DTD], ids=["laughs", "external", "dtd"])
def test_a_dtd_or_entities_in_any_xml_part_is_refused(part, prolog):
    parts = _parts(_good_list_file())
    assert imports.read_rows(_zip(parts), "black") and part in parts
    parts[part] = _with_prolog(parts[part], prolog)
    assert "declares a DTD or entities" in _refusal(_zip(parts))


def test_openpyxl_itself_parses_through_defusedxml(db, tree, client_as):
    """The second layer, should a DTD get past the scan: openpyxl refuses entities on its own."""
    import openpyxl
    from defusedxml import EntitiesForbidden

    assert openpyxl.DEFUSEDXML is True
    parts = _parts(_good_list_file())
    sheet = _with_prolog(parts["xl/worksheets/sheet1.xml"], BILLION_LAUGHS)
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"<sheetData>", b"<sheetData>&lol9;")
    data = _zip(parts)
    with pytest.raises(ValueError) as caught:  # openpyxl wraps what the parser raised
        book = load_workbook(io.BytesIO(data), read_only=True)
        list(book.worksheets[0].iter_rows(values_only=True))
    assert isinstance(caught.value, EntitiesForbidden) or isinstance(caught.value.__cause__, EntitiesForbidden)
    _upload_refused(client_as("parkp1"), data, "declares a DTD or entities")


@pytest.mark.parametrize("part, body", [
    ("xl/worksheets/sheet1.xml", lambda b: b[:len(b) // 2]),                   # cut off mid-row
    ("xl/worksheets/sheet1.xml", lambda b: b.replace(b"</row>", b"</rowx>", 1)),
    ("xl/worksheets/sheet1.xml", lambda b: b"\x89PNG not xml at all"),
    ("xl/worksheets/sheet1.xml", lambda b: re.sub(rb'(r="A2" t="s"><v>)\d+', rb"\g<1>999", b)),  # no such string
    ("xl/workbook.xml", lambda b: b[:-10]),
    ("xl/styles.xml", lambda b: b"<styleSheet><numFmts><numFmt numFmtId='x'/></numFmts></styleSheet>"),
    ("[Content_Types].xml", lambda b: b"<Types/>"),                                 # no workbook part
])
def test_a_broken_workbook_is_a_per_file_error(db, tree, client_as, part, body):
    parts = _parts(_good_list_file())
    parts[part] = body(parts[part])
    data = _zip(parts)
    assert "not a readable .xlsx workbook" in _refusal(data)
    _upload_refused(client_as("parkp1"), data, "not a readable .xlsx workbook")


def test_files_that_are_not_workbooks(db, tree, client_as):
    client = client_as("parkp1")
    good = _good_list_file()
    for data in (b"not a zip", good[: len(good) // 2], _zip({"readme.txt": b"hello"}), b"PK\x03\x04" + b"\0" * 100):
        message = _refusal(data)
        assert "not an .xlsx file" in message or "not a readable .xlsx workbook" in message, message
        assert upload(client, "/members/import/black", data, "black.xlsx").status_code == 400


def test_a_workbook_without_data_rows(db, tree, client_as):
    client = client_as("parkp1")
    for data in (xlsx(LIST_HEADERS, []), xlsx(LIST_HEADERS, [[None, "  ", None, None, None]] * 3)):
        assert _refusal(data) == "The file has no data rows."
        _upload_refused(client, data, "The file has no data rows.")


def test_rows_claimed_past_excels_last_row_are_not_filled_in(db, tree):
    """A sheet may number its rows as it likes (and declare any dimension); the reader does not walk to them."""
    parts = _parts(_good_list_file())
    sheet = parts["xl/worksheets/sheet1.xml"]
    far = b'<row r="9999999999"><c r="A9999999999" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    sheet = re.sub(rb"<dimension ref=\"[^\"]*\"/>", b'<dimension ref="A1:XFD1048576"/>', sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"</sheetData>", far)
    started = time.monotonic()
    assert [number for number, _cells in imports.read_rows(_zip(parts), "black")] == [2]
    assert time.monotonic() - started < 20


# --- large files: the worker ----------------------------------------------------------------------

def _white_rows(n: int, start: int = 0) -> list:
    return [["Alpha Street One", f"沪W{i:05d}", "", "2025-01-01", None] for i in range(start, start + n)]


def _job(db, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert "/members/imports/" in location
    return db.session.get(ImportJob, int(location.rsplit("/", 1)[1])), location


def test_a_large_file_runs_in_the_worker_with_progress(db, tree, client_as, monkeypatch):
    client = client_as("parkp1")
    seen = []
    write = import_jobs._write_progress

    def watch(job_id, done, total):  # what the job's page would show at each step, while it runs
        write(job_id, done, total)
        seen.append({k: v for k, v in import_jobs.status(db.session.get(ImportJob, job_id)).items()
                     if k in ("state", "rows", "total", "percent")})

    monkeypatch.setattr(import_jobs, "_write_progress", watch)
    job, url = _job(db, upload(client, "/members/import/white", xlsx(LIST_HEADERS, _white_rows(1200)), "w.xlsx"))
    assert [s for s in seen if s["rows"]] == [
        {"state": "running", "rows": 500, "total": 1200, "percent": 41},
        {"state": "running", "rows": 1000, "total": 1200, "percent": 83},
        {"state": "running", "rows": 1200, "total": 1200, "percent": 99}]
    db.session.refresh(job)
    assert (job.state, job.imported, job.rows_done, job.rows_total, job.data) == ("done", 1200, 1200, 1200, None)
    assert (job.level, job.park_id, job.kind, job.file_name) == ("park", tree.p1.id, "white", "w.xlsx")
    assert count(db, PlateListEntry) == 1200
    assert client.get(url + "/status").get_json() == {
        "id": job.id, "state": "done", "rows": 1200, "total": 1200, "percent": 100, "imported": 1200, "error": None}
    page = client.get(url).get_data(as_text=True)
    assert "1200 rows imported" in page and 'id="import-bar"' in page
    assert f"/members/imports/{job.id}" in client.get("/members/import/white").get_data(as_text=True)
    # scoped like the export jobs: above the requester yes, a sibling or another city no
    assert client_as("groupa1").get(url).status_code == 200
    assert client_as("parkp2").get(url).status_code == 404
    assert client_as("harborcity").get(url + "/status").status_code == 404
    assert f"/members/imports/{job.id}" not in client_as("groupa2").get("/members/import/white").get_data(as_text=True)


def test_up_to_the_inline_limit_the_request_imports_at_once(db, tree, client_as, app):
    client = client_as("parkp1")
    data = xlsx(LIST_HEADERS, _white_rows(1000))
    assert upload(client, "/members/import/white", data, "w.xlsx").status_code == 302
    assert count(db, PlateListEntry) == 1000 and count(db, ImportJob) == 0


def test_the_job_waits_in_the_queue_until_the_worker_takes_it(db, tree, client_as, app, monkeypatch):
    monkeypatch.setattr(import_jobs, "start", lambda job: None)  # the queue holds it; no worker yet
    client = client_as("parkp1")
    job, url = _job(db, upload(client, "/members/import/white", xlsx(LIST_HEADERS, _white_rows(1001)), "w.xlsx"))
    assert client.get(url + "/status").get_json()["state"] == "queued"
    page = client.get(url).get_data(as_text=True)
    assert 'data-state="queued"' in page and "import-bar" in page and count(db, PlateListEntry) == 0
    with app.test_request_context():
        import_jobs.run_job(job.id)
        import_jobs.run_job(job.id)  # a second delivery of the task does nothing
    db.session.expire_all()
    assert client.get(url + "/status").get_json()["state"] == "done" and count(db, PlateListEntry) == 1001


def test_a_refused_row_in_the_worker_rolls_everything_back(db, tree, client_as):
    client = client_as("parkp1")
    services.save_list_entry(tree.staff["parkp1"], None, kind="white", park=tree.p1, plate="沪W01150", reason=None,
                             valid_from=None, valid_until=None)
    db.session.commit()
    rows = _white_rows(1200)
    rows[1100][3] = "someday"                 # a bad cell late in the file, after two chunks were written
    job, url = _job(db, upload(client, "/members/import/white", xlsx(LIST_HEADERS, rows), "w.xlsx"))
    db.session.refresh(job)
    assert job.state == "failed" and job.imported == 0 and job.data is None
    assert job.report == [[1102, "Valid from", "Not a date; write YYYY-MM-DD."],
                          [1152, "Plate", "This plate is already on the list at this park for these dates."]]
    assert count(db, PlateListEntry) == 1  # only the one that was there before
    page = client.get(url).get_data(as_text=True)
    assert "Nothing was imported: 2 problems." in page and "Not a date" in page and 'id="import-report"' in page


def test_a_file_broken_past_the_inline_rows_fails_the_job_with_the_file_error(db, tree, client_as):
    client = client_as("parkp1")
    parts = _parts(xlsx(LIST_HEADERS, _white_rows(1500)))
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet[:int(len(sheet) * 0.9)]  # readable for 1,001 rows, cut later
    job, url = _job(db, upload(client, "/members/import/white", _zip(parts), "w.xlsx"))
    db.session.refresh(job)
    assert job.state == "failed" and "not a readable .xlsx workbook" in job.error
    assert count(db, PlateListEntry) == 0
    assert "not a readable .xlsx workbook" in client.get(url).get_data(as_text=True)


def test_the_worker_checks_the_requester_again(db, tree, client_as, app, monkeypatch, make):
    monkeypatch.setattr(import_jobs, "start", lambda job: None)
    job, _url = _job(db, upload(client_as("parkp1"), "/members/import/white", xlsx(LIST_HEADERS, _white_rows(1001)),
                                "w.xlsx"))
    tree.staff["parkp1"].role_id = make.role(tree.p1, "Viewer", codes={"plate_lists.view"}).id
    db.session.commit()
    with app.test_request_context():
        import_jobs.run_job(job.id)
    db.session.refresh(job)
    assert job.state == "failed" and "no longer allowed" in job.error and count(db, PlateListEntry) == 0
