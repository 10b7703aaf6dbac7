"""What the deployed stack must contain, read from the packaged template of the dev stage.

Data that must survive mistakes (the table, the user pool), the identity setup the code expects, the
configuration every function reads, and the operational safety net: log retention, a dead-letter
queue for asynchronous invocations, alarms, and API throttling.
"""
from __future__ import annotations

import re

from chalice.utils import to_cfn_resource_name

from tests.infra import templates

# Settings that have a safe default in config.py and need no value in AWS, or are local-stage only.
NOT_NEEDED_IN_AWS = {
    "MARKET_LOCAL_JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "MARKET_MAX_BODY_BYTES", "AWS_REGION", "AWS_DEFAULT_REGION",
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
        for a in alarms if a["Properties"]["Namespace"] == "AWS/Lambda"
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
    assert queue["SqsManagedSseEnabled"] is True
    assert _props(packaged.translated, "DeadLetterQueueAlarm")["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["AsyncDeadLetterQueue", "QueueName"]
    }
