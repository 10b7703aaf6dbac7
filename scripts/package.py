"""Write the deployable CloudFormation (SAM) template of a stage: `make package STAGE=dev|prod`.

`chalice package` knows the functions, the API and the schedules declared in app.py; infra/resources.yml
knows everything else. Chalice merges the two, but it cannot wire its own functions to resources it has
never heard of, and a merge template can only name resources it knows in advance. So this script runs
the merge and then finishes every generated function the same way, whatever app.py declares:

- its execution role is infra's `LambdaRole` (the stage config says `manage_iam_role: false` and a
  placeholder ARN, which must not survive into the template);
- a function with an asynchronous event source (a schedule, an EventBridge rule, SNS) sends events that
  still fail after Lambda's retries to `AsyncDeadLetterQueue`;
- every EventBridge rule (a schedule) sends the events it could not deliver to the function at all to
  `ScheduleDeadLetterQueue`, whose queue policy admits exactly those rules;
- each function gets an Errors alarm and a Throttles alarm on `AlarmTopic`;
- each function's log group (Chalice's `log_retention_in_days`) names the function (Chalice 1.34 names
  the API handler's wrongly); the API access log group keeps its lines as long;
- functions and their log groups carry the checkov skips that fit every function, each with its reason
  (FUNCTION_SKIPS, SYNCHRONOUS_SKIPS, LOG_GROUP_SKIPS); checkov runs on the result in `make test`.

- a function fed by SQS (the job worker) reads infra's `JobQueue` (whatever queue name app.py gave
  Chalice), with ReportBatchItemFailures on, so one failed job does not send its whole batch back; the
  role's grants on that queue and its dead-letter queue live in infra/resources.yml.

Any other poll-based event source (Kinesis, DynamoDB streams, a second queue) needs read grants and
failure handling of its own; the script refuses to package one until infra/ and this script provide them.

No AWS credentials are used; `chalice package` needs a region (any) and PyPI (Linux wheels).
Output: `<out>/sam.yaml` and `<out>/deployment.zip`, ready for `aws cloudformation package`.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE = ROOT / "infra" / "resources.yml"

ROLE = "LambdaRole"
DEAD_LETTER_QUEUE = "AsyncDeadLetterQueue"
RULE_DEAD_LETTER_QUEUE = "ScheduleDeadLetterQueue"
RULE_DEAD_LETTER_POLICY = "ScheduleDeadLetterQueuePolicy"
ALARM_TOPIC = "AlarmTopic"
JOB_QUEUE = "JobQueue"
ACCESS_LOG_GROUP = "ApiAccessLogGroup"
FUNCTION_TYPE = "AWS::Serverless::Function"
LOG_GROUP_TYPE = "AWS::Logs::LogGroup"
# SAM event types whose invocations are asynchronous (Lambda retries, then the dead-letter queue).
# Poll-based sources (SQS, Kinesis, DynamoDB streams) have their own failure handling on the source.
ASYNC_EVENT_TYPES = frozenset({"Schedule", "ScheduleV2", "CloudWatchEvent", "EventBridgeRule", "SNS", "S3"})
# SAM event types that become an AWS::Events::Rule named <function><event> (SAM's documented naming),
# whose target takes a DeadLetterConfig.
RULE_EVENT_TYPES = frozenset({"Schedule", "CloudWatchEvent", "EventBridgeRule"})
# Poll-based sources this script knows how to finish (the job queue only).
POLL_EVENT_TYPES = frozenset({"SQS"})

# checkov checks that do not fit any function of this stack, with the reason (docs/decisions.md, "Deploy").
FUNCTION_SKIPS = (
    ("CKV_AWS_117", "Not in a VPC: the functions reach only DynamoDB, Secrets Manager (public AWS endpoints, "
                    "IAM-authorised) and Stripe (internet); a VPC would need a NAT gateway for Stripe and adds "
                    "cold start and cost while protecting nothing that is reachable only inside it."),
    ("CKV_AWS_173", "Environment encrypted at rest with Lambda's AWS managed key. It holds resource names and "
                    "the cursor-signing key (pagination only); the Stripe keys live in Secrets Manager. A "
                    "customer managed key adds a key policy and KMS calls for no secret worth it."),
)
# A function invoked only synchronously (the API handler): the caller gets the error, nothing is queued.
SYNCHRONOUS_SKIPS = (
    ("CKV_AWS_116", "Invoked synchronously by API Gateway only: the client receives the error and a Lambda "
                    "dead-letter queue would never receive a message (asynchronous functions get one)."),
)
# A function fed by the job queue: SQS redrives its failed messages to JobDeadLetterQueue.
POLLED_SKIPS = (
    ("CKV_AWS_116", "Fed by the SQS job queue, whose redrive policy moves a message that fails every delivery "
                    "to JobDeadLetterQueue (alarmed); Lambda's own dead-letter queue is for asynchronous "
                    "invocations and would never receive one."),
)
LOG_GROUP_SKIPS = (
    ("CKV_AWS_158", "Encrypted by CloudWatch Logs with its own key. Log lines never hold a token, secret or "
                    "e-mail (structured logging); a customer managed key adds a key policy for the logs "
                    "service and cost for nothing these lines contain."),
)


class PackageError(RuntimeError):
    """The generated template cannot be finished safely (say so rather than deploy something else)."""


def _role_placeholders(stage: str) -> set[str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    found = {config.get("iam_role_arn"), config["stages"].get(stage, {}).get("iam_role_arn")}
    return {arn for arn in found if arn}


def run_chalice_package(stage: str, out_dir: Path) -> None:
    """Run `chalice package` with the infra merge template into `out_dir`."""
    env = dict(os.environ)
    # The template itself is region-agnostic (${AWS::Region}); Chalice only insists on having one.
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1"))
    chalice = Path(sys.executable).parent / "chalice"
    command = [
        str(chalice), "package", "--stage", stage, "--pkg-format", "cloudformation",
        "--merge-template", str(MERGE_TEMPLATE), str(out_dir),
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def _alarm(function: str, metric: str, description: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": "AWS/Lambda",
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ALARM_TOPIC}],
        },
    }


def is_async(function: dict[str, Any]) -> bool:
    events = function.get("Properties", {}).get("Events") or {}
    return any(event.get("Type") in ASYNC_EVENT_TYPES for event in events.values())


def is_polled(function: dict[str, Any]) -> bool:
    events = function.get("Properties", {}).get("Events") or {}
    return any(event.get("Type") in POLL_EVENT_TYPES for event in events.values())


def _skip_checks(resource: dict[str, Any], skips: tuple[tuple[str, str], ...]) -> None:
    """Add checkov skips to a resource's Metadata (once each, keeping any it has)."""
    listed = resource.setdefault("Metadata", {}).setdefault("checkov", {}).setdefault("skip", [])
    present = {entry.get("id") for entry in listed}
    listed.extend({"id": check, "comment": reason} for check, reason in skips if check not in present)


