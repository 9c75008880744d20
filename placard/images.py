"""Images from content/: copied as they are, minus the metadata that can identify people and places.

Photos of protests carry EXIF (camera serial, owner name, time) and GPS coordinates. JPEGs are
cleaned losslessly by dropping metadata segments (ITU T.81 / ISO 10918-1 B.1.1: a JPEG is a
sequence of marker segments; the pixels are in the scan after SOS, which we copy untouched),
so nothing is recompressed. Only the EXIF Orientation is kept (rebuilt with Pillow), or upright
photos would turn sideways. PNGs lose their eXIf and text chunks (PNG spec 11.3).
"""

from __future__ import annotations

import io
import struct
import zlib

SOI, SOS, EOI = 0xD8, 0xDA, 0xD9
ORIENTATION = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


class ImageError(ValueError):
    """A file that claims to be an image but cannot be read as one."""


def strip_metadata(data: bytes) -> bytes:
    """The file without EXIF/GPS/XMP/IPTC/comments if it is a JPEG or PNG; other files unchanged."""
    if data[:2] == b"\xff\xd8":
        return strip_jpeg(data)
    if data[:8] == PNG_SIGNATURE:
        return strip_png(data)
    return data


def keep_jpeg_segment(marker: int, payload: bytes) -> bool:
    """APP0 (JFIF), ICC colour profiles (APP2) and Adobe colour info (APP14) stay; other APPn and COM go."""
    if marker == 0xE0:
        return True
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return payload.startswith(b"Adobe")
    return not (0xE1 <= marker <= 0xEF or marker == 0xFE)


def strip_jpeg(data: bytes) -> bytes:
    """Drop metadata segments before the scan; copy the compressed picture byte for byte."""
    out = [data[:2]]
    pos = 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise ImageError("this JPEG is damaged (a marker is missing); re-save it from an image editor")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == SOS:
            out.append(data[pos:])
            break
        if marker == EOI or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(data[pos:pos + 2])
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        segment = data[pos:pos + 2 + length]
        if length < 2 or len(segment) != 2 + length:
            raise ImageError("this JPEG is damaged (a segment runs past the end); re-save it from an image editor")
        if keep_jpeg_segment(marker, segment[4:]):
            out.append(segment)
        pos += 2 + length
    orientation = read_orientation(data)
    if orientation not in (None, 1):
        out.insert(1, orientation_segment(orientation))
    return b"".join(out)


def read_orientation(data: bytes) -> int | None:
    """The EXIF Orientation of a JPEG (1-8), or None."""
    try:
        from PIL import Image  # imported where used: most builds copy no photo

        with Image.open(io.BytesIO(data)) as image:
            return image.getexif().get(ORIENTATION)
    except Exception as exc:  # Pillow raises many types for broken files
        raise ImageError(f"this JPEG cannot be read ({exc}); re-save it from an image editor") from None


def orientation_segment(orientation: int) -> bytes:
    """An APP1 segment holding a minimal EXIF block with only the Orientation tag."""
    from PIL import Image

    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    payload = exif.tobytes()
    if not payload.startswith(b"Exif\x00\x00"):
        payload = b"Exif\x00\x00" + payload
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def strip_png(data: bytes) -> bytes:
    """Drop eXIf, text and time chunks from a PNG; every other chunk is copied unchanged."""
    out = [PNG_SIGNATURE]
    pos = 8
    while pos < len(data):
        if pos + 12 > len(data):
            raise ImageError("this PNG is damaged (it ends in the middle of a chunk); re-save it from an image editor")
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        chunk = data[pos:pos + 12 + length]
        if len(chunk) != 12 + length or struct.unpack(">I", chunk[-4:])[0] != zlib.crc32(chunk[4:-4]):
            raise ImageError("this PNG is damaged (a chunk checksum is wrong); re-save it from an image editor")
        if kind not in PNG_DROPPED:
            out.append(chunk)
        pos += 12 + length
    return b"".join(out)
