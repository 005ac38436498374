"""The files room's pure rules: filename sanitising, the declared type's allowlist and
extensions, the leading-bytes check of what arrived, external-document links; and the local
S3's form-POST policy check (bluehill_dev.s3_post_policy)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.files import rules
from hypothesis import given
from hypothesis import strategies as st

from bluehill_dev import s3_post_policy

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\me\\Q3 report.xlsx", "Q3 report.xlsx"),
    ("  .hidden.txt", "hidden.txt"),
    ("a\x00b\u202e.pdf", "a_b_.pdf"),
    ("Résumé  final.pdf", "Résumé final.pdf"),
    ("$(rm -rf).pdf", "(rm -rf).pdf"),
    ("..", ""),
    ("/", ""),
])
def test_filenames_are_sanitised(raw, clean):
    assert rules.sanitise_filename(raw) == clean


@given(st.text(max_size=400))
def test_a_sanitised_name_is_one_safe_component_within_the_byte_limit(raw):
    name = rules.sanitise_filename(raw)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert len(name.encode()) <= rules.MAX_FILENAME_BYTES
    assert all(ord(ch) >= 32 for ch in name)
    assert rules.sanitise_filename(name) == name
    key = rules.key_name(name or "x")
    assert key and all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in key)


def test_long_names_keep_their_extension():
    assert rules.sanitise_filename("é" * 300 + ".pdf").endswith("é.pdf")


def test_the_declared_type_must_be_allowed_and_match_the_extension():
    assert rules.type_problem("a.pdf", "application/pdf") is None
    assert rules.type_problem("a.exe", "application/x-msdownload")[0] == "content_type"
    assert rules.type_problem("a.svg", "image/svg+xml")[0] == "content_type"
    assert rules.type_problem("a.exe", "application/pdf")[0] == "filename"
    assert rules.type_problem("photo.JPG", "image/jpeg") is None


@pytest.mark.parametrize(("content_type", "head", "problem"), [
    ("application/pdf", b"%PDF-1.4 ...", None),
    ("application/pdf", b"MZ\x90\x00", "Windows executable"),
    ("application/pdf", b"\x7fELF\x02", "ELF executable"),
    ("image/png", PNG, None),
    ("image/png", b"GIF89a....", "does not start as a image/png"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04rest", None),
    ("application/msword", b"PK\x03\x04", "does not start"),
    ("image/webp", b"RIFF\x00\x00\x00\x00WAVE", "does not start as a image/webp"),
    ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", None),
    ("text/csv", b"name,amount\nAcme,3\n", None),
    ("text/plain", b"#!/bin/sh\nrm -rf /\n", "a script"),
    ("text/plain", b"\xff\xfe\x00h", "not UTF-8 text"),
    ("text/plain", b"bin\x00ary", "not UTF-8 text"),
])
def test_leading_bytes_are_checked_against_the_declared_type(content_type, head, problem):
    found = rules.content_problem(content_type, len(head), len(head), head)
    assert (found is None) if problem is None else (problem in found), found


def test_a_utf8_character_cut_at_the_sniff_boundary_is_still_text():
    head = ("a" * (rules.SNIFF_BYTES - 1) + "é").encode()[: rules.SNIFF_BYTES]
    assert rules.content_problem("text/plain", 10_000, 10_000, head) is None


def test_the_real_size_must_be_the_declared_one():
    assert "declared" in rules.content_problem("application/pdf", 10, 11, b"%PDF-")


@pytest.mark.parametrize(("url", "provider"), [
    ("https://docs.google.com/document/d/1/edit", "google_drive"),
    ("https://drive.google.com/file/d/1", "google_drive"),
    ("https://onedrive.live.com/?id=1", "onedrive"),
    ("https://acme.sharepoint.com/sites/x", "onedrive"),
    ("https://www.notion.so/acme/Page-1", "notion"),
    ("https://acme.notion.site/Page", "notion"),
    ("http://docs.google.com/document/d/1", None),
    ("https://docs.google.com.evil.example/x", None),
    ("https://evil-docs.google.com/x", None),
    ("https://user:pw@docs.google.com/x", None),
    ("javascript:alert(1)", None),
])
def test_only_https_links_to_known_document_services(url, provider):
    assert rules.link_provider(url) == provider


def test_the_download_disposition_is_an_attachment_with_the_exact_name():
    assert rules.content_disposition('Ré"port.pdf') == (
        "attachment; filename=\"Re_port.pdf\"; filename*=UTF-8''R%C3%A9%22port.pdf")


def _form(conditions, expires_in=timedelta(minutes=5), **fields):
    expiration = (datetime.now(UTC) + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()
    return {"policy": policy, "x-amz-signature": "sig", **fields}


CONDITIONS = [{"bucket": "b"}, ["eq", "$key", "k"], ["eq", "$Content-Type", "application/pdf"],
              ["content-length-range", 10, 10]]


def test_the_local_s3_accepts_a_form_post_inside_its_policy():
    s3_post_policy.check(_form(CONDITIONS, key="k", **{"Content-Type": "application/pdf"}), 10, "b")


PDF_FIELDS = {"key": "k", "Content-Type": "application/pdf"}
IN_FIVE_MINUTES, A_MINUTE_AGO = timedelta(minutes=5), timedelta(minutes=-1)


# The forms are made when each test runs: a policy made at collection may expire before a long suite reaches it.
@pytest.mark.parametrize(("expires_in", "fields", "length", "code"), [
    (IN_FIVE_MINUTES, PDF_FIELDS, 11, "EntityTooLarge"),
    (IN_FIVE_MINUTES, PDF_FIELDS, 9, "EntityTooSmall"),
    (IN_FIVE_MINUTES, {**PDF_FIELDS, "key": "other"}, 10, "AccessDenied"),
    (IN_FIVE_MINUTES, {"key": "k", "content-type": "text/html"}, 10, "AccessDenied"),
    (IN_FIVE_MINUTES, {**PDF_FIELDS, "acl": "public-read"}, 10, "AccessDenied"),
    (A_MINUTE_AGO, PDF_FIELDS, 10, "AccessDenied"),
])
def test_the_local_s3_refuses_what_s3_refuses(expires_in, fields, length, code):
    with pytest.raises(s3_post_policy.Refused) as refused:
        s3_post_policy.check(_form(CONDITIONS, expires_in, **fields), length, "b")
    assert refused.value.code == code


def test_the_upload_handler_reads_eventbridge_and_s3_notification_shapes():
    from pathlib import Path

    from chalicelib.files.jobs import created_objects

    sample = json.loads((Path(__file__).resolve().parents[2] / "events" / "files-uploaded.json").read_text())
    assert created_objects(sample) == [
        ("bluehill-files", "tenants/tdemo/files/01jexamplefile0000000000000/Statement_of_work.pdf")]
    notification = {"Records": [
        {"eventName": "ObjectCreated:Post", "s3": {"bucket": {"name": "b"}, "object": {"key": "tenants/t/a+b%21.pdf"}}},
        {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "b"}, "object": {"key": "x"}}}]}
    assert created_objects(notification) == [("b", "tenants/t/a b!.pdf")]
    assert created_objects({**sample, "detail-type": "Object Deleted"}) == []
