"""Least privilege, read from the deployable template (after the SAM transform, so nothing SAM or
Chalice adds escapes the check).

The functions may touch only the marketplace table and its indexes, with only the DynamoDB actions the
code issues through pynamodb, and read only the Stripe secret. Every action is named (no wildcards),
every resource is a reference to something in this stack, and Scan is never granted.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.infra import templates

# pynamodb call (or DynamoDB API) -> the IAM action that authorises it.
#   Model.get / TransactGet / batch_get -> GetItem, BatchGetItem
#   Model.save / update / delete        -> PutItem, UpdateItem, DeleteItem
#   batch_write                         -> BatchWriteItem
#   TransactWrite                       -> the item actions above + ConditionCheckItem
#   Model.query / Index.query           -> Query
# pynamodb 6 never calls DescribeTable outside create_table()/exists(), which only the local stage uses.
TABLE_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
    "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query",
}
INDEX_ACTIONS = {"dynamodb:Query"}
TABLE_ARN = {"Fn::GetAtt": ["MarketTable", "Arn"]}
INDEX_ARNS = {"Fn::Sub": "${MarketTable.Arn}/index/*"}
STRIPE_SECRET = {"Ref": "StripeSecret"}
SERVICES = {"dynamodb", "secretsmanager", "sqs", "logs", "kms"}
# Licence signing: sign with, and publish the public half of, the stack's own licence keys only.
KMS_ACTIONS = {"kms:Sign", "kms:GetPublicKey"}
LICENCE_KEYS = ({"Fn::GetAtt": ["LicenceSigningKey", "Arn"]}, {"Ref": "RetiredLicenceSigningKeyArn"})


def violations(template: dict[str, Any]) -> list[str]:
    """Every way the template's IAM grants more than the functions need."""
    found = []
    on_table: set[str] = set()
    on_indexes: set[str] = set()
    for owner, statement in templates.iam_statements(template):
        acts = templates.actions(statement)
        where = templates.statement_resources(statement)
        if statement.get("Effect") != "Allow" or {"NotAction", "NotResource"} & set(statement):
            found.append(f"{owner}: only plain Allow statements are expected: {statement}")
        for action in acts:
            if "*" in action:
                found.append(f"{owner}: wildcard action {action}")
            if action.split(":")[0] not in SERVICES:
                found.append(f"{owner}: action {action} of a service the functions do not use")
        for resource in where:
            if not isinstance(resource, dict):
                found.append(f"{owner}: resource {resource!r} is not a reference to this stack")
        dynamo = {a for a in acts if a.startswith("dynamodb:")}
        if "dynamodb:Scan" in dynamo:
            found.append(f"{owner}: grants dynamodb:Scan")
        for resource in where if dynamo else []:
            if resource == TABLE_ARN:
                on_table |= dynamo
            elif resource == INDEX_ARNS:
                on_indexes |= dynamo
            else:
                found.append(f"{owner}: DynamoDB access to {resource!r}, not the marketplace table")
        kms = {a for a in acts if a.startswith("kms:")}
        if kms and (not kms <= KMS_ACTIONS or any(r not in LICENCE_KEYS for r in where)):
            found.append(f"{owner}: KMS access beyond signing with the licence keys: {statement}")
        secrets = [a for a in acts if a.startswith("secretsmanager:")]
        if secrets and (secrets != ["secretsmanager:GetSecretValue"] or where != [STRIPE_SECRET]):
            found.append(f"{owner}: secrets access beyond reading the Stripe secret: {statement}")
    if on_table != TABLE_ACTIONS:
        found.append(f"table actions {sorted(on_table)} != the actions the code uses {sorted(TABLE_ACTIONS)}")
    if on_indexes != INDEX_ACTIONS:
        found.append(f"index actions {sorted(on_indexes)} != {sorted(INDEX_ACTIONS)}")
    return found


def test_the_deployable_template_grants_only_what_the_functions_need(packaged):
    assert violations(packaged.translated) == []


def test_the_stripe_secret_is_readable(packaged):
    reads = [
        s for _, s in templates.iam_statements(packaged.translated)
        if "secretsmanager:GetSecretValue" in templates.actions(s)
    ]
    assert [templates.statement_resources(s) for s in reads] == [[STRIPE_SECRET]]


def test_one_role_for_every_function_and_no_managed_policies(packaged):
    roles = templates.resources_of_type(packaged.translated, "AWS::IAM::Role")
    lambda_roles = {
        name for name, role in roles.items()
        if "lambda.amazonaws.com" in str(role["Properties"]["AssumeRolePolicyDocument"])
    }
    assert lambda_roles == {"LambdaRole"}
    for name, role in roles.items():
        assert not role["Properties"].get("ManagedPolicyArns"), f"{name} has managed policies"
    functions = templates.resources_of_type(packaged.translated, "AWS::Lambda::Function")
    assert functions
    for name, function in functions.items():
        assert function["Properties"]["Role"] == {"Fn::GetAtt": ["LambdaRole", "Arn"]}, name


def _statements(template):
    return [s for p in template["Resources"]["LambdaRole"]["Properties"]["Policies"]
            for s in p["PolicyDocument"]["Statement"]]


def _table_statement(template):
    return next(s for s in _statements(template) if s.get("Sid") == "TableItems")


def _add_action(action):
    def mutate(template):
        _table_statement(template)["Action"].append(action)
    return mutate


def _any_resource(template):
    _table_statement(template)["Resource"] = "*"


def _another_table(template):
    _table_statement(template)["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:*:*:table/other"}


def _every_secret(template):
    secret = next(s for s in _statements(template) if s.get("Sid") == "StripeSecret")
    secret["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"}


def _extra_policy(template):
    template["Resources"]["Extra"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "extra",
            "Roles": [{"Ref": "LambdaRole"}],
            "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
        },
    }


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (_add_action("dynamodb:*"), "wildcard action dynamodb:*"),
        (_add_action("dynamodb:Scan"), "grants dynamodb:Scan"),
        (_add_action("dynamodb:DescribeTable"), "table actions"),
        (_any_resource, "is not a reference to this stack"),
        (_another_table, "not the marketplace table"),
        (_every_secret, "secrets access beyond"),
        (_extra_policy, "s3:GetObject of a service"),
    ],
    ids=["wildcard", "scan", "unused action", "any resource", "other table", "every secret", "extra policy"],
)
def test_a_broader_grant_is_reported(packaged, mutate, expected):
    broader = copy.deepcopy(packaged.translated)
    mutate(broader)
    assert any(expected in v for v in violations(broader)), violations(broader)
