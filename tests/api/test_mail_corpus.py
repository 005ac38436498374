"""The whole mail corpus (../shared/mail, 116 real-world messages) through the inbound handler:
each one is routed (a ticket, triage or a bounce) or quarantined with a reason — never a crash —
and every consumer of what it became runs without failing. The tenant has a customer owning the
domains most corpus senders use, so many of them become tickets."""

from __future__ import annotations

import email.policy
from collections import Counter
from email import message_from_bytes

import pytest
from chalicelib.mail import parser, service

from tests.api.mail_helpers import corpus, receive, support

FILES = sorted(path.name for path in corpus().glob("*.eml"))
DOMAINS = ["company.com", "example.com", "example.org", "example.net", "example.jp", "test.com"]
REASONS = {"no_sender", "auto_reply", "list_mail", "rate_limited", "unmatched_bounce", "too_large",
           "no_customer_recipient"}


def _message_id(name: str) -> str | None:
    return parser.parse((corpus() / name).read_bytes()).message_id


# Corpus files that share a Message-ID (the same message with other line endings, or a copy):
# the later one is a duplicate of the first, whichever the run delivers first.
SHARED_IDS = {mid for mid, n in Counter(filter(None, map(_message_id, FILES))).items() if n > 1}


@pytest.fixture(scope="module")
def corpus_desk(aws, http):
    from tests.conftest import build_tenant

    world = build_tenant(aws, http, roles=("owner",))
    world.as_("owner").post("/customers", {"name": "Corpus Inc", "tier": "smb", "domains": DOMAINS})
    return world


def test_the_corpus_is_all_there():
    assert len(FILES) == 116


@pytest.mark.parametrize("name", FILES)
def test_each_corpus_message_is_routed_or_quarantined_with_a_reason(corpus_desk, deliver, monkeypatch, name):
    monkeypatch.setattr(service, "RATE_LIMIT_PER_HOUR", 10_000)  # the corpus shares a few senders
    raw = (corpus() / name).read_bytes()
    outcome = receive(raw, support(corpus_desk.tenant_id))
    print(f"corpus {name}: {outcome['status']} {outcome.get('reason') or ''}")
    if outcome["status"] == "duplicate":
        assert _message_id(name) in SHARED_IDS, outcome
        return
    assert outcome["status"] in ("routed", "triage", "quarantine", "bounce"), outcome
    assert outcome["mail_id"]
    stored = corpus_desk.as_("owner").get(f"/mail/messages/{outcome['mail_id']}")
    assert stored.status == 200, stored.body
    if outcome["status"] == "quarantine":
        assert stored.json["reason"] in REASONS and stored.json["detail"], stored.json
    if outcome["status"] == "routed":
        assert outcome["ticket_id"] and stored.json["customer_id"]
    parked = [(d.event.type, consumer) for d in deliver() for consumer, result in d.outcomes.items()
              if result == "parked"]
    assert not parked, parked
    if outcome["status"] == "routed":
        ticket = corpus_desk.as_("owner").get(f"/tickets/{outcome['ticket_id']}")
        assert ticket.status == 200 and ticket.json["source"] == "email", ticket.body
    parsed = message_from_bytes(raw, policy=email.policy.default)
    assert parsed is not None
