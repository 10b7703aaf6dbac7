"""scripts/package.py finishes whatever functions Chalice generated, including ones app.py adds later.

These unit tests feed `finish_template` a template shaped like Chalice's output for an API handler plus
a daily schedule, and variations of it (no packaging, no network); test_stack.py checks the real output.
"""
from __future__ import annotations

import copy

import pytest

from tests.infra import templates

PLACEHOLDER = "arn:aws:iam::000000000000:role/placeholder"
SCRIPT = templates.package_script()


def _function(events=None):
    props = {"Runtime": "python3.11", "Handler": "app.app", "CodeUri": "./deployment.zip", "Role": PLACEHOLDER}
    if events:
        props["Events"] = events
    return {"Type": "AWS::Serverless::Function", "Properties": props}


def _log_group(target):
    return {"Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${%s}" % target}, "RetentionInDays": 30}}


def chalice_like_output():
    return {
        "Resources": {
            "LambdaRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "AsyncDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "ScheduleDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "ApiAccessLogGroup": {"Type": "AWS::Logs::LogGroup",
                                  "Properties": {"LogGroupName": "/aws/apigateway/x-access", "RetentionInDays": 1}},
            "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "JobQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "APIHandler": _function(),
            "ApiHandlerLogGroup": _log_group("ApiHandler"),
            "RunDailyPayouts": _function({"RunDailyPayoutsEvent": {
                "Type": "Schedule", "Properties": {"Schedule": "cron(0 6 * * ? *)"}}}),
            "RunDailyPayoutsLogGroup": _log_group("RunDailyPayouts"),
        }
    }


def test_every_function_runs_as_the_infra_role_and_the_placeholder_is_gone():
    template = SCRIPT.finish_template(chalice_like_output(), {PLACEHOLDER})
    for name in ("APIHandler", "RunDailyPayouts"):
        assert template["Resources"][name]["Properties"]["Role"] == {"Fn::GetAtt": ["LambdaRole", "Arn"]}
    assert PLACEHOLDER not in str(template)


def test_only_asynchronous_functions_get_the_dead_letter_queue():
    resources = SCRIPT.finish_template(chalice_like_output(), {PLACEHOLDER})["Resources"]
    assert resources["RunDailyPayouts"]["Properties"]["DeadLetterQueue"] == {
        "Type": "SQS", "TargetArn": {"Fn::GetAtt": ["AsyncDeadLetterQueue", "Arn"]},
    }
    assert "DeadLetterQueue" not in resources["APIHandler"]["Properties"]


def test_every_function_gets_errors_and_throttles_alarms():
    resources = SCRIPT.finish_template(chalice_like_output(), {PLACEHOLDER})["Resources"]
    for name in ("APIHandler", "RunDailyPayouts"):
        for metric in ("Errors", "Throttles"):
            alarm = resources[f"{name}{metric}Alarm"]["Properties"]
            assert alarm["MetricName"] == metric
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": name}}]
            assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_api_handler_log_group_names_the_api_handler():
    resources = SCRIPT.finish_template(chalice_like_output(), {PLACEHOLDER})["Resources"]
    assert resources["ApiHandlerLogGroup"]["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${APIHandler}"}
    assert resources["RunDailyPayoutsLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${RunDailyPayouts}"
    }


def test_finishing_twice_changes_nothing():
    once = SCRIPT.finish_template(chalice_like_output(), {PLACEHOLDER})
    assert SCRIPT.finish_template(copy.deepcopy(once), {PLACEHOLDER}) == once


def test_a_function_with_a_role_of_its_own_is_refused():
    template = chalice_like_output()
    template["Resources"]["RunDailyPayouts"]["Properties"]["Role"] = {"Fn::GetAtt": ["RunDailyPayoutsRole", "Arn"]}
    with pytest.raises(SCRIPT.PackageError, match="RunDailyPayouts has role"):
        SCRIPT.finish_template(template, {PLACEHOLDER})


def test_a_merge_without_the_infra_resources_is_refused():
    template = chalice_like_output()
    del template["Resources"]["AsyncDeadLetterQueue"]
    with pytest.raises(SCRIPT.PackageError, match="AsyncDeadLetterQueue"):
        SCRIPT.finish_template(template, {PLACEHOLDER})


def test_a_log_group_of_no_function_is_refused():
    template = chalice_like_output()
    template["Resources"]["StrayLogGroup"] = _log_group("NoSuchFunction")
    with pytest.raises(SCRIPT.PackageError, match="NoSuchFunction"):
        SCRIPT.finish_template(template, {PLACEHOLDER})


def test_the_stage_placeholders_come_from_the_chalice_config():
    assert SCRIPT._role_placeholders("dev") == {"arn:aws:iam::000000000000:role/replaced-by-scripts-package-py"}
    assert SCRIPT._role_placeholders("prod") == SCRIPT._role_placeholders("dev")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_aws_stage_configs_leave_resources_to_infra(stage, infra):
    import json

    config = json.loads((templates.ROOT / ".chalice" / "config.json").read_text())
    entry = config["stages"][stage]
    assert entry["manage_iam_role"] is False
    assert entry["iam_role_arn"] in SCRIPT._role_placeholders(stage)
    # CloudWatch accepts only these retention periods.
    assert entry["log_retention_in_days"] in {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731}
    # infra's 5xx alarm watches the stage named "api".
    assert entry["api_gateway_stage"] == "api"
    assert entry["environment_variables"]["MARKET_STAGE"] == stage
    globals_ = set(infra["Globals"]["Function"]["Environment"]["Variables"])
    plain = set(entry["environment_variables"]) | set(config.get("environment_variables", {}))
    assert not plain & globals_, "a plain value would override the stack's reference"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_per_function_settings_name_functions_that_exist(stage):
    import json

    from app import app

    config = json.loads((templates.ROOT / ".chalice" / "config.json").read_text())
    names = {source.name for source in app.event_sources} | {"api_handler"}
    for name in config["stages"][stage].get("lambda_functions", {}):
        assert name in names, f"lambda_functions.{name} names no function of app.py (it would be ignored)"


