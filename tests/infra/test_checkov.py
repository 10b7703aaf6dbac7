"""The packaged stage template passes checkov (an IaC security scanner) with no failed check.

checkov runs from its own venv (`.venv-checkov`, made by `make test`: it pins a boto3 the runtime cannot
use) on the SAM template `make package` writes, offline (`--skip-download`). A check that does not fit is
skipped in the resource's Metadata with a written reason; every skip must be one of the decisions listed
in docs/decisions.md ("Deploy"), so a new skip is a decision someone writes down, not a way to go green.
A copy of the template with those fixes undone shows the scan is not a rubber stamp.
"""
from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra import templates

CHECKOV = templates.ROOT / ".venv-checkov" / "bin" / "checkov"

# Check id -> the resources allowed to skip it (docs/decisions.md, "Deploy", says why for each).
DOCUMENTED_SKIPS = {
    # synchronous, or fed by SQS (the queue redrives to its own dead-letter queue): a Lambda DLQ never fills
    "CKV_AWS_116": {"AWS::Serverless::Function.APIHandler", "AWS::Serverless::Function.JobsWorker"},
    "CKV_AWS_117": {"AWS::Serverless::Function.*"},  # no VPC
    "CKV_AWS_173": {"AWS::Serverless::Function.*"},  # environment with Lambda's AWS managed key
    "CKV_AWS_158": {"AWS::Logs::LogGroup.*"},  # logs with CloudWatch Logs' own key
    "CKV_AWS_149": {"AWS::SecretsManager::Secret.StripeSecret", "AWS::SecretsManager::Secret.CursorSecret",
                    "AWS::SecretsManager::Secret.PseudonymSecret"},
    "CKV_AWS_119": {"AWS::DynamoDB::Table.MarketTable"},  # AWS owned key
    "CKV_AWS_26": {"AWS::SNS::Topic.AlarmTopic"},  # aws/sns would silence every alarm
    "CKV_AWS_27": {"AWS::SQS::Queue.ScheduleDeadLetterQueue"},  # SQS managed SSE (EventBridge can send)
    "CKV_AWS_73": {"AWS::Serverless::Api.RestAPI"},  # no X-Ray
    "CKV_AWS_120": {"AWS::Serverless::Api.RestAPI"},  # no response cache
}


def scan(path: Path) -> dict[str, Any]:
    """checkov's JSON report (results and summary) for one CloudFormation/SAM template."""
    assert CHECKOV.exists(), f"{CHECKOV} is missing: `make test` installs it (requirements-checkov.txt)"
    run = subprocess.run(
        [str(CHECKOV), "-f", str(path), "--framework", "cloudformation", "--compact", "--skip-download",
         "-o", "json"],
        capture_output=True, text=True, timeout=300,
    )
    # checkov exits 1 when a check fails; anything else (or no JSON) is a broken scan, not a result.
    assert run.returncode in (0, 1), run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    assert report["summary"]["resource_count"] > 0, report["summary"]
    return report


def _documented(check_id: str, resource: str) -> bool:
    allowed = DOCUMENTED_SKIPS.get(check_id, set())
    return resource in allowed or f"{resource.rsplit('.', 1)[0]}.*" in allowed


def _failed(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]


@pytest.fixture(scope="module")
def report(packaged) -> dict[str, Any]:
    return scan(packaged.sam_path)


def test_the_packaged_template_has_no_failed_checkov_check(report):
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert failed == [], "\n".join(failed)
    assert report["summary"]["passed"] > 0


def test_every_skip_is_a_documented_decision_with_its_reason(report):
    skipped = report["results"]["skipped_checks"]
    assert skipped
    for check in skipped:
        where = f"{check['check_id']} on {check['resource']}"
        assert _documented(check["check_id"], check["resource"]), f"{where} is skipped but not a listed decision"
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) > 40 and reason != "No comment provided", f"{where} is skipped without a reason"


def _undo_fixes(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    del resources["AsyncDeadLetterQueue"]["Properties"]["KmsMasterKeyId"]
    del resources["AlarmTopic"]["Metadata"]
    del resources["RestAPI"]["Properties"]["AccessLogSetting"]
    for function in templates.resources_of_type(template, "AWS::Serverless::Function").values():
        function["Properties"].pop("ReservedConcurrentExecutions", None)


def test_undoing_the_fixes_fails_the_scan(packaged, tmp_path):
    broken = copy.deepcopy(packaged.sam)
    _undo_fixes(broken)
    failed = _failed(scan(templates.write_template(broken, tmp_path / "unfixed.json")))
    for expected in [
        ("CKV_AWS_27", "AWS::SQS::Queue.AsyncDeadLetterQueue"),
        ("CKV_AWS_26", "AWS::SNS::Topic.AlarmTopic"),
        ("CKV_AWS_76", "AWS::Serverless::Api.RestAPI"),
        ("CKV_AWS_115", "AWS::Serverless::Function.APIHandler"),
        ("CKV_AWS_115", "AWS::Serverless::Function.DailyPayoutRun"),
    ]:
        assert expected in failed, (expected, failed)
