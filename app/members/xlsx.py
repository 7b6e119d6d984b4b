"""Opening an .xlsx that someone uploaded, without trusting it.

An .xlsx is a zip of XML parts, and a 5 MB upload can inflate to gigabytes: openpyxl keeps the
whole shared-strings table in memory, even read-only (a review's 1.45 GB table held a worker at
1.8 GB for minutes). So, before anything is inflated, the zip's central directory is checked:
the number of members, each member's declared size, the total and the compression ratio. Every
part is then read through `_Part`, which reads in small chunks and never past the declared size,
so a member whose header lies is cut where it claimed to end; a part read whole into memory (which
openpyxl turns into an element tree) has a lower limit than one read as a stream. Last, any XML
part with a DTD is refused (defusedxml): entity expansion (billion laughs) and external entities
never reach a parser. openpyxl itself parses through defusedxml once it is installed.

Limits, measured on the import template: a 5,000-row sheet is about 2 MB of XML, the other parts
a few KB, and deflate shrinks them 6 to 17 times. A bomb sits near deflate's limit of about
1,000 to 1."""
from __future__ import annotations

import io
import zipfile
from contextlib import contextmanager

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from flask_babel import gettext as _

from app.core.errors import Invalid

MAX_MEMBERS = 100                  # a one-sheet workbook has about 10, each extra sheet adds 1 or 2
MAX_PART = 10 * 1024 * 1024        # a part read as a stream (sheets, shared strings): 5x the largest template sheet
MAX_WHOLE_PART = 2 * 1024 * 1024   # a part read whole (workbook, styles, relationships): an element tree of
#                                    tiny elements costs up to ~35 bytes per byte of XML, so at most ~70 MB
MAX_TOTAL = 30 * 1024 * 1024       # all parts together
MAX_RATIO = 100                    # inflated / compressed, for parts over 1 MB
CHUNK = 64 * 1024


class FileRefused(Invalid):
    """The file as a whole cannot be read (size, format, structure, headers, too many rows)."""
    code = "file_refused"

    def __init__(self, message: str):
        super().__init__(self.code, message, {"file": message})


class _Part(io.RawIOBase):
    """One member, read in chunks of at most CHUNK bytes and never past its declared size.
    zipfile's own reader would inflate a whole member in one call when asked for all of it."""

    def __init__(self, raw, info: zipfile.ZipInfo):
        super().__init__()
        self._raw, self._info, self._left = raw, info, info.file_size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(min(len(buffer), CHUNK, self._left + 1))
        if len(data) > self._left:
            raise FileRefused(_("Part %(name)s holds more than it declares.", name=self._info.filename[:80]))
        self._left -= len(data)
        buffer[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        if self._info.file_size > MAX_WHOLE_PART:
            raise FileRefused(_("Part %(name)s is larger than %(mb)s MB.", name=self._info.filename[:80],
                                mb=MAX_WHOLE_PART // 2**20))
        return super().readall()

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Archive(zipfile.ZipFile):
    """A zip whose members open as `_Part`s; ZipFile.read() goes through open(), so it is covered too."""

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        if mode != "r":
            raise ValueError("read only")
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        return _Part(super().open(info, mode, pwd), info)


def _check_members(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise FileRefused(_("The file holds more than %(count)s parts; it is not a plain workbook.",
                            count=MAX_MEMBERS))
    total = 0
    for info in infos:
        name = info.filename[:80]
        if info.flag_bits & 0x1:
            raise FileRefused(_("The file is encrypted; save it without a password."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused(_("Part %(name)s is compressed in a way Excel does not use.", name=name))
        if info.file_size > MAX_PART:
            raise FileRefused(_("Part %(name)s unpacks to more than %(mb)s MB.", name=name, mb=MAX_PART // 2**20))
        if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FileRefused(_("Part %(name)s is compressed suspiciously well.", name=name))
        total += info.file_size
    if total > MAX_TOTAL:
        raise FileRefused(_("The file unpacks to more than %(mb)s MB.", mb=MAX_TOTAL // 2**20))


class _RootReached(Exception):
    pass


class _StopAtRoot:
    """Parser target: a DTD can only come before the root element, so the scan stops there."""

    def start(self, tag, attrib):
        raise _RootReached

    def close(self):
        return None


def _refuse_dtd(archive: _Archive, info: zipfile.ZipInfo) -> None:
    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    with archive.open(info) as part:
        try:
            while chunk := part.read(CHUNK):
                parser.feed(chunk)
        except _RootReached:
            return
        except DefusedXmlException:
            raise FileRefused(_("Part %(name)s declares a DTD or entities, which a workbook never needs.",
                                name=info.filename[:80])) from None
        except ParseError:
            return  # not XML (an image) or broken XML: openpyxl refuses the latter when it reads the part


@contextmanager
def open_workbook(data: bytes):
    """The checked workbook, read-only; FileRefused for anything unsafe or unreadable at this stage.
    Reading its rows can still fail on broken XML: the caller guards that."""
    from openpyxl.reader.excel import ExcelReader

    try:
        archive = _Archive(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise FileRefused(_("This is not an .xlsx file (not a zip archive); start from the template.")) from None
    try:
        _check_members(archive)
        for info in archive.infolist():
            _refuse_dtd(archive, info)
        # load_workbook() opens its own ZipFile; hand the reader ours instead, so every read is bounded
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        reader.archive.close()
        reader.archive = archive
        reader.read()
        yield reader.wb
    finally:
        archive.close()
