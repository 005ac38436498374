"""The mail parser and threading rules, pure: generated edge cases the corpus lacks (unknown
charsets, broken encoded words, huge lines, over-size messages, hostile filenames) and the
threading rules (subject normalisation in several languages, the signed plus-address token)."""

from __future__ import annotations

import pytest
from chalicelib.mail import parser, threading
from hypothesis import given, settings
from hypothesis import strategies as st

KEY = b"test-key"


def _raw(headers: str, body: bytes = b"hello") -> bytes:
    return headers.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body


@given(st.binary(max_size=4000))
@settings(max_examples=300, deadline=None)
def test_any_bytes_parse_without_an_exception(data: bytes) -> None:
    parsed = parser.parse(data)
    assert isinstance(parsed.text, str) and parsed.key_id


@given(st.text(max_size=200), st.sampled_from(["utf-8", "x-unknown-charset", "iso-8859-1", "bogus", ""]))
@settings(max_examples=200, deadline=None)
def test_any_subject_in_any_declared_charset_decodes_to_text(subject: str, charset: str) -> None:
    body = subject.encode("utf-8", "surrogatepass")
    raw = _raw(f"From: a@b.example\nSubject: x\nContent-Type: text/plain; charset={charset}\n", body)
    assert isinstance(parser.parse(raw).text, str)


def test_an_unknown_charset_falls_back_to_utf8_then_cp1252() -> None:
    raw = _raw("From: a@b.example\nContent-Type: text/plain; charset=x-klingon\n", "caf\u00e9".encode("cp1252"))
    assert parser.parse(raw).text == "caf\u00e9"


@pytest.mark.parametrize(("header", "expected"), [
    ("=?utf-8?B?SGVsbG8gV29ybGQ?=", "Hello World"),  # missing padding
    ("=?x-mac-cyrillic?Q?=E4=EE=EC?=", "\u0434\u043e\u043c"),
    ("=?utf-8?Q?broken_=ZZ?=", "broken =ZZ"),
    ("=?unknown?Q?plain?=", "plain"),
    ("=?utf-8?B?!!!not base64?=", "=?utf-8?B?!!!not base64?="),
    ("=?utf-8?Q?split_?= =?utf-8?Q?word?=", "split word"),
])
def test_broken_encoded_words_decode_leniently(header: str, expected: str) -> None:
    assert parser.decode_words(header) == expected


def test_a_huge_line_is_kept_and_the_body_is_capped() -> None:
    raw = _raw("From: a@b.example\nSubject: long\n", b"x" * 300_000)
    assert len(parser.parse(raw).text) == parser.MAX_BODY_CHARS


def test_an_over_size_message_raises_too_large_and_its_headers_still_read() -> None:
    raw = _raw("From: Big <big@b.example>\nTo: support@t1.mail.example\nSubject: huge\n", b"x" * 2000)
    with pytest.raises(parser.TooLarge):
        parser.parse(raw, limit=1000)
    head = parser.headers_only(raw)
    assert (head.from_address, head.subject) == ("big@b.example", "huge")


@pytest.mark.parametrize("name", ["../../etc/passwd", "C:\\Windows\\evil.exe", "a\nb.pdf", ".hidden", "", "x" * 400])
def test_attachment_filenames_are_made_safe(name: str) -> None:
    safe = parser.safe_filename(name, "application/pdf", 3)
    assert safe and "/" not in safe and "\\" not in safe and "\n" not in safe and not safe.startswith(".")
    assert len(safe) <= parser.MAX_FILENAME_CHARS


def test_an_html_only_body_drops_scripts_styles_and_images() -> None:
    html = (b"<html><head><style>p{}</style><script>alert(1)</script></head><body><p>Hello</p>"
            b"<img src='https://tracker.example/x.png'><p>World</p></body></html>")
    text = parser.parse(_raw("From: a@b.example\nContent-Type: text/html\n", html)).text
    assert text == "Hello\n\nWorld" and "alert" not in text and "tracker" not in text


def test_the_envelope_recipient_comes_first() -> None:
    raw = _raw("Received: from x by inbound-smtp.us-east-1.amazonaws.com for log@t1.mail.example; Mon, 1 Jan 2026\n"
               "From: a@b.example\nTo: someone@else.example\n")
    assert parser.parse(raw).recipients[0] == "log@t1.mail.example"


@pytest.mark.parametrize("subject", ["Re: Hello there", "RE[2]: Hello there", "AW: Hello there", "SV: Hello there",
                                     "VS: Hello there", "Antw: Hello there", "Fwd: Hello there", "WG: Hello there",
                                     "TR: Hello there", "RV: Hello there", "Re: Fwd: AW: hello THERE",
                                     "[list] Re: Hello there", "Re(3): Hello there"])
def test_reply_prefixes_in_every_language_normalise_away(subject: str) -> None:
    assert threading.normalise_subject(subject) == "hello there"
    assert threading.subject_key(subject) == threading.subject_key("Hello there")


def test_the_subject_token_is_found_and_kept_out_of_the_normalised_subject() -> None:
    assert threading.number_in_subject("AW: Re: Export fails [#T-42]") == 42
    assert threading.normalise_subject("Re: Export fails [#T-42]") == "export fails"
    assert threading.reply_subject("Re: AW: Export fails [#T-42]", 42) == "Re: Export fails [#T-42]"


def test_a_too_generic_subject_never_threads() -> None:
    assert threading.subject_key("Re: hi") is None and threading.subject_key("") is None


@given(st.text(alphabet="0123456789abcdefghjkmnpqrstvwxyz", min_size=26, max_size=26))
def test_a_ticket_token_round_trips_and_is_tenant_bound(ticket_id: str) -> None:
    token = threading.ticket_token(KEY, "t1", ticket_id)
    assert threading.ticket_from_token(KEY, "t1", token) == ticket_id
    assert threading.ticket_from_token(KEY, "t2", token) is None
    assert threading.ticket_from_token(b"other-key", "t1", token) is None
    assert threading.ticket_from_token(KEY, "t1", token[:-1] + ("a" if token[-1] != "a" else "b")) is None


def test_tenant_addresses_parse_back() -> None:
    assert threading.parse_address("Support+t.abc.def@T1.mail.example", "mail.example") == threading.Address(
        "t1", "support", "t.abc.def")
    assert threading.parse_address("log@t1.mail.example", "mail.example").mailbox == "log"
    assert threading.parse_address("sales@t1.mail.example", "mail.example") is None
    assert threading.parse_address("support@a.b.mail.example", "mail.example") is None
    assert threading.parse_address("support@mail.example", "mail.example") is None
