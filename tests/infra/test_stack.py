"""What the deployed stack must contain, read from the packaged template of the dev stage.

Data that must survive mistakes (the table, the user pool), the identity setup the code expects, the
configuration every function reads, and the operational safety net: log retention, access logs,
dead-letter queues for asynchronous invocations and for the schedule rules, alarms on functions, the API,
the table and the business metrics the code writes, reserved concurrency, and API throttling.
"""
from __future__ import annotations

import json
import re

from chalice.utils import to_cfn_resource_name

from tests.infra import templates

# Settings that have a safe default in config.py and need no value in AWS, or are local-stage only.
NOT_NEEDED_IN_AWS = {
    "MARKET_LOCAL_JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "MARKET_MAX_BODY_BYTES", "AWS_REGION", "AWS_DEFAULT_REGION",
    "MARKET_JOB_QUEUE",  # the queue's name, looked up locally; AWS stages get MARKET_JOB_QUEUE_URL
}


def _functions(packaged):
    return templates.resources_of_type(packaged.translated, "AWS::Lambda::Function")


def _props(template, name):
    return template["Resources"][name]["Properties"]


def test_the_table_is_retained_protected_recoverable_and_encrypted(packaged):
    table = packaged.translated["Resources"]["MarketTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_the_user_pool_has_admin_and_finance_groups_and_a_public_app_client(packaged):
    t = packaged.translated
    pool = t["Resources"]["UserPool"]
    assert pool["DeletionPolicy"] == "Retain"
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    groups = {
        p["Properties"]["GroupName"]
        for p in templates.resources_of_type(t, "AWS::Cognito::UserPoolGroup").values()
        if p["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    }
    assert groups == {"admin", "finance"}
    clients = templates.resources_of_type(t, "AWS::Cognito::UserPoolClient")
    assert list(clients) == ["UserPoolClient"]
    assert clients["UserPoolClient"]["Properties"]["GenerateSecret"] is False


def test_every_function_gets_every_setting_the_code_reads_in_aws(packaged):
    source = (templates.ROOT / "chalicelib" / "config.py").read_text()
    read = set(re.findall(r'(?:env|_int)\("([A-Z0-9_]+)"', source))
    assert {"MARKET_TABLE", "MARKET_CURSOR_SECRET"} <= read  # the pattern still finds the settings
    needed = read - NOT_NEEDED_IN_AWS
    for name, function in _functions(packaged).items():
        variables = function["Properties"]["Environment"]["Variables"]
        missing = needed - set(variables)
        assert not missing, f"{name} lacks {sorted(missing)} (add them to infra Globals or the stage config)"
        assert variables["MARKET_STAGE"] == "dev"


def test_settings_name_the_resources_of_this_stack(packaged):
    variables = packaged.sam["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["MARKET_TABLE"] == {"Ref": "MarketTable"}
    assert variables["MARKET_JWT_AUDIENCE"] == {"Ref": "UserPoolClient"}
    assert variables["MARKET_STRIPE_SECRETS_PARAMETER"] == {"Ref": "StripeSecret"}
    issuer = variables["MARKET_JWT_ISSUER"]["Fn::Sub"]
    assert issuer == "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    assert variables["MARKET_JWKS_URL"]["Fn::Sub"] == issuer + "/.well-known/jwks.json"
    assert variables["MARKET_CURSOR_SECRET"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${CursorSecret}:SecretString}}"
    }
    # A function-level value from .chalice/config.json would silently override the Globals.
    for name, function in templates.resources_of_type(packaged.sam, "AWS::Serverless::Function").items():
        overlap = set(variables) & set(function["Properties"].get("Environment", {}).get("Variables", {}))
        assert not overlap, f"{name} overrides {sorted(overlap)} from the stage config"


def test_every_function_has_a_log_group_with_retention(packaged):
    groups = {
        p["Properties"]["LogGroupName"]["Fn::Sub"]: p["Properties"].get("RetentionInDays")
        for p in templates.resources_of_type(packaged.translated, "AWS::Logs::LogGroup").values()
    }
    for name in _functions(packaged):
        assert groups.get("/aws/lambda/${%s}" % name) == 30, f"{name} has no log group with retention"


def test_every_function_has_error_and_throttle_alarms(packaged):
    alarms = templates.resources_of_type(packaged.translated, "AWS::CloudWatch::Alarm").values()
    watched = {
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Ref"])
        for a in alarms if a["Properties"].get("Namespace") == "AWS/Lambda"
    }
    for name in _functions(packaged):
        assert {("Errors", name), ("Throttles", name)} <= watched
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_api_5xx_alarm_watches_this_api_and_stage(packaged):
    t = packaged.translated
    stage = next(iter(templates.resources_of_type(t, "AWS::ApiGateway::Stage").values()))["Properties"]
    api = _props(t, "RestAPI")
    alarm = _props(t, "Api5xxAlarm")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert dimensions == {"ApiName": api["Name"], "Stage": stage["StageName"]}
    assert api["Body"]["info"]["title"] == api["Name"]


def test_the_api_stage_is_throttled(packaged):
    stage = next(iter(templates.resources_of_type(packaged.translated, "AWS::ApiGateway::Stage").values()))
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}


def test_every_schedule_in_app_py_is_packaged_with_the_dead_letter_queue(packaged):
    from app import app

    functions = templates.resources_of_type(packaged.sam, "AWS::Serverless::Function")
    scheduled = [source for source in app.event_sources if getattr(source, "schedule_expression", None)]
    for source in scheduled:
        name = to_cfn_resource_name(source.name)
        events = functions[name]["Properties"]["Events"].values()
        assert any(e["Type"] == "Schedule" for e in events), name
    script = templates.package_script()
    for name, function in functions.items():
        if script.is_async(function):
            assert function["Properties"]["DeadLetterQueue"] == {
                "Type": "SQS", "TargetArn": {"Fn::GetAtt": ["AsyncDeadLetterQueue", "Arn"]},
            }, name
        else:
            assert "DeadLetterQueue" not in function["Properties"], name
    queue = packaged.translated["Resources"]["AsyncDeadLetterQueue"]["Properties"]
    # Lambda sends with the function's role, which the AWS managed key admits.
    assert queue["KmsMasterKeyId"] == "alias/aws/sqs"
    assert _props(packaged.translated, "DeadLetterQueueAlarm")["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["AsyncDeadLetterQueue", "QueueName"]
    }


def _alarms(template):
    return templates.resources_of_type(template, "AWS::CloudWatch::Alarm")


def test_every_schedule_rule_sends_undelivered_events_to_a_queue_only_those_rules_may_write(packaged):
    t = packaged.translated
    rules = templates.resources_of_type(t, "AWS::Events::Rule")
    assert rules, "app.py schedules the daily payout run"
    dead_letters = {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
    for name, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": dead_letters}, name
    (policy,) = [
        p["Properties"] for p in templates.resources_of_type(t, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": "ScheduleDeadLetterQueue"}]
    ]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == dead_letters
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(s["Fn::GetAtt"][0] for s in sources) == sorted(rules)
    # EventBridge cannot use the AWS managed key aws/sqs: SQS managed encryption instead.
    queue = _props(t, "ScheduleDeadLetterQueue")
    assert queue["SqsManagedSseEnabled"] is True and "KmsMasterKeyId" not in queue


def test_every_queue_has_a_depth_alarm(packaged):
    t = packaged.translated
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in _alarms(t).values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a["Properties"]["ComparisonOperator"] == "GreaterThanThreshold" and a["Properties"]["Threshold"] == 0
    }
    work_queues = {"JobQueue"}  # holds messages by design: its alarm is on the age of the oldest one
    assert set(templates.resources_of_type(t, "AWS::SQS::Queue")) - work_queues == watched
    aged = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in _alarms(t).values() if a["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"
    }
    assert aged == work_queues


# alarm -> (metric, comparison, threshold) on the EMF metrics the code writes.
BUSINESS_ALARMS = {
    "PayoutFailedAlarm": ("PayoutsFailed", "GreaterThanOrEqualToThreshold", 1),
    "ReconciliationDiscrepancyAlarm": ("ReconciliationDiscrepancies", "GreaterThanOrEqualToThreshold", 1),
    "WebhookSignatureBurstAlarm": (
        "WebhookSignaturesRejected", "GreaterThanOrEqualToThreshold", {"Ref": "WebhookRejectionAlarmThreshold"}
    ),
    "PayoutRunMissingAlarm": ("PayoutRunsCompleted", "LessThanThreshold", 1),
}


def test_business_alarms_watch_metrics_the_code_writes_with_its_only_dimension(packaged):
    from chalicelib.telemetry import metrics

    t = packaged.translated
    for name, (metric, comparison, threshold) in BUSINESS_ALARMS.items():
        alarm = _props(t, name)
        assert metric in metrics.COUNTS, f"{name} watches {metric}, which the code does not write"
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (metrics.NAMESPACE, metric, "Sum")
        # CloudWatch matches every dimension exactly: the alarm must name exactly the metric's one.
        assert alarm["Dimensions"] == [{"Name": "service", "Value": metrics.SERVICE}], name
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (comparison, threshold), name
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert _props(packaged.sam, "WebhookSignatureBurstAlarm")["Period"] == 300
    assert packaged.sam["Parameters"]["WebhookRejectionAlarmThreshold"]["Default"] == 10


def test_no_completed_payout_run_in_26_hours_alarms_and_silence_counts(packaged):
    alarm = _props(packaged.translated, "PayoutRunMissingAlarm")
    window = alarm["Period"] * alarm["EvaluationPeriods"]
    assert window == 26 * 3600
    # Every hour of the window must be empty (one completed run anywhere keeps it OK) ...
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]
    # ... and an hour without the metric is an empty hour, not "insufficient data".
    assert alarm["TreatMissingData"] == "breaching"
    # CloudWatch: a period of an hour or more may span up to 7 days in all (shorter periods: one day).
    assert alarm["Period"] >= 3600 and window <= 7 * 24 * 3600


def test_the_api_p99_latency_alarm_watches_the_same_api_and_stage_as_the_5xx_alarm(packaged):
    t = packaged.translated
    latency, errors = _props(t, "ApiLatencyAlarm"), _props(t, "Api5xxAlarm")
    assert (latency["Namespace"], latency["MetricName"], latency["ExtendedStatistic"]) == (
        "AWS/ApiGateway", "Latency", "p99"
    )
    assert latency["Dimensions"] == errors["Dimensions"]
    assert latency["Threshold"] == {"Ref": "ApiLatencyP99AlarmMs"}


def test_the_throttle_alarm_sums_reads_and_writes_of_the_table_and_every_index(packaged):
    t = packaged.translated
    alarm = _props(t, "TableThrottleAlarm")
    watched = set()
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert dims.pop("TableName") == {"Ref": "MarketTable"}
            watched.add((metric["MetricName"], dims.get("GlobalSecondaryIndexName")))
            assert query["ReturnData"] is False and "FILL(%s, 0)" % query["Id"] in alarm["Metrics"][0]["Expression"]
    indexes = [None] + [i["IndexName"] for i in _props(t, "MarketTable")["GlobalSecondaryIndexes"]]
    assert watched == {(m, i) for m in ("ReadThrottleEvents", "WriteThrottleEvents") for i in indexes}
    assert alarm["Metrics"][0]["ReturnData"] is True
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_the_api_writes_json_access_logs_kept_as_long_as_the_function_logs(packaged):
    t = packaged.translated
    stage = next(iter(templates.resources_of_type(t, "AWS::ApiGateway::Stage").values()))["Properties"]
    setting = stage["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    line = json.loads(setting["Format"])
    assert line["requestId"] == "$context.requestId" and line["status"] == "$context.status"
    assert not any("authorization" in value.lower() for value in line.values())
    assert _props(t, "ApiAccessLogGroup")["RetentionInDays"] == 30


def test_every_function_has_reserved_concurrency_and_the_payout_run_runs_alone(packaged):
    functions = _functions(packaged)
    for name, function in functions.items():
        assert function["Properties"].get("ReservedConcurrentExecutions", 0) >= 1, name
    assert functions["DailyPayoutRun"]["Properties"]["ReservedConcurrentExecutions"] == 1
