"""Write the deployable CloudFormation (SAM) template of a stage: `make package STAGE=dev|prod`.

`chalice package` knows the functions, the API and the schedules declared in app.py; infra/resources.yml
knows everything else. Chalice merges the two, but it cannot wire its own functions to resources it has
never heard of, and a merge template can only name resources it knows in advance. So this script runs
the merge and then finishes every generated function the same way, whatever app.py declares:

- its execution role is infra's `LambdaRole` (the stage config says `manage_iam_role: false` and a
  placeholder ARN, which must not survive into the template);
- a function with an asynchronous event source (a schedule, an EventBridge rule, SNS) sends events that
  still fail after Lambda's retries to `AsyncDeadLetterQueue`;
- each function gets an Errors alarm and a Throttles alarm on `AlarmTopic`;
- each function's log group (Chalice's `log_retention_in_days`) names the function (Chalice 1.34 names
  the API handler's wrongly).

A poll-based event source (SQS, Kinesis, DynamoDB streams) needs read grants on its source and failure
handling of its own; the script refuses to package one until infra/ and this script provide them.

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
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE = ROOT / "infra" / "resources.yml"

ROLE = "LambdaRole"
DEAD_LETTER_QUEUE = "AsyncDeadLetterQueue"
ALARM_TOPIC = "AlarmTopic"
FUNCTION_TYPE = "AWS::Serverless::Function"
# SAM event types whose invocations are asynchronous (Lambda retries, then the dead-letter queue).
# Poll-based sources (SQS, Kinesis, DynamoDB streams) have their own failure handling on the source.
ASYNC_EVENT_TYPES = frozenset({"Schedule", "ScheduleV2", "CloudWatchEvent", "EventBridgeRule", "SNS", "S3"})


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


def finish_template(template: dict[str, Any], role_placeholders: set[str]) -> dict[str, Any]:
    """Wire every generated function to infra's role, dead-letter queue and alarms (in place)."""
    resources = template["Resources"]
    for needed in (ROLE, DEAD_LETTER_QUEUE, ALARM_TOPIC):
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
        unsupported = {e.get("Type") for e in (props.get("Events") or {}).values()} - ASYNC_EVENT_TYPES
        if unsupported:
            raise PackageError(
                f"{name} has event sources {sorted(unsupported)}: grant the role access to them and give them "
                "failure handling (infra/resources.yml, scripts/package.py) before deploying"
            )
        if is_async(resources[name]):
            props["DeadLetterQueue"] = {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [DEAD_LETTER_QUEUE, "Arn"]}}
        resources[f"{name}ErrorsAlarm"] = _alarm(
            name, "Errors", f"{name} failed (an unhandled error or a timeout)."
        )
        resources[f"{name}ThrottlesAlarm"] = _alarm(
            name, "Throttles", f"{name} was throttled (account or reserved concurrency exhausted)."
        )
    _repair_log_group_names(resources, functions)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="a stage of .chalice/config.json (dev, prod)")
    parser.add_argument("--out", help="output directory (default: out/<stage>)")
    args = parser.parse_args()
    if args.stage == "local":
        parser.error("the local stage is not deployed (make run)")
    out_dir = Path(args.out) if args.out else ROOT / "out" / args.stage
    try:
        path = package(args.stage, out_dir)
    except (PackageError, subprocess.CalledProcessError) as exc:
        print(f"package failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
