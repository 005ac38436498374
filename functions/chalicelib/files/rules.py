"""The rules of what may be stored, as plain functions (no AWS): the content-type allowlist and
the extensions each type may carry, filename sanitising, the leading-bytes check of an upload
against its declared type, and which external documents may be linked."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

MAX_BYTES = 25 * 1024 * 1024  # 25 MB
SNIFF_BYTES = 4096  # the leading bytes read to check an upload against its declared type
MAX_FILENAME_BYTES = 200

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy Office container
ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # zip, and every format built on it (OOXML, OpenDocument)


@dataclass(frozen=True)
class Kind:
    """One allowed content type: the extensions a filename of it may end with and the leading
    bytes (any one of) its content must start with; `text` kinds are checked as UTF-8 text."""

    extensions: tuple[str, ...]
    magic: tuple[bytes, ...] = ()
    text: bool = False


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

ALLOWED: dict[str, Kind] = {
    # documents
    "application/pdf": Kind((".pdf",), (b"%PDF-",)),
    "application/msword": Kind((".doc",), (OLE,)),
    "application/vnd.ms-excel": Kind((".xls",), (OLE,)),
    "application/vnd.ms-powerpoint": Kind((".ppt",), (OLE,)),
    _OOXML + "wordprocessingml.document": Kind((".docx",), ZIP),
    _OOXML + "spreadsheetml.sheet": Kind((".xlsx",), ZIP),
    _OOXML + "presentationml.presentation": Kind((".pptx",), ZIP),
    _ODF + "text": Kind((".odt",), ZIP),
    _ODF + "spreadsheet": Kind((".ods",), ZIP),
    _ODF + "presentation": Kind((".odp",), ZIP),
    "application/rtf": Kind((".rtf",), (b"{\\rtf",)),
    # images (no SVG: it is a document that can carry script)
    "image/png": Kind((".png",), (b"\x89PNG\r\n\x1a\n",)),
    "image/jpeg": Kind((".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    "image/gif": Kind((".gif",), (b"GIF87a", b"GIF89a")),
    "image/webp": Kind((".webp",), (b"RIFF",)),
    "image/tiff": Kind((".tif", ".tiff"), (b"II*\x00", b"MM\x00*")),
    # archives
    "application/zip": Kind((".zip",), ZIP),
    "application/gzip": Kind((".gz", ".tgz"), (b"\x1f\x8b",)),
    "application/x-7z-compressed": Kind((".7z",), (b"7z\xbc\xaf\x27\x1c",)),
    # text
    "text/plain": Kind((".txt", ".log", ".text"), text=True),
    "text/csv": Kind((".csv",), text=True),
    "text/markdown": Kind((".md", ".markdown"), text=True),
    "application/json": Kind((".json",), text=True),
}

# Leading bytes of programs: never stored, whatever type they were declared as.
EXECUTABLES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary or Java class"),
    (b"#!", "a script"),
)


def allowed_types() -> list[str]:
    return sorted(ALLOWED)


def extension_of(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


_UNSAFE = re.compile(r"[^\w.\- ()+,&@\[\]]", re.UNICODE)


def sanitise_filename(raw: str) -> str:
    """The name a file is shown and downloaded under: its last path component (either
    separator), NFC, no control or shell/path characters (each becomes `_`), single spaces, no
    leading dots or dashes, at most MAX_FILENAME_BYTES of UTF-8 (the extension kept). Empty
    when nothing usable is left."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if unicodedata.category(ch)[0] != "C" else "_" for ch in name)
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".-_ ")
    if not name or set(name) <= {"_", "."}:
        return ""
    extension = extension_of(name)
    stem = name[: len(name) - len(extension)] if extension else name
    while len((stem + extension).encode()) > MAX_FILENAME_BYTES and stem:
        stem = stem[:-1]
    return (stem.rstrip() + extension) if stem else ""


def key_name(filename: str) -> str:
    """The filename as the last part of an S3 key: ASCII letters, digits, `.`, `-`, `_` only."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9.\-_]+", "_", ascii_name).strip("._") or "file"
    return slug[-100:]


def content_disposition(filename: str) -> str:
    """`attachment`, with an ASCII fallback and the exact name (RFC 6266 / RFC 5987)."""
    fallback = re.sub(r'[^A-Za-z0-9.\-_ ()]', "_", unicodedata.normalize("NFKD", filename)
                      .encode("ascii", "ignore").decode()) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def type_problem(filename: str, content_type: str) -> tuple[str, str] | None:
    """(field, message) when a declared upload cannot be accepted; None when it may be."""
    kind = ALLOWED.get(content_type)
    if kind is None:
        return "content_type", f"{content_type} is not an allowed type; allowed: {', '.join(allowed_types())}"
    if extension_of(filename) not in kind.extensions:
        return "filename", f"a {content_type} file must end with {' or '.join(kind.extensions)}"
    return None


def _is_text(head: bytes, truncated: bool) -> bool:
    if b"\x00" in head:
        return False
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(body, final=not truncated)  # a character cut at the sniff boundary is fine
    except UnicodeDecodeError:
        return False
    return True


def content_problem(content_type: str, declared_size: int, real_size: int, head: bytes) -> str | None:
    """Why a stored upload is rejected (its real size and leading bytes against what was
    declared), or None when it is what it claims to be."""
    if real_size != declared_size:
        return f"the upload is {real_size} bytes; {declared_size} were declared"
    if real_size > MAX_BYTES:
        return f"the upload is larger than {MAX_BYTES} bytes"
    for magic, what in EXECUTABLES:
        if head.startswith(magic):
            return f"the content is {what}, not {content_type}"
    kind = ALLOWED.get(content_type)
    if kind is None:
        return f"{content_type} is not an allowed type"
    if kind.text:
        if not _is_text(head, truncated=real_size > len(head)):
            return f"the content is not UTF-8 text, as {content_type} must be"
        return None
    if not any(head.startswith(magic) for magic in kind.magic):
        return f"the content does not start as a {content_type} file does"
    if content_type == "image/webp" and head[8:12] != b"WEBP":
        return "the content does not start as a image/webp file does"
    return None


# External documents that may be linked as files: host (or parent domain) → provider.
LINK_PROVIDERS: dict[str, str] = {
    "docs.google.com": "google_drive",
    "drive.google.com": "google_drive",
    "onedrive.live.com": "onedrive",
    "1drv.ms": "onedrive",
    "sharepoint.com": "onedrive",
    "notion.so": "notion",
    "notion.site": "notion",
}


def link_provider(url: str) -> str | None:
    """The provider of an https URL to an external document, or None when it is not one we link."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or parts.username or parts.password or not host:
        return None
    labels = host.split(".")
    for start in range(len(labels) - 1):
        provider = LINK_PROVIDERS.get(".".join(labels[start:]))
        if provider and (start == 0 or ".".join(labels[start:]) in {"sharepoint.com", "notion.site", "notion.so"}):
            return provider
    return None