def test_every_schedule_rule_dead_letters_to_a_queue_that_admits_exactly_those_rules():
    template = chalice_like_output()
    template["Resources"]["RunHourly"] = _function({
        "Hourly": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}},
        "OnDeploy": {"Type": "CloudWatchEvent", "Properties": {"Pattern": {"source": ["aws.cloudformation"]}}},
    })
    resources = SCRIPT.finish_template(template, {PLACEHOLDER})["Resources"]
    dead_letters = {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}
    for function, event in [("RunDailyPayouts", "RunDailyPayoutsEvent"), ("RunHourly", "Hourly"),
                            ("RunHourly", "OnDeploy")]:
        assert resources[function]["Properties"]["Events"][event]["Properties"]["DeadLetterConfig"] == dead_letters
    (statement,) = resources["ScheduleDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    # SAM names each rule <function><event>.
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": [rule, "Arn"]} for rule in ("RunDailyPayoutsRunDailyPayoutsEvent", "RunHourlyHourly",
                                                    "RunHourlyOnDeploy")
    ]


def test_without_a_schedule_no_queue_policy_is_written():
    template = chalice_like_output()
    del template["Resources"]["RunDailyPayouts"]
    del template["Resources"]["RunDailyPayoutsLogGroup"]
    assert "ScheduleDeadLetterQueuePolicy" not in SCRIPT.finish_template(template, {PLACEHOLDER})["Resources"]


def _skipped(resource):
    return {entry["id"]: entry["comment"] for entry in resource["Metadata"]["checkov"]["skip"]}


def test_functions_and_their_log_groups_carry_the_checkov_skips_with_reasons():
    resources = SCRIPT.finish_template(chalice_like_output(), {PLACEHOLDER})["Resources"]
    # Only the synchronous API handler may go without a Lambda dead-letter queue.
    assert set(_skipped(resources["APIHandler"])) == {"CKV_AWS_117", "CKV_AWS_173", "CKV_AWS_116"}
    assert set(_skipped(resources["RunDailyPayouts"])) == {"CKV_AWS_117", "CKV_AWS_173"}
    for name in ("ApiHandlerLogGroup", "RunDailyPayoutsLogGroup"):
        assert set(_skipped(resources[name])) == {"CKV_AWS_158"}
    for resource in ("APIHandler", "RunDailyPayouts", "ApiHandlerLogGroup"):
        assert all(len(reason) > 40 for reason in _skipped(resources[resource]).values())


def test_skips_already_in_the_metadata_are_kept_and_not_repeated():
    template = chalice_like_output()
    template["Resources"]["APIHandler"]["Metadata"] = {"checkov": {"skip": [
        {"id": "CKV_AWS_117", "comment": "kept as written"}, {"id": "CKV_AWS_999", "comment": "other"}]}}
    skips = SCRIPT.finish_template(template, {PLACEHOLDER})["Resources"]["APIHandler"]["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skips] == ["CKV_AWS_117", "CKV_AWS_999", "CKV_AWS_173", "CKV_AWS_116"]
    assert skips[0]["comment"] == "kept as written"


def test_the_access_log_is_kept_as_long_as_the_function_logs():
    resources = SCRIPT.finish_template(chalice_like_output(), {PLACEHOLDER})["Resources"]
    assert resources["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == 30


def test_the_job_worker_reads_infras_queue_and_reports_failed_jobs_one_by_one():
    template = chalice_like_output()
    template["Resources"]["JobsWorker"] = _function({"JobsWorkerSqsEventSource": {
        "Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:000000000000:marketplace-jobs",
                                      "BatchSize": 10}}})
    resources = SCRIPT.finish_template(template, {PLACEHOLDER})["Resources"]
    worker = resources["JobsWorker"]
    source = worker["Properties"]["Events"]["JobsWorkerSqsEventSource"]["Properties"]
    assert source["Queue"] == {"Fn::GetAtt": ["JobQueue", "Arn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "DeadLetterQueue" not in worker["Properties"]  # the queue's redrive policy handles failures
    assert "CKV_AWS_116" in {s["id"] for s in worker["Metadata"]["checkov"]["skip"]}


def test_another_poll_based_event_source_is_refused_until_infra_supports_it():
    template = chalice_like_output()
    template["Resources"]["OnStream"] = _function({"OnStreamEvent": {
        "Type": "Kinesis", "Properties": {"Stream": "arn:aws:kinesis:us-east-1:000000000000:stream/s"}}})
    with pytest.raises(SCRIPT.PackageError, match=r"OnStream has event sources \['Kinesis'\]"):
        SCRIPT.finish_template(template, {PLACEHOLDER})
