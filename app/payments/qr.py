"""QR codes drawn on the server as SVG (segno: pure Python, no dependencies), for the handheld's screen, the
berths' printed signs and the driver's pages."""
from __future__ import annotations

import segno


def qr_svg(data: str, scale: int = 4) -> str:
    """An inline <svg> element (no XML declaration), black on white with the standard quiet zone."""
    return segno.make(data, error="m").svg_inline(scale=scale, dark="#000", light="#fff")
