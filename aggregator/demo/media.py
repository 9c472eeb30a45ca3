"""The demo week's media, made from their names: small illustrations and a silent episode.

They are generated rather than bundled so the package carries no binary files; the same
name always gives the same bytes.
"""

from __future__ import annotations

import random
import struct
import zlib
from functools import cache
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 320, 180
# Background, band and sun colours: muted tones, as blog illustrations often are.
PALETTES = (
    ((0xF4, 0xE3, 0xD7), (0xD9, 0x7B, 0x66), (0xF2, 0xB1, 0x34)),
    ((0xDD, 0xEB, 0xF7), (0x3A, 0x6E, 0xA5), (0xFF, 0xD1, 0x66)),
    ((0xE8, 0xF5, 0xE9), (0x4C, 0x8C, 0x6A), (0xF6, 0x8E, 0x5F)),
    ((0xF3, 0xE8, 0xF8), (0x7D, 0x5B, 0xA6), (0xFF, 0xC8, 0xDD)),
    ((0xFF, 0xF4, 0xD6), (0x2F, 0x4B, 0x5D), (0xE7, 0x6F, 0x51)),
)
# One frame of MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: a header and zeros, silence.
_MP3_FRAME = bytes((0xFF, 0xFB, 0x90, 0xC4)) + bytes(413)
MP3_FRAMES = 8


@cache
def illustration_png(name: str) -> bytes:
    """A 320×180 PNG (under 1 KB): a sky, a sloping band, a sun and furrows, all drawn
    from `name`."""
    rng = random.Random(name)
    sky, band, sun = (bytes(c) for c in rng.choice(PALETTES))
    slope = rng.uniform(-0.4, 0.4)
    base = rng.randint(HEIGHT // 3, 2 * HEIGHT // 3)
    cx, cy, radius = rng.randint(40, WIDTH - 40), rng.randint(25, 80), rng.randint(14, 30)
    rows = []
    for y in range(HEIGHT):
        pixels = bytearray(sky * WIDTH)
        start, end = _band(y - base, slope)
        stripe = y % 24 < 2  # furrows on the band
        pixels[start * 3:end * 3] = (bytes(min(255, c + 36) for c in band) if stripe
                                     else band) * (end - start)
        if abs(y - cy) < radius:
            half = int((radius ** 2 - (y - cy) ** 2) ** 0.5)
            left, right = max(0, cx - half), min(WIDTH, cx + half)
            pixels[left * 3:right * 3] = sun * (right - left)
        rows.append(b"\x00" + bytes(pixels))
    return _png(WIDTH, HEIGHT, b"".join(rows))


def _band(depth: float, slope: float) -> tuple[int, int]:
    """The columns of the band on a row `depth` pixels under its height at mid-width:
    the band lies below the line through that point of slope `slope`."""
    if abs(slope) < 0.01:
        return (0, WIDTH) if depth > 0 else (0, 0)
    edge = max(0, min(WIDTH, int(depth / slope + WIDTH / 2)))
    return (0, edge) if slope > 0 else (edge, WIDTH)


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def tracking_pixel() -> bytes:
    """A 1×1 transparent GIF, as newsletters and some blogs put in their feeds."""
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
            b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def cover_svg(title: str) -> str:
    """A square podcast cover: the show's name on a coloured ground."""
    words = title.split()
    lines = "".join(f'<tspan x="150" dy="{0 if i == 0 else 44}">{escape(w)}</tspan>'
                    for i, w in enumerate(words))
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300" '
            'viewBox="0 0 300 300"><rect width="300" height="300" fill="#2f4b5d"/>'
            '<circle cx="150" cy="150" r="120" fill="#e76f51"/>'
            '<text x="150" y="110" font-family="sans-serif" font-size="36" font-weight="bold"'
            f' fill="#fff" text-anchor="middle">{lines}</text></svg>')


def silent_mp3() -> bytes:
    """A fifth of a second of silence in MP3: the episodes' audio file."""
    return _MP3_FRAME * MP3_FRAMES
