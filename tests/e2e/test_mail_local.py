"""Mail on the local stack as `make dev` runs it: `bluehill mail receive` puts a corpus message
into the local inbound bucket, the stack's S3 notification runs the inbound handler and a ticket
appears; the team's answer goes out through the local SES (`bluehill mail outbox`), and a reply
to it lands on the same ticket."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_local_stack import BLUEHILL, LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only("`bluehill mail` and the local inbound bucket")]

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "mail"
DOMAIN = "mail.bluehill.localhost"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    if not CORPUS.is_dir():
        pytest.fail(f"the mail corpus is missing: expected {CORPUS.resolve()}")
    running = LocalStack(tmp_path_factory.mktemp("e2e-mail") / "local")
    running.start()
    try:
        yield running
    finally:
        assert running.stop() == 0, running.output()


def bluehill(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([BLUEHILL, *args], env=stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


def within(seconds: float, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_a_received_corpus_message_opens_a_ticket_and_a_reply_to_our_answer_lands_on_it(
        stack: LocalStack, tmp_path: Path) -> None:
    admin = stack.token("demo", "admin")
    customer = stack.request("POST", "/customers", admin, {"name": f"Company {uuid.uuid4().hex[:6]}",
                                                          "domains": ["company.com"]})
    assert customer.status == 201, customer.body
    bluehill(stack, "mail", "receive", str(CORPUS / "001-gmail-qp-subject-attachment.eml"))

    def email_tickets() -> list[dict[str, Any]]:
        listed = stack.request("GET", f"/customers/{customer.body['id']}/tickets", admin)
        return [t for t in listed.body.get("items", []) if t["source"] == "email"] if listed.status == 200 else []

    tickets = within(20, email_tickets)
    assert len(tickets) == 1 and tickets[0]["subject"] == "Mail avec fichier attaché de 1ko"
    ticket_id = tickets[0]["id"]

    marker = f"We are looking into it {uuid.uuid4().hex}"
    posted = stack.request("POST", f"/tickets/{ticket_id}/messages", admin, {"body": marker})
    assert posted.status == 201, posted.body

    def our_answer() -> dict[str, Any] | None:
        sent = [json.loads(chunk) for chunk in _json_objects(bluehill(stack, "mail", "outbox").stdout)]
        return next((mail for mail in sent if marker in mail.get("body", "")), None)

    answer = within(20, our_answer)
    assert answer is not None and set(answer["destinations"]) == {"name@company.com"}  # moto repeats To
    assert answer["headers"]["Reply-To"].startswith("support+t.")

    reply = EmailMessage()
    reply["From"] = "Name <name@company.com>"
    reply["To"] = answer["headers"]["Reply-To"]
    reply["Subject"] = "Re: " + answer["headers"]["Subject"]
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@company.com>"
    reply["In-Reply-To"] = answer["headers"]["Message-ID"]
    reply.set_content("Thanks, it works now.")
    path = tmp_path / "reply.eml"
    path.write_bytes(reply.as_bytes())
    bluehill(stack, "mail", "receive", str(path), "--to", answer["headers"]["Reply-To"])

    def replied() -> bool:
        messages = stack.request("GET", f"/tickets/{ticket_id}/messages", admin).body.get("items", [])
        return any(m["body"] == "Thanks, it works now." for m in messages)

    assert within(20, replied)
    assert within(10, lambda: [t["id"] for t in email_tickets()] == [ticket_id])  # no second ticket


def _json_objects(text: str) -> list[str]:
    """The pretty-printed JSON objects `bluehill mail outbox` prints, one after another."""
    chunks, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth, start = depth + 1, start if depth else index
        elif char == "}":
            depth -= 1
            if depth == 0:
                chunks.append(text[start:index + 1])
    return chunks
