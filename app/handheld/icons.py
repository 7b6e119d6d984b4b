"""Draws the app's icons (a white P on dark blue) as PNG files with zlib alone, so the repo holds the
files and the means to redraw them: `python -m app.handheld.icons`."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

GLYPH = ("11110", "10001", "10001", "11110", "10000", "10000", "10000")
BACKGROUND, FOREGROUND = bytes((0x0B, 0x3D, 0x91)), bytes((0xFF, 0xFF, 0xFF))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(size: int, padding: float = 0.25) -> bytes:
    """An RGB PNG of `size` pixels; `padding` (a share of the side) keeps the P inside a maskable safe zone."""
    cell = int(size * (1 - 2 * padding) / len(GLYPH))
    left, top = (size - 5 * cell) // 2, (size - 7 * cell) // 2

    def lit(x: int, y: int) -> bool:
        gx, gy = (x - left) // cell, (y - top) // cell
        return x >= left and y >= top and gx < 5 and gy < 7 and GLYPH[gy][gx] == "1"

    rows = (b"\0" + b"".join(FOREGROUND if lit(x, y) else BACKGROUND for x in range(size)) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))


def write_all(folder: Path) -> None:
    for name, size, padding in (("icon-192.png", 192, 0.25), ("icon-512.png", 512, 0.25),
                                ("icon-maskable-512.png", 512, 0.3)):
        (folder / name).write_bytes(png(size, padding))


if __name__ == "__main__":
    write_all(Path(__file__).parent / "static" / "icons")
