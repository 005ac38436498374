"""Raw RFC 5322 / MIME bytes → what the mail room needs (a pure module: no AWS, no tables).

Built on the stdlib `email` package (`policy=default`) and written to survive real mail: every
header is read from its raw value and decoded here (a malformed header never raises), every
charset goes through `codec()` (aliases Python does not know by that name, bogus labels, a
last-resort `utf-8`/`cp1252` with replacement), leaves are walked by hand (a part typed
`multipart/*` whose boundary is broken is read as text, never `get_content()`), HTML-only bodies
become text with scripts, styles and remote content dropped, line endings are normalised (bare
CR, mixed) before parsing, and a message over `MAX_MESSAGE_BYTES` is never parsed at all:
`parse` raises `TooLarge` and the pipeline quarantines it.

`parse` raises only `TooLarge`; anything else a message lacks (a sender, a body) is reported on
the result for the pipeline to decide (`Parsed.problems`)."""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import email
import email.header
import email.utils
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default as default_policy
from html.parser import HTMLParser
from typing import Any

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # the raw message, as SES wrote it
MAX_BODY_CHARS = 100_000  # the text kept on the ticket message (the raw message stays in S3)
MAX_FILENAME_CHARS = 150
SNIPPET_CHARS = 200

# Labels seen in real mail that Python's codec registry does not resolve (or resolves wrongly).
CHARSET_ALIASES = {
    "x-mac-cyrillic": "mac_cyrillic",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-8-e": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "uft-8": "utf-8",
    "utf8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ascii": "utf-8",  # a false "ascii" on 8-bit text: utf-8 (then cp1252) reads what is there
    "us-ascii": "utf-8",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "iso-2022-jp": "iso2022_jp_ext",
    "windows-874": "cp874",
}

AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress")
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
DAEMON_LOCALPARTS = frozenset({"mailer-daemon", "postmaster"})
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RECEIVED_FOR = re.compile(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n{3,}")


class TooLarge(Exception):
    """The raw message is over the limit: stored and quarantined, never parsed."""

    def __init__(self, size: int) -> None:
        super().__init__(f"message of {size} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
        self.size = size


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class Bounce:
    """A delivery-status notification (RFC 3464): which of our messages failed, for whom."""

    original_message_id: str | None
    recipients: list[str]
    status: str | None
    permanent: bool


@dataclass
class Parsed:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_address: str | None
    from_name: str
    recipients: list[str]  # envelope (Received "for", Delivered-To, X-Original-To), then To and Cc
    cc: list[str]
    date: str | None
    text: str
    attachments: list[Attachment]
    auto_reason: str | None  # why this is automatic mail (never opens tickets, never answered)
    has_list_unsubscribe: bool
    bounce: Bounce | None
    fingerprint: str  # sha256 of the raw bytes: the Message-ID of a message that has none
    problems: list[str] = field(default_factory=list)

    @property
    def snippet(self) -> str:
        return " ".join(self.text.split())[:SNIPPET_CHARS]

    @property
    def key_id(self) -> str:
        """What deduplicates this message: its Message-ID, else its bytes."""
        return self.message_id or f"sha256:{self.fingerprint}"


# ---------- charsets and headers ----------


def codec(charset: str | None) -> str:
    """A Python codec name for a MIME charset label; `utf-8` for unknown or bogus labels."""
    label = (charset or "").strip().strip("\"'").lower()
    if not label:
        return "utf-8"
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return "utf-8"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in a declared charset: strict first, then utf-8, then cp1252 (which maps
    nearly every byte), with replacement as the last resort. NULs are dropped."""
    for name in dict.fromkeys((codec(charset), "utf-8", "cp1252")):
        try:
            return data.decode(name).replace("\x00", "")
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace").replace("\x00", "")


def decode_words(value: str) -> str:
    """RFC 2047 encoded words in a header value, decoded leniently (unknown charsets, broken
    base64, words split across folds); anything else stays as written."""
    if "\x1b$" in value or "\x1b(" in value:  # raw ISO-2022-JP in a header (no encoded word)
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            value = value.encode("latin-1").decode("iso2022_jp_ext")
    value = _BETWEEN_WORDS.sub(r"\1\2", value)

    def one(match: re.Match[str]) -> str:
        charset, encoding, text = match.group(1).split("*")[0], match.group(2).upper(), match.group(3)
        try:
            if encoding == "B":
                data = base64.b64decode(text + "=" * (-len(text) % 4))
            else:
                data = quopri.decodestring(text.encode("ascii", errors="replace"), header=True)
        except (ValueError, binascii.Error):  # an undecodable word stays as written
            return match.group(0)
        return decode_bytes(data, charset)

    return _ENCODED_WORD.sub(one, value)


def _raw_headers(message: Message) -> list[tuple[str, str]]:
    """(lower-cased name, raw value as text) for every header, never parsing one."""
    found = []
    for name, value in message.raw_items():
        text = value if isinstance(value, str) else str(value)
        if any(ord(char) > 127 for char in text) or max(text, default=" ") >= "\udc80":
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
        found.append((str(name).lower(), " ".join(text.split())))
    return found


def header_values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key == name]


def first(headers: list[tuple[str, str]], name: str) -> str:
    values = header_values(headers, name)
    return values[0] if values else ""


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) of every address in these header values."""
    found = []
    for name, address in email.utils.getaddresses([decode_words(value) for value in values]):
        address = address.strip().strip("<>").lower()
        if "@" in address and not _CONTROL.search(address):
            found.append((_CONTROL.sub(" ", name).strip(), address))
    return found


def message_ids(value: str) -> list[str]:
    return [found.lower() for found in _MESSAGE_ID.findall(value)]


# ---------- bodies ----------


class _TextFromHtml(HTMLParser):
    """Visible text of an HTML body: scripts, styles and head dropped; images (remote content)
    never fetched or kept; block elements become line breaks."""

    SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})
    BREAKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    reader = _TextFromHtml()
    try:
        reader.feed(html)
        reader.close()
    except Exception:
        return re.sub(r"<[^>]*>", " ", html)
    lines = (" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
        return email.utils.collapse_rfc2231_value(value)
    return str(value) if value is not None else None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def safe_filename(name: str, content_type: str, index: int) -> str:
    """A filename fit to store and show: decoded, last path segment only, no control characters."""
    name = decode_words(name)
    name = _CONTROL.sub("", name).replace("\\", "/").split("/")[-1].strip().lstrip(".")
    if not name:
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf",
                     "text/plain": ".txt", "text/html": ".html", "message/rfc822": ".eml"}.get(content_type, ".bin")
        name = f"attachment-{index}{extension}"
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: MAX_FILENAME_CHARS - len(extension) - 1] + dot + extension) if dot else name[:MAX_FILENAME_CHARS]
    return name