def _wire_job_queue(props: dict[str, Any]) -> None:
    """Point every SQS source at infra's job queue and report failed jobs one by one."""
    for event in (props.get("Events") or {}).values():
        if event.get("Type") == "SQS":
            source = event.setdefault("Properties", {})
            source["Queue"] = {"Fn::GetAtt": [JOB_QUEUE, "Arn"]}
            source["FunctionResponseTypes"] = ["ReportBatchItemFailures"]


def _rule_dead_letters(resources: dict[str, Any], functions: list[str]) -> None:
    """Point every EventBridge rule's target at the rule dead-letter queue and let those rules send to it."""
    rules = []
    for name in functions:
        for event_name, event in (resources[name]["Properties"].get("Events") or {}).items():
            if event.get("Type") in RULE_EVENT_TYPES:
                event.setdefault("Properties", {})["DeadLetterConfig"] = {
                    "Arn": {"Fn::GetAtt": [RULE_DEAD_LETTER_QUEUE, "Arn"]}
                }
                rules.append(f"{name}{event_name}")
    if not rules:
        resources.pop(RULE_DEAD_LETTER_POLICY, None)
        return
    resources[RULE_DEAD_LETTER_POLICY] = {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": RULE_DEAD_LETTER_QUEUE}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "UndeliveredScheduleEvents",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": {"Fn::GetAtt": [RULE_DEAD_LETTER_QUEUE, "Arn"]},
                    "Condition": {"ArnEquals": {"aws:SourceArn": [
                        {"Fn::GetAtt": [rule, "Arn"]} for rule in sorted(rules)
                    ]}},
                }],
            },
        },
    }


def _repair_log_group_names(resources: dict[str, Any], functions: list[str]) -> None:
    """Point each function's log group at the function's logical id.

    Chalice 1.34 renames the API handler to `APIHandler` after naming its log group
    `/aws/lambda/${ApiHandler}`, a reference to nothing: match it to the function case-insensitively.
    """
    by_lower = {name.lower(): name for name in functions}
    for name, res in resources.items():
        if res.get("Type") != "AWS::Logs::LogGroup":
            continue
        group = res["Properties"].get("LogGroupName")
        sub = group.get("Fn::Sub") if isinstance(group, dict) else None
        if not (isinstance(sub, str) and sub.startswith("/aws/lambda/${") and sub.endswith("}")):
            continue
        target = sub[len("/aws/lambda/${"):-1]
        if target in resources:
            continue
        if target.lower() not in by_lower:
            raise PackageError(f"log group {name} names {target}, which is not a function of the template")
        res["Properties"]["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${%s}" % by_lower[target.lower()]}


