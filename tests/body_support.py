"""Requests built below the test client's conveniences: a body that must not be read, and a streamed
(chunked) body without Content-Length, as gunicorn hands them to the application; and a snapshot of the
database, to show that a refused request wrote nothing."""
from __future__ import annotations

import io

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

MIB = 1024 * 1024


class Counted(io.RawIOBase):
    """A request body: `head`, then `filler` repeated, then `tail`, `size` bytes in all (endless when size is
    None); `read_bytes` counts what the application read of it."""

    def __init__(self, head: bytes = b"", size: int | None = None, filler: bytes = b" ", tail: bytes = b""):
        self.head, self.size, self.filler, self.tail, self.read_bytes = head, size, filler, tail, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        stop = self.read_bytes + len(buffer)
        if self.size is not None:
            stop = min(stop, self.size)
        data = self._slice(self.read_bytes, stop)
        buffer[:len(data)] = data
        self.read_bytes += len(data)
        return len(data)

    def _slice(self, start: int, stop: int) -> bytes:
        head_end = len(self.head)
        tail_start = None if self.size is None else self.size - len(self.tail)
        out = bytearray(self.head[start:min(stop, head_end)]) if start < head_end else bytearray()
        fill_start, fill_stop = max(start, head_end), stop if tail_start is None else min(stop, tail_start)
        if fill_stop > fill_start:
            offset, length = (fill_start - head_end) % len(self.filler), fill_stop - fill_start
            out += (self.filler * (length // len(self.filler) + 2))[offset:offset + length]
        if tail_start is not None and stop > tail_start:
            out += self.tail[max(start, tail_start) - tail_start:stop - tail_start]
        return bytes(out)


def json_padded(size: int | None) -> Counted:
    """A JSON body of exactly `size` bytes: blanks, then {} (endless blanks when size is None)."""
    return Counted(size=size, filler=b" ", tail=b"{}" if size is not None else b"")


def multipart(size: int | None, field: str = "photo", boundary: str = "b0undary") -> Counted:
    """A multipart form of exactly `size` bytes (endless when None): client_ref and a file in `field`,
    padded with lines of zeros (the parser holds back what follows a file's last line break)."""
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"client_ref\"\r\n\r\nref-0123456789\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"a.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode() if size is not None else b""
    return Counted(head, size, b"0" * 63 + b"\n", tail)


MULTIPART = "multipart/form-data; boundary=b0undary"


def send(client, method: str, path: str, body: Counted, *, content_length: int | None, content_type: str,
         headers: dict | None = None):
    """`body` as the request's input, announced with `content_length`; without one it is streamed (chunked)."""
    environ = EnvironBuilder(method=method, path=path, headers=headers or {}).get_environ()
    environ["CONTENT_TYPE"], environ["wsgi.input"] = content_type, body  # (the builder makes its own boundary)
    if content_length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True  # gunicorn's promise: it ends the stream after the last chunk
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    return client.open(Request(environ))


def snapshot(db) -> dict:
    """Every row of every table."""
    db.session.rollback()
    rows = {table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables}
    db.session.rollback()
    return rows
