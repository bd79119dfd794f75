"""Turn the bytes of an HTML page into text, whatever charset it came in.

Trust order: the HTTP Content-Type header, a byte-order mark, the page's own <meta> declaration,
then statistical detection (charset_normalizer). Declarations lie often enough (a CMS template
saying iso-8859-1 around UTF-8 or windows-1251 text) that each declared charset must pass a sanity
check before it is believed: it has to decode without a noticeable share of replacement characters
and without reading as mojibake.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

# How much of the page the <meta> scan and the detector look at: declarations sit in the head, and
# detection on a sample is as good as on the whole page while costing a fraction of the time.
META_SCAN_BYTES = 4096
DETECT_SAMPLE_BYTES = 64 * 1024
SANITY_SAMPLE_CHARS = 32 * 1024
MAX_REPLACEMENT_SHARE = 0.002  # of non-ASCII-free text; a handful of stray bad bytes is tolerated
MAX_MESS = 0.2

_NOT_LETTERS = re.compile(r"[\W\d_]+")  # markup and digits only dilute the mojibake signal
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_META_CHARSET = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)",  # both <meta charset> and http-equiv forms
    re.I,
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Browsers read these labels as their supersets (WHATWG Encoding Standard); pages rely on it, e.g.
# "gb2312" pages routinely contain GBK-only characters.
_SUPERSETS = {
    "ascii": "cp1252",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "iso8859_9": "cp1254",
    "tis_620": "cp874",
    "iso8859_11": "cp874",
}


def normalise_charset(label: str | None) -> str | None:
    """Python codec name for a charset label, mapped to the superset browsers use; None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    return _SUPERSETS.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return normalise_charset(match.group(1)) if match else None


def charset_from_bom(data: bytes) -> str | None:
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def charset_from_meta(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:META_SCAN_BYTES])
    return normalise_charset(match.group(1).decode("ascii", "ignore")) if match else None


def detect_charset(data: bytes) -> str | None:
    best = from_bytes(data[:DETECT_SAMPLE_BYTES]).best()
    return normalise_charset(best.encoding) if best else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def looks_right(data: bytes, charset: str) -> str | None:
    """The decoded text if `charset` is a believable reading of `data`, else None."""
    is_wide = charset.startswith(("utf_16", "utf_32"))
    # a declared UTF-16 without its BOM is a copy-pasted template lie: pages on the wire are 8-bit
    if is_wide and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    try:
        text = data.decode(charset, errors="replace").removeprefix("\ufeff")
    except LookupError:
        return None
    sample = text[:SANITY_SAMPLE_CHARS]
    if sample.isascii():
        return text  # every ASCII-compatible charset agrees on ASCII
    if sample.count("\ufffd") > MAX_REPLACEMENT_SHARE * len(sample):
        return None
    if charset == "utf_8" or is_wide:
        return text  # multi-byte UTF-8 that decodes cleanly does not happen by accident
    # The classic template lie: a single-byte declaration on UTF-8 bytes turns "é" into "Ã©".
    if _is_utf8(data):
        return None
    letters = _NOT_LETTERS.sub("", sample)
    if mess_ratio(letters, MAX_MESS) >= MAX_MESS:
        return None
    return text


def decode_html(data: bytes | str, content_type: str | None = None) -> str:
    """Decode a page body; never raises (undecodable bytes become U+FFFD)."""
    if isinstance(data, str):
        return data
    if not data:
        return ""
    declared = (charset_from_content_type(content_type), charset_from_bom(data), charset_from_meta(data))
    tried: set[str] = set()
    for charset in declared:
        if charset and charset not in tried:
            tried.add(charset)
            text = looks_right(data, charset)
            if text is not None:
                return text
    # undeclared or wrongly declared: UTF-8 is by far the most common and cheap to check exactly
    if "utf_8" not in tried and _is_utf8(data):
        return data.decode("utf-8").removeprefix("\ufeff")
    detected = detect_charset(data) or "utf_8"
    try:
        return data.decode(detected, errors="replace").removeprefix("\ufeff")
    except LookupError:
        return data.decode("utf-8", errors="replace").removeprefix("\ufeff")