def _finish_log_groups(resources: dict[str, Any]) -> None:
    """Checkov skips on the functions' log groups; the API access log kept as long as they are."""
    retention = []
    for res in resources.values():
        group = res.get("Properties", {}).get("LogGroupName") if res.get("Type") == LOG_GROUP_TYPE else None
        if isinstance(group, dict) and str(group.get("Fn::Sub", "")).startswith("/aws/lambda/"):
            _skip_checks(res, LOG_GROUP_SKIPS)
            if "RetentionInDays" in res["Properties"]:
                retention.append(res["Properties"]["RetentionInDays"])
    if retention and ACCESS_LOG_GROUP in resources:
        resources[ACCESS_LOG_GROUP]["Properties"]["RetentionInDays"] = max(retention)


def finish_template(template: dict[str, Any], role_placeholders: set[str]) -> dict[str, Any]:
    """Wire every generated function to infra's role, dead-letter queues, alarms and checkov skips (in place)."""
    resources = template["Resources"]
    for needed in (ROLE, DEAD_LETTER_QUEUE, RULE_DEAD_LETTER_QUEUE, ALARM_TOPIC, JOB_QUEUE):
        if needed not in resources:
            raise PackageError(f"infra/resources.yml must declare {needed}: it was not merged in")
    functions = [name for name, res in resources.items() if res.get("Type") == FUNCTION_TYPE]
    if not functions:
        raise PackageError("chalice package produced no function")
    role_ref = {"Fn::GetAtt": [ROLE, "Arn"]}
    for name in functions:
        props = resources[name]["Properties"]
        role = props.get("Role")
        if role != role_ref and not (isinstance(role, str) and role in role_placeholders):
            # A function with a role of its own (per-function IAM config) would escape the
            # least-privilege role and its checks: refuse instead of guessing.
            raise PackageError(f"{name} has role {role!r}; expected the stage's placeholder iam_role_arn")
        props["Role"] = role_ref
        unsupported = {e.get("Type") for e in (props.get("Events") or {}).values()} - ASYNC_EVENT_TYPES - POLL_EVENT_TYPES
        if unsupported:
            raise PackageError(
                f"{name} has event sources {sorted(unsupported)}: grant the role access to them and give them "
                "failure handling (infra/resources.yml, scripts/package.py) before deploying"
            )
        _wire_job_queue(props)
        _skip_checks(resources[name], FUNCTION_SKIPS)
        if is_async(resources[name]):
            props["DeadLetterQueue"] = {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [DEAD_LETTER_QUEUE, "Arn"]}}
        elif is_polled(resources[name]):
            _skip_checks(resources[name], POLLED_SKIPS)
        else:
            _skip_checks(resources[name], SYNCHRONOUS_SKIPS)
        resources[f"{name}ErrorsAlarm"] = _alarm(
            name, "Errors", f"{name} failed (an unhandled error or a timeout)."
        )
        resources[f"{name}ThrottlesAlarm"] = _alarm(
            name, "Throttles", f"{name} was throttled (account or reserved concurrency exhausted)."
        )
    _rule_dead_letters(resources, functions)
    _repair_log_group_names(resources, functions)
    _finish_log_groups(resources)
    leftover = json.dumps(template)
    for placeholder in role_placeholders:
        if placeholder in leftover:
            raise PackageError(f"the placeholder role {placeholder} is still referenced in the template")
    return template


def package(stage: str, out_dir: Path) -> Path:
    """Package `stage` into `out_dir`; return the path of the finished template."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_chalice_package(stage, out_dir)
    # Chalice writes YAML because the merge template is YAML; it is plain (no short-form tags).
    path = out_dir / "sam.yaml"
    template = yaml.safe_load(path.read_text())
    finish_template(template, _role_placeholders(stage))
    path.write_text(yaml.safe_dump(template, sort_keys=False, allow_unicode=True))
    return path


def main(build: Callable[[str, Path], Path] | None = None, description: str | None = None) -> int:
    """The command line of `make package` (scripts/package_locked.py passes its own `build`)."""
    parser = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="a stage of .chalice/config.json (dev, prod)")
    parser.add_argument("--out", help="output directory (default: out/<stage>)")
    args = parser.parse_args()
    if args.stage == "local":
        parser.error("the local stage is not deployed (make run)")
    out_dir = Path(args.out) if args.out else ROOT / "out" / args.stage
    try:
        path = (build or package)(args.stage, out_dir.resolve())
    except (PackageError, subprocess.CalledProcessError) as exc:
        print(f"package failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
