"""Import of passes, white-list and black-list entries from .xlsx (openpyxl, read-only, through
`app.members.xlsx`, which refuses bombs and DTDs before anything is parsed).

All or nothing: every row is checked and written inside one transaction, 500 rows at a time; if any
row is refused — including a row that repeats another row of the same file — the transaction is
rolled back and the caller gets the per-row report (row number, column, message). Limits: 5 MB,
5,000 rows. Up to 1,000 rows run in the request; larger files in the worker (`import_jobs`)."""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from app.core.errors import Invalid
from app.extensions import db
from app.members import services
from app.members.forms import yuan_to_fen
from app.members.models import MonthlyProduct
from app.members.xlsx import FileRefused, open_workbook
from app.tenancy.models import Park

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 50            # the template has at most 10; the headers are looked for in the first 50
MAX_ROW_NUMBER = 1_048_576  # Excel's last row: a <row r="..."> beyond it is not filled in row by row
CHUNK_ROWS = 500            # rows checked and written per step (and per progress report)

# kind -> [(key, header)]; the header is what the template shows and what the reader looks for
COLUMNS = {
    "passes": [("park", "Selling park"), ("product", "Product"), ("holder", "Holder name"), ("phone", "Phone"),
               ("plates", "Plates"), ("starts_on", "Start date"), ("months", "Months"),
               ("paid", "Amount paid (yuan)"), ("method", "Payment method"), ("note", "Note")],
    "white": [("park", "Park"), ("plate", "Plate"), ("reason", "Reason"), ("valid_from", "Valid from"),
              ("valid_until", "Valid until")],
    "black": [("park", "Park"), ("plate", "Plate"), ("reason", "Reason"), ("valid_from", "Valid from"),
              ("valid_until", "Valid until")],
}
PERMISSIONS = {"passes": "members.add", "white": "plate_lists.add", "black": "plate_lists.add"}
REQUIRED = {"passes": ("park", "product", "holder", "plates", "starts_on", "months"),
            "white": ("park", "plate"), "black": ("park", "plate", "reason")}
