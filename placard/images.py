"""Images from content/: copied as they are, minus the metadata that can identify people and places.

Photos of protests carry EXIF (camera serial, owner name, time) and GPS coordinates. JPEGs are
cleaned losslessly by dropping metadata segments (ITU T.81 / ISO 10918-1 B.1.1: a JPEG is a
sequence of marker segments; the pixels are in the scan after SOS, which we copy untouched),
so nothing is recompressed. Only the EXIF Orientation is kept (rebuilt with Pillow), or upright
photos would turn sideways. PNGs lose their eXIf and text chunks (PNG spec 11.3), WebPs their EXIF
and XMP chunks (RFC 9649 section 2.7), GIFs their comments and application blocks but the looping one
(GIF89a sections 24 and 26), all without touching the pixels. ICC colour profiles stay: they describe
colours, not people or places. Formats whose metadata placard cannot remove safely (TIFF, HEIC/HEIF,
AVIF, JPEG XL; SVG with a metadata block) are refused with what to do, never published as they are.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

SOI, SOS, EOI = 0xD8, 0xDA, 0xD9
ORIENTATION = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


class ImageError(ValueError):
    """A file that claims to be an image but cannot be read as one."""


ISOBMFF_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"avif", b"avis"}
REFUSED_ADVICE = "placard cannot remove the metadata in it (camera, time, GPS position); open it in an image editor and export it as JPEG (photos) or PNG (drawings, screenshots)"


def strip_metadata(data: bytes) -> bytes:
    """The file without EXIF/GPS/XMP/IPTC/comments if it is a JPEG, PNG, WebP or GIF; raises ImageError for
    an image format whose metadata cannot be removed here; other files (not images) unchanged."""
    if data[:2] == b"\xff\xd8":
        return strip_jpeg(data)
    if data[:8] == PNG_SIGNATURE:
        return strip_png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return strip_webp(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return strip_gif(data)
    refused = refused_format(data)
    if refused:
        raise ImageError(f"this image is in {refused} format; {REFUSED_ADVICE}")
    if looks_like_svg(data) and re.search(rb"<(?:[\w-]+:)?metadata\b|<rdf:RDF\b", data):
        raise ImageError("this SVG has a <metadata> block (often the author's name and the file's history); "
                         "remove it, or save the drawing as 'Plain SVG' or 'Optimized SVG' in Inkscape")
    return data


def refused_format(data: bytes) -> str | None:
    """The name of an image format whose metadata placard cannot strip, if `data` is one."""
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if data[4:8] == b"ftyp":
        brands = {data[8:12]} | {data[pos:pos + 4] for pos in range(16, min(len(data), 8 + int.from_bytes(data[:4], "big")), 4)}
        if brands & ISOBMFF_IMAGE_BRANDS:
            return "AVIF" if brands & {b"avif", b"avis"} else "HEIC/HEIF"
    if data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a":
        return "JPEG XL"
    return None


def looks_like_svg(data: bytes) -> bool:
    """Whether a file is an SVG drawing (XML whose first element is <svg>)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith((b"<svg", b"<?xml", b"<!--", b"<!DOCTYPE svg")) and b"<svg" in data[:65536]


WEBP_DROPPED = {b"EXIF", b"XMP "}
VP8X_EXIF, VP8X_XMP = 0x08, 0x04  # flags in the VP8X chunk's first byte (RFC 9649 section 2.7)


def strip_webp(data: bytes) -> bytes:
    """Drop the EXIF and XMP chunks of a WebP (and their VP8X flags); every other chunk is copied unchanged."""
    damaged = ImageError("this WebP is damaged (a chunk runs past the end); re-save it from an image editor")
    if len(data) < 12 or int.from_bytes(data[4:8], "little") + 8 > len(data):
        raise damaged
    out, pos, end = [], 12, int.from_bytes(data[4:8], "little") + 8
    while pos < end:
        if pos + 8 > end:
            raise damaged
        kind, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        chunk = data[pos:pos + 8 + size + (size & 1)]
        if pos + 8 + size > end:
            raise damaged
        if kind == b"VP8X" and size >= 1:
            chunk = chunk[:8] + bytes([chunk[8] & ~(VP8X_EXIF | VP8X_XMP) & 0xFF]) + chunk[9:]
        if kind not in WEBP_DROPPED:
            out.append(chunk)
        pos += 8 + size + (size & 1)
    body = b"WEBP" + b"".join(out)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


GIF_KEPT_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")  # looping (twice) and the colour profile


def strip_gif(data: bytes) -> bytes:
    """Drop comment and application extensions (XMP is one) from a GIF, but looping and colour profile."""
    damaged = ImageError("this GIF is damaged (it ends in the middle of a block); re-save it from an image editor")

    def skip_sub_blocks(pos: int) -> int:
        while True:
            if pos >= len(data):
                raise damaged
            if data[pos] == 0:
                return pos + 1
            pos += 1 + data[pos]

    if len(data) < 13:
        raise damaged
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    out = [data[:pos]]
    while True:
        if pos >= len(data):
            raise damaged
        block = data[pos]
        if block == 0x3B:  # the trailer: anything after it is not part of the picture
            out.append(b"\x3b")
            return b"".join(out)
        if block == 0x21 and pos + 2 <= len(data):
            label, start = data[pos + 1], pos
            pos = skip_sub_blocks(pos + 2)
            application = data[start + 3:start + 14] if label == 0xFF else b""
            if label != 0xFE and (label != 0xFF or application in GIF_KEPT_APPLICATIONS):
                out.append(data[start:pos])
        elif block == 0x2C and pos + 10 <= len(data):
            start, packed = pos, data[pos + 9]
            pos += 10 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0) + 1  # and the LZW code size
            pos = skip_sub_blocks(pos)
            out.append(data[start:pos])
        else:
            raise damaged


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
