"""The local DynamoDB's transactions (scripts/moto_speedups.py) keep DynamoDB's all-or-nothing contract."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

TABLE = "tx-test"


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield client


def _key(pk, sk="x"):
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _put(pk, **extra):
    return {"Put": {"TableName": TABLE, "Item": {**_key(pk), **extra}}}


def _get(client, pk):
    return client.get_item(TableName=TABLE, Key=_key(pk)).get("Item")


def test_a_transaction_writes_every_item(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**_key("c"), "n": {"N": "1"}})
    dynamodb.transact_write_items(TransactItems=[
        _put("a", v={"S": "1"}),
        {"Delete": {"TableName": TABLE, "Key": _key("b")}},
        {"Update": {"TableName": TABLE, "Key": _key("c"), "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "n = :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    assert _get(dynamodb, "a")["v"] == {"S": "1"} and _get(dynamodb, "c")["n"] == {"N": "2"}


def test_a_failed_condition_cancels_everything_and_names_the_operation(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**_key("taken")})
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[
            _put("new", v={"S": "1"}),
            {"Put": {"TableName": TABLE, "Item": _key("taken"), "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert _get(dynamodb, "new") is None


def test_a_write_that_fails_half_way_is_undone(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**_key("text"), "n": {"S": "not a number"}, "keep": {"S": "k"}})
    dynamodb.put_item(TableName=TABLE, Item={**_key("old"), "v": {"S": "before"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[
            _put("old", v={"S": "after"}),
            _put("fresh"),
            {"Update": {"TableName": TABLE, "Key": _key("text"), "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    assert _get(dynamodb, "old")["v"] == {"S": "before"}
    assert _get(dynamodb, "fresh") is None
    assert _get(dynamodb, "text") == {**_key("text"), "n": {"S": "not a number"}, "keep": {"S": "k"}}


def test_one_item_twice_in_a_transaction_is_refused(dynamodb):
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[_put("a"), _put("a")])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert _get(dynamodb, "a") is None