EXAMPLES = {
    "passes": ["(park name)", "(product name)", "Zhang San", "13800000000", "沪A12345, 沪B67890", "2025-01-01", 3,
               "", "cash", ""],
    "white": ["(park name)", "沪A12345", "Staff car", "2025-01-01", "2025-12-31"],
    "black": ["(park name)", "沪A12345", "Unpaid fees", "", ""],
}
METHODS = {"cash": "cash", "现金": "cash", "electronic": "electronic", "电子支付": "electronic",
           "card": "card", "刷卡": "card"}


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def template_bytes(kind: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(kind)
    sheet.append([header for _key, header in COLUMNS[kind]])
    sheet.append(EXAMPLES[kind])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_rows(data: bytes, kind: str, stop_after: int | None = None) -> list[tuple[int, dict]]:
    """(row number as Excel shows it, {key: value}) for every non-empty data row of the first sheet.
    With `stop_after`, reading stops after that many rows (the caller only asks whether there are
    more). Anything wrong with the file is a FileRefused with a message for the page."""
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than 5 MB."))
    if not data:
        raise FileRefused(_("Choose an .xlsx file to import."))
    try:
        with open_workbook(data) as book:
            return _rows_of(book, kind, stop_after)
    except FileRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a broken part (XML, zip, values); none is ours
        log.info("unreadable import file: %s: %.200s", type(exc).__name__, exc)
        raise FileRefused(_("This file is not a readable .xlsx workbook; start from the template.")) from None


def _rows_of(book, kind: str, stop_after: int | None) -> list[tuple[int, dict]]:
    if not book.worksheets:
        raise FileRefused(_("The file has no worksheet."))
    sheet = book.worksheets[0]
    # explicit bounds: the sheet's own <dimension> and row numbers say how far openpyxl fills in blank rows
    rows = sheet.iter_rows(max_row=MAX_ROW_NUMBER, max_col=MAX_COLUMNS, values_only=True)
    header = next(rows, None)
    if header is None:
        raise FileRefused(_("The file is empty."))
    wanted = {h.lower(): key for key, h in COLUMNS[kind]} | {key: key for key, _h in COLUMNS[kind]}
    positions = {}
    for index, title in enumerate(header):
        key = wanted.get(str(title).strip().lower()) if title is not None else None
        if key is not None and key not in positions:
            positions[key] = index
    missing = [h for key, h in COLUMNS[kind] if key in REQUIRED[kind] and key not in positions]
    if missing:
        raise FileRefused(_("The first row must hold the template's headers; missing: %(missing)s.",
                            missing=", ".join(missing)))
    blank = (None,) * MAX_COLUMNS
    out = []
    for number, values in enumerate(rows, start=2):
        if values == blank or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if len(out) >= MAX_ROWS:
            raise FileRefused(_("The file has more than %(count)s rows; split it.", count=f"{MAX_ROWS:,}"))
        out.append((number, {key: values[i] for key, i in positions.items()}))
        if len(out) == stop_after:
            break
    if not out:
        raise FileRefused(_("The file has no data rows."))
    return out


# --- cell parsing ---------------------------------------------------------------------------------

class CellError(Invalid):
    """One cell of an imported row that cannot be read; reported with its row and column."""
    code = "cell_invalid"

    def __init__(self, message: str):
        super().__init__(self.code, message)


def _text(value, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if len(text) > limit:
        raise CellError(f"At most {limit} characters.")
    if "\x00" in text:
        raise CellError("Contains a NUL character.")
    return text


def _date(value, required: bool) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CellError("A date is required (YYYY-MM-DD).")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            pass
    raise CellError("Not a date; write YYYY-MM-DD.")


def _months(value) -> int:
    if isinstance(value, bool):
        raise CellError("Not a number of months.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise CellError("A whole number of months, 1 to 36.")
    if not 1 <= value <= services.MAX_MONTHS:
        raise CellError("A whole number of months, 1 to 36.")
    return value


def _fen(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError("Not an amount.")
    try:
        return yuan_to_fen(repr(value) if isinstance(value, float) else str(value))
    except ValueError:
        raise CellError("An amount in yuan, not negative, with at most two decimals.") from None


def _by_name(items) -> dict[str, list]:
    found: dict[str, list] = {}
    for item in items:
        found.setdefault(item.name.strip().lower(), []).append(item)
    return found


class _Rows:
    """Collects refusals; remembers what earlier rows claimed, to refuse repeats inside the file."""

    def __init__(self, columns):
        self.headers = dict(columns)
        self.result = ImportResult()
        self.claims: list[tuple] = []

    def refuse(self, number: int, key: str | None, message: str) -> None:
        self.result.errors.append(RowError(number, self.headers.get(key, "—") if key else "—", message))

    def cell(self, number: int, key: str, parse, *args):
        try:
            return parse(*args), True
        except CellError as exc:
            self.refuse(number, key, str(exc))
            return None, False


def _resolve_park(rows: _Rows, number: int, parks: dict, raw) -> Park | None:
    name = str(raw or "").strip().lower()
    if not name:
        rows.refuse(number, "park", "The park is required.")
        return None
    matches = parks.get(name, [])
    if not matches:
        rows.refuse(number, "park", f"No park named “{str(raw)[:40]}” here.")
        return None
    if len(matches) > 1:
        rows.refuse(number, "park", "Several parks have this name; import at the operating group instead.")
        return None
    return matches[0]


def _pass_key(field: str | None) -> str | None:
    return {"selling_park_id": "park", "product_id": "product", "holder_name": "holder"}.get(field, field)


def import_file(actor, scope, kind: str, data: bytes, *, now: datetime | None = None, ip: str | None = None,
                progress=None) -> ImportResult:
    """Read the file and import its rows; FileRefused when the file as a whole cannot be read."""
    return import_rows(actor, scope, kind, read_rows(data, kind), now=now, ip=ip, progress=progress)


def import_rows(actor, scope, kind: str, lines, *, now: datetime | None = None, ip: str | None = None,
                progress=None) -> ImportResult:
    """Check and write `lines` (from read_rows) CHUNK_ROWS at a time in the caller's transaction,
    calling `progress(rows done, rows in all)` after each chunk. The rows of a chunk that pass the
    file's own checks are checked against the database even when others failed: one report."""
    check, write, result = (_passes(actor, scope, now, ip) if kind == "passes" else _list(actor, scope, kind, ip))
    for start in range(0, len(lines), CHUNK_ROWS):
        chunk = lines[start:start + CHUNK_ROWS]
        write([item for item in (check(number, cells) for number, cells in chunk) if item is not None])
        if progress is not None:
            progress(start + len(chunk), len(lines))
    return _finish(result)


def _passes(actor, scope, now, ip):
    rows = _Rows(COLUMNS["passes"])
    parks = _by_name(db.session.scalars(scope.select(Park).where(Park.active.is_(True))))
    products = _by_name(db.session.scalars(scope.select(MonthlyProduct).where(MonthlyProduct.active.is_(True))))
    covered: dict[int, set] = {}       # product id -> parks it covers
    claims: dict[str, list] = {}       # plate -> [(parks, start, end, row)] of earlier rows of the file

    def check(number, cells) -> services.PassSale | None:
        before = len(rows.result.errors)
        park = _resolve_park(rows, number, parks, cells.get("park"))
        product = None
        name = str(cells.get("product") or "").strip().lower()
        candidates = products.get(name, [])
        if park is not None:
            candidates = [p for p in candidates if services.product_covers(p, park)]
        if not name:
            rows.refuse(number, "product", "The product is required.")
        elif not candidates:
            rows.refuse(number, "product", "No active product of this name is sold at that park.")
        elif len(candidates) > 1:
            rows.refuse(number, "product", "Several products of this name are sold at that park.")
        else:
            product = candidates[0]
        holder, _ok = rows.cell(number, "holder", _text, cells.get("holder"), 80)
        if _ok and not holder:
            rows.refuse(number, "holder", "The holder's name is required.")
        phone, _ok = rows.cell(number, "phone", _text, cells.get("phone"), 32)
        note, _ok = rows.cell(number, "note", _text, cells.get("note"), 200)
        plates = None
        try:
            plates = services.parse_plates(_text(cells.get("plates"), 80))
        except (CellError, services.MemberError) as exc:
            rows.refuse(number, "plates", str(exc))
        starts_on, _ok = rows.cell(number, "starts_on", _date, cells.get("starts_on"), True)
        months, _ok = rows.cell(number, "months", _months, cells.get("months"))
        paid, _ok = rows.cell(number, "paid", _fen, cells.get("paid"))
        method = METHODS.get(str(cells.get("method") or "cash").strip().lower())
        if method is None:
            rows.refuse(number, "method", "Payment method: cash, electronic or card.")
        if len(rows.result.errors) > before:
            return None
        ends_on = services.period_end(starts_on, months)
        if product.id not in covered:
            covered[product.id] = set(db.session.scalars(
                services.covered_parks(product.level, product.group_id, product.park_id)))
        parks_ = covered[product.id]
        duplicate = min((row for plate in plates for other, s, e, row in claims.get(plate, ())
                         if other & parks_ and s <= ends_on and e >= starts_on), default=None)
        for plate in plates:
            claims.setdefault(plate, []).append((parks_, starts_on, ends_on, number))
        if duplicate is not None:
            rows.refuse(number, "plates", f"Repeats row {duplicate} of this file (same plate, park and dates).")
            return None
        return services.PassSale(number, product, park, holder, phone, plates, starts_on, months, paid, method,
                                 note)

    def write(sales) -> None:
        if not sales:
            return
        # earlier chunks are flushed, so the overlap lookup sees them; a refusal writes nothing of its chunk
        for number, exc in services.sell_passes(actor, sales, now=now, ip=ip):
            rows.refuse(number, _pass_key(exc.field), str(exc))
        rows.result.imported += len(sales)

    return check, write, rows.result


def _list(actor, scope, kind: str, ip):
    rows = _Rows(COLUMNS[kind])
    parks = _by_name(db.session.scalars(scope.select(Park).where(Park.active.is_(True))))
    claims: dict[tuple, list] = {}     # (park, plate) -> [(start, end, row)] of earlier rows of the file

    def check(number, cells) -> services.ListEntryValues | None:
        before = len(rows.result.errors)
        park = _resolve_park(rows, number, parks, cells.get("park"))
        plate = None
        try:
            plate = services.parse_plates([_text(cells.get("plate"), 20)])[0]
        except (CellError, services.MemberError):
            rows.refuse(number, "plate", "A plate is 4 to 10 letters, digits or Chinese characters.")
        reason, _ok = rows.cell(number, "reason", _text, cells.get("reason"), 100)
        valid_from, _ok = rows.cell(number, "valid_from", _date, cells.get("valid_from"), False)
        valid_until, _ok = rows.cell(number, "valid_until", _date, cells.get("valid_until"), False)
        if len(rows.result.errors) > before:
            return None
        low, high = valid_from or date.min, valid_until or date.max
        earlier = claims.setdefault((park.id, plate), [])
        duplicate = next((row for s, e, row in earlier if s <= high and e >= low), None)
        earlier.append((low, high, number))
        if duplicate is not None:
            rows.refuse(number, "plate", f"Repeats row {duplicate} of this file (same plate, park and dates).")
            return None
        return services.ListEntryValues(number, park, plate, reason, valid_from, valid_until)

    def write(items) -> None:
        if not items:
            return
        for number, exc in services.add_list_entries(actor, kind, items, ip=ip):
            rows.refuse(number, exc.field if exc.field in rows.headers else None, str(exc))
        rows.result.imported += len(items)

    return check, write, rows.result


def _finish(result: ImportResult) -> ImportResult:
    result.errors.sort(key=lambda e: e.row)  # the report reads down the file
    if result.errors:
        db.session.rollback()  # all or nothing: no row of a refused file stays
        result.imported = 0
    return result