def _filename(part: Message) -> str | None:
    for raw in (_param_from(part, "content-disposition", "filename"), _param_from(part, "content-type", "name")):
        if raw:
            return raw
    return None


def _param_from(part: Message, header: str, name: str) -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return None
    if isinstance(value, tuple):
        return email.utils.collapse_rfc2231_value(value)
    return str(value) if value else None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _leaves(message: Message) -> list[Message]:
    """Every non-container part, depth first; a message/rfc822 part is one leaf (a forwarded
    message is an attachment, not our body)."""
    found: list[Message] = []
    stack: list[Message] = [message]
    while stack:
        part = stack.pop(0)
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list) and not _content_type(part).startswith("message/"):
            stack[0:0] = [sub for sub in payload if isinstance(sub, Message)]
        else:
            found.append(part)
    return found


def _body_and_attachments(message: Message) -> tuple[str, list[Attachment]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for index, part in enumerate(_leaves(message), start=1):
        content_type = _content_type(part)
        disposition = _disposition(part)
        filename = _filename(part)
        textual = content_type in ("text/plain", "text/html") or content_type.startswith("multipart/")
        if textual and disposition != "attachment" and not filename:
            text = decode_bytes(_payload_bytes(part), _param(part, "charset"))
            (html if content_type == "text/html" else plain).append(text)
            continue
        if content_type.startswith("message/") and part.is_multipart():
            inner = part.get_payload()
            data = inner[0].as_bytes(policy=default_policy.clone(linesep="\n")) if _serialisable(inner) else b""
        else:
            data = _payload_bytes(part)
        content_ids = message_ids(first(_raw_headers(part), "content-id"))
        attachments.append(Attachment(
            filename=safe_filename(filename or "", content_type, index), content_type=content_type, content=data,
            content_id=content_ids[0] if content_ids else None,
            inline=disposition == "inline" or (disposition is None and bool(content_ids)),
        ))
    text = "\n\n".join(chunk.strip() for chunk in plain if chunk.strip())
    if not text and html:
        text = html_to_text("\n".join(html))
    return text.replace("\r", "")[:MAX_BODY_CHARS], attachments


def _serialisable(inner: Any) -> bool:
    return isinstance(inner, list) and bool(inner) and isinstance(inner[0], Message)


# ---------- automatic mail ----------


def auto_reason(headers: list[tuple[str, str]], from_address: str | None) -> str | None:
    """Why a message is automatic (never opens a ticket, never gets an answer), or None."""
    submitted = first(headers, "auto-submitted").lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted.split(';')[0].strip()}"
    for name in AUTO_HEADERS:
        if header_values(headers, name):
            return f"{name} header"
    precedence = first(headers, "precedence").lower().strip()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    return_path = header_values(headers, "return-path")
    if return_path and all(value.strip() in ("<>", "") for value in return_path):
        return "null Return-Path"
    if from_address and from_address.split("@")[0] in DAEMON_LOCALPARTS:
        return f"{from_address.split('@')[0]} sender"
    return None


