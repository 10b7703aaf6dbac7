"""The code asks AWS for nothing the execution role does not grant.

test_iam.py pins the grants; this reads chalicelib/ for calls that would need more. It matters most for
code that no API test exercises through the Scan guard, such as scheduled jobs: in AWS a Scan or a
DescribeTable there is an AccessDenied at 06:00, not a test failure.
"""
from __future__ import annotations

import re

import pytest

from tests.infra import templates

CHALICELIB = templates.ROOT / "chalicelib"
# Only the local stage creates its table (pynamodb's exists/create_table call DescribeTable/CreateTable).
LOCAL_ONLY = {CHALICELIB / "db" / "table.py"}
# pynamodb calls that need an IAM action the role does not have.
NEEDS_MORE = {
    r"\.scan\(": "dynamodb:Scan",
    r"\b[A-Z]\w*\.count\(": "Model.count (Query, or DescribeTable without a hash key)",
    r"\.describe_table\(": "dynamodb:DescribeTable",
    r"\b[A-Z]\w*(?:Item|Model)\.exists\(\)": "Model.exists (DescribeTable)",
    r"\.create_table\(|\.delete_table\(|\.update_ttl\(": "table administration",
}
# AWS services the role grants (boto3 clients in the code must be among them).
GRANTED_SERVICES = {"secretsmanager", "sqs", "kms"}


def _sources():
    return [p for p in sorted(CHALICELIB.rglob("*.py")) if p not in LOCAL_ONLY]


def _offending(pattern, paths):
    hits = []
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(pattern, code):
                hits.append(f"{path.relative_to(templates.ROOT)}:{number}: {line.strip()}")
    return hits


@pytest.mark.parametrize("pattern", sorted(NEEDS_MORE))
def test_no_dynamodb_call_beyond_the_granted_actions(pattern):
    hits = _offending(pattern, _sources())
    assert not hits, f"{NEEDS_MORE[pattern]} is not granted to the functions:\n" + "\n".join(hits)


def test_boto3_clients_only_for_granted_services():
    used = set()
    for path in _sources():
        used |= set(re.findall(r"boto3\.(?:client|resource)\(\s*[\"'](\w+)[\"']", path.read_text()))
    assert used <= GRANTED_SERVICES, f"the role grants nothing on {sorted(used - GRANTED_SERVICES)}"


SAMPLES = {
    r"\.scan\(": "for row in MarketItem.scan(MarketItem.kind == 'partner'):",
    r"\b[A-Z]\w*\.count\(": "total = PartnerItem.count()",
    r"\.describe_table\(": "MarketItem.describe_table()",
    r"\b[A-Z]\w*(?:Item|Model)\.exists\(\)": "if not MarketItem.exists():",
    r"\.create_table\(|\.delete_table\(|\.update_ttl\(": "MarketItem.update_ttl(ignore_update_ttl_errors=True)",
}


@pytest.mark.parametrize("pattern", sorted(NEEDS_MORE))
def test_each_pattern_catches_the_call_it_names(pattern):
    assert re.search(pattern, SAMPLES[pattern])


def test_conditions_on_attributes_are_not_mistaken_for_table_calls():
    for line in ("condition=PartnerItem.pk.exists()", "ReviewItem.reply.does_not_exist()",
                 "itertools.count(1)", "spec.path.count('{')"):
        assert not any(re.search(p, line) for p in NEEDS_MORE), line
