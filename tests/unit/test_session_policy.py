"""The session policy that confines a tenant's credentials (core.tenant_credentials). moto does
not enforce IAM, so the documents themselves are the proof: what they allow, read the way IAM
reads them (StringLike: `*` and `?` are wildcards; ForAllValues: every key must match)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest
from chalicelib.core.tenant_credentials import (
    ITEM_ACTIONS,
    MAX_SESSION_POLICY_CHARACTERS,
    leading_keys_pattern,
    session_policy,
    session_policy_text,
)


def dynamodb_statement(policy: dict[str, Any]) -> dict[str, Any]:
    (statement,) = [s for s in policy["Statement"] if s["Action"][0].startswith("dynamodb:")]
    return statement


def allows_keys(policy: dict[str, Any], partition_keys: list[str]) -> bool:
    """IAM's reading of the DynamoDB statement for a request naming these partition keys."""
    condition = dynamodb_statement(policy)["Condition"]
    if condition["Null"]["dynamodb:LeadingKeys"] == "false" and not partition_keys:
        return False
    patterns = condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    return all(any(fnmatchcase(key, pattern) for pattern in patterns) for key in partition_keys)


def test_a_tenants_session_reaches_its_own_keys_on_the_table_and_every_index() -> None:
    policy = session_policy("acme", "bluehill")
    statement = dynamodb_statement(policy)
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == ["arn:aws:dynamodb:*:*:table/bluehill",
                                     "arn:aws:dynamodb:*:*:table/bluehill/index/*"]
    assert allows_keys(policy, ["T#acme#CUSTOMER#01j", "T#acme#TASKS#BY_DUE", "T#acme#JOB#01k"])


@pytest.mark.parametrize("keys", [
    ["T#globex#CUSTOMER#01j"],                       # another tenant
    ["T#acme#CUSTOMER#01j", "T#globex#CUSTOMER#02"],  # a batch with one foreign key
    ["T#acmeco#CUSTOMER#01j"],                       # a tenant whose id starts with this one's
    ["SYSDUE#3"],                                    # the system index
    ["CUSTOMER#01j"],                                # an untenanted key
    [],                                              # no key at all (a Scan)
])
def test_a_tenants_session_reaches_no_other_key(keys: list[str]) -> None:
    assert not allows_keys(session_policy("acme", "bluehill"), keys)


def test_a_tenants_session_may_only_read_and_write_items() -> None:
    actions = set(dynamodb_statement(session_policy("acme", "bluehill"))["Action"])
    assert actions == set(ITEM_ACTIONS)
    assert not actions & {"dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:PartiQLSelect",
                          "dynamodb:*"}


def test_a_tenants_files_are_under_its_own_prefix_only() -> None:
    policy = session_policy("acme", "bluehill", "bluehill-files")
    (files,) = [s for s in policy["Statement"] if s["Action"][0].startswith("s3:")]
    assert files["Resource"] == "arn:aws:s3:::bluehill-files/tenants/acme/*"
    assert not fnmatchcase("arn:aws:s3:::bluehill-files/tenants/acmeco/x", files["Resource"])
    assert len(session_policy("acme", "bluehill")["Statement"]) == 1  # no bucket configured: no S3 at all


@pytest.mark.parametrize("tenant_id", ["*", "ac*", "a?c", "acme#x", "${aws:username}", "", "a" * 65, "acme/x"])
def test_a_tenant_id_that_could_widen_the_pattern_is_refused(tenant_id: str) -> None:
    with pytest.raises(ValueError, match="IAM pattern"):
        leading_keys_pattern(tenant_id)


def test_the_policy_fits_sts_limit_for_the_longest_names() -> None:
    text = session_policy_text("t" * 64, "x" * 255, "b" * 63)
    assert len(text) <= MAX_SESSION_POLICY_CHARACTERS
    assert json.loads(text) == session_policy("t" * 64, "x" * 255, "b" * 63)