def _status_fields(part: Message) -> list[dict[str, str]]:
    """The field groups of a message/delivery-status part (per-message, then per-recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        groups = [dict((name.lower(), " ".join(str(value).split())) for name, value in block.raw_items())
                  for block in payload if isinstance(block, Message)]
    else:
        text = payload if isinstance(payload, str) else ""
        groups = []
        for block in re.split(r"\n\s*\n", text.replace("\r", "")):
            fields = {}
            for line in block.splitlines():
                name, colon, value = line.partition(":")
                if colon:
                    fields[name.strip().lower()] = value.strip()
            groups.append(fields)
    return groups


def _original_message_id(parts: list[Message]) -> str | None:
    for part in parts:
        content_type = _content_type(part)
        if content_type in ("message/rfc822", "message/global") and part.is_multipart():
            inner = part.get_payload()
            if _serialisable(inner):
                found = message_ids(" ".join(header_values(_raw_headers(inner[0]), "message-id")))
                if found:
                    return found[0]
        if content_type in ("text/rfc822-headers", "message/rfc822-headers", "message/rfc822", "message/global"):
            text = decode_bytes(_payload_bytes(part), None)
            match = re.search(r"^message-id:\s*(<[^>]+>)", text, re.IGNORECASE | re.MULTILINE)
            if match:
                return message_ids(match.group(1))[0]
    return None


def bounce_of(message: Message) -> Bounce | None:
    """The DSN (multipart/report; report-type=delivery-status) this message is, or None."""
    if _content_type(message) != "multipart/report" or (_param(message, "report-type") or "").lower() != (
            "delivery-status"):
        return None
    parts = [part for part in message.walk() if part is not message]
    recipients, statuses, failed = [], [], False
    for part in parts:
        if _content_type(part) not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for group in _status_fields(part):
            action = group.get("action", "").lower()
            recipient = group.get("final-recipient") or group.get("original-recipient")
            if recipient and action in ("failed", ""):
                recipients.append(recipient.split(";")[-1].strip().strip("<>").lower())
                failed = failed or action == "failed"
            if group.get("status"):
                statuses.append(group["status"].split()[0])
    status = statuses[0] if statuses else None
    permanent = failed or bool(status and status.startswith("5"))
    return Bounce(_original_message_id(parts), sorted(set(recipients)), status, permanent)


# ---------- the message ----------


def normalise_line_endings(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def envelope_recipients(headers: list[tuple[str, str]]) -> list[str]:
    """Who the message was delivered to: SES's `Received: ... for <address>`, Delivered-To,
    X-Original-To (a Bcc'd address appears only here), in that order."""
    found = []
    for value in header_values(headers, "received"):
        found += [match.lower() for match in _RECEIVED_FOR.findall(value.split(";")[0])]
    for name in ("delivered-to", "x-original-to", "envelope-to"):
        found += [address for _, address in addresses(header_values(headers, name))]
    return found


def headers_only(raw: bytes) -> Parsed:
    """What the header section of an over-size message says (no body is read): enough to name
    its tenant and show it in the quarantine."""
    head = normalise_line_endings(raw[:256 * 1024]).split(b"\n\n", 1)[0] + b"\n\n"
    parsed = parse(head, limit=len(head))
    parsed.fingerprint = hashlib.sha256(raw).hexdigest()
    return parsed


def parse(raw: bytes, limit: int | None = None) -> Parsed:
    if len(raw) > (MAX_MESSAGE_BYTES if limit is None else limit):
        raise TooLarge(len(raw))
    fingerprint = hashlib.sha256(raw).hexdigest()
    message = email.message_from_bytes(normalise_line_endings(raw), policy=default_policy)
    headers = _raw_headers(message)
    problems = [type(defect).__name__ for defect in getattr(message, "defects", [])]
    senders = addresses(header_values(headers, "from")) or addresses(header_values(headers, "sender"))
    from_name, from_address = senders[0] if senders else ("", None)
    to = [address for _, address in addresses(header_values(headers, "to"))]
    cc = [address for _, address in addresses(header_values(headers, "cc"))]
    recipients = list(dict.fromkeys(envelope_recipients(headers) + to + cc))
    own_ids = message_ids(first(headers, "message-id"))
    text, attachments = _body_and_attachments(message)
    date = first(headers, "date")
    try:
        parsed_date = email.utils.parsedate_to_datetime(date).isoformat() if date else None
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed_date = None
    return Parsed(
        message_id=own_ids[0] if own_ids else None,
        in_reply_to=message_ids(" ".join(header_values(headers, "in-reply-to"))),
        references=message_ids(" ".join(header_values(headers, "references"))),
        subject=_CONTROL.sub(" ", decode_words(first(headers, "subject"))).strip()[:500],
        from_address=from_address,
        from_name=decode_words(from_name)[:200],
        recipients=recipients,
        cc=cc,
        date=parsed_date,
        text=text,
        attachments=attachments,
        auto_reason=auto_reason(headers, from_address),
        has_list_unsubscribe=bool(header_values(headers, "list-unsubscribe")),
        bounce=bounce_of(message),
        fingerprint=fingerprint,
        problems=problems,
    )
