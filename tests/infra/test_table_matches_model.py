"""One source of truth: the DynamoDB tables in infra/ are the tables the pynamodb models describe.

The models are found by importing every module under chalicelib/ and walking pynamodb's Model
subclasses, so a new model or index is checked without touching this test. Each model table is paired
with the infra table whose logical id the functions' environment variable for it references (the
variable the model's `Meta.table_name` is read from, e.g. MARKET_TABLE -> !Ref MarketTable).
Compared: key schema, attribute types, every index's name, keys and projection, billing mode, TTL.
The TTL attribute is looked for in every entity stored in the table (the root model's subclasses): a
pynamodb `TTLAttribute`, or a number attribute named `expires_at` (epoch seconds, the project's
convention for records that expire, such as idempotency records).
"""
from __future__ import annotations

import copy
import importlib
import os
import pkgutil
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, TTLAttribute
from pynamodb.models import Model

import chalicelib
from tests.infra import templates

TABLE_TYPE = "AWS::DynamoDB::Table"
# A number attribute with this name holds an expiry in epoch seconds (shared convention).
EXPIRY_ATTRIBUTE = "expires_at"


def _keys(key_schema: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    order = {"HASH": 0, "RANGE": 1}
    return tuple(sorted(((k["AttributeName"], k["KeyType"]) for k in key_schema), key=lambda k: order[k[1]]))


def _projection(projection: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return projection["ProjectionType"], tuple(sorted(projection.get("NonKeyAttributes", [])))


def _indexes(indexes: list[dict[str, Any]], name: str, keys: str, proj: str) -> dict[str, Any]:
    return {i[name]: {"keys": _keys(i[keys]), "projection": _projection(i[proj])} for i in indexes}


def _stored_models(model: type[Model]) -> list[type[Model]]:
    """The root model and every subclass (each entity stored in its table)."""
    found, pending = [], [model]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def ttl_attributes(model: type[Model]) -> set[str]:
    """Attribute names (as stored) that some entity of the table expects DynamoDB to expire."""
    names = set()
    for cls in _stored_models(model):
        for name, attr in cls.get_attributes().items():
            if isinstance(attr, TTLAttribute) or (name == EXPIRY_ATTRIBUTE and isinstance(attr, NumberAttribute)):
                names.add(attr.attr_name)
    return names


def describe_model(model: type[Model]) -> dict[str, Any]:
    """The table a pynamodb model needs, in a form comparable with describe_infra()."""
    schema = model._get_schema()
    ttl = sorted(ttl_attributes(model))
    # DynamoDB has one TTL attribute per table: two candidates cannot both be declared.
    assert len(ttl) <= 1, f"{model.__name__}'s entities expire by different attributes: {ttl}"
    meta = model.Meta
    return {
        "keys": _keys(schema["key_schema"]),
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]},
        "global_indexes": _indexes(schema.get("global_secondary_indexes", []), "index_name", "key_schema", "projection"),
        "local_indexes": _indexes(schema.get("local_secondary_indexes", []), "index_name", "key_schema", "projection"),
        "billing_mode": getattr(meta, "billing_mode", None) or "PROVISIONED",
        "ttl": ttl[0] if ttl else None,
    }


def describe_infra(table: dict[str, Any]) -> dict[str, Any]:
    """The same description read from an AWS::DynamoDB::Table resource."""
    props = table["Properties"]
    ttl_spec = props.get("TimeToLiveSpecification") or {}
    return {
        "keys": _keys(props["KeySchema"]),
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in props.get("AttributeDefinitions", [])},
        "global_indexes": _indexes(props.get("GlobalSecondaryIndexes", []), "IndexName", "KeySchema", "Projection"),
        "local_indexes": _indexes(props.get("LocalSecondaryIndexes", []), "IndexName", "KeySchema", "Projection"),
        "billing_mode": props.get("BillingMode", "PROVISIONED"),
        "ttl": ttl_spec.get("AttributeName") if ttl_spec.get("Enabled") else None,
    }


def differences(model: dict[str, Any], infra: dict[str, Any]) -> list[str]:
    """Human-readable differences, index by index, so a failure says what to change."""
    found = []
    for field in ("keys", "attributes", "billing_mode", "ttl"):
        if model[field] != infra[field]:
            found.append(f"{field}: model {model[field]!r} != infra {infra[field]!r}")
    for kind in ("global_indexes", "local_indexes"):
        for name in sorted(set(model[kind]) | set(infra[kind])):
            m, i = model[kind].get(name), infra[kind].get(name)
            if m != i:
                found.append(f"{kind} {name}: model {m!r} != infra {i!r}")
    return found


def model_tables() -> dict[str, type[Model]]:
    """Table name -> the root pynamodb model stored in it, for every model under chalicelib/."""
    for info in pkgutil.walk_packages(chalicelib.__path__, prefix="chalicelib."):
        importlib.import_module(info.name)
    roots: dict[str, type[Model]] = {}
    pending = list(Model.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__module__.startswith("chalicelib."):
            continue
        name = cls.Meta.table_name
        if name in roots and issubclass(cls, roots[name]):
            continue
        if name in roots and not issubclass(roots[name], cls):
            raise AssertionError(f"two unrelated models share table {name}: {roots[name]} and {cls}")
        roots[name] = cls
    return roots


def table_env_refs(template: dict[str, Any]) -> dict[str, str]:
    """Environment variable -> table logical id, from the functions' Globals."""
    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    tables = templates.resources_of_type(template, TABLE_TYPE)
    return {
        var: value["Ref"]
        for var, value in variables.items()
        if isinstance(value, dict) and value.get("Ref") in tables
    }


def pairs(template: dict[str, Any]) -> list[tuple[type[Model], str]]:
    """(model, infra logical id) for every model table; fails on a table on either side alone."""
    refs = table_env_refs(template)
    by_name = {os.environ.get(var): logical for var, logical in refs.items()}
    found, unmatched = [], []
    for name, model in sorted(model_tables().items()):
        if name in by_name:
            found.append((model, by_name[name]))
        else:
            unmatched.append(f"{model.__name__} (table {name!r})")
    assert not unmatched, (
        f"no infra table for {unmatched}: declare an AWS::DynamoDB::Table in infra/resources.yml and pass "
        f"it to the functions with a Globals environment variable (now: {refs})"
    )
    orphans = set(templates.resources_of_type(template, TABLE_TYPE)) - {logical for _, logical in found}
    assert not orphans, f"infra declares tables no model uses: {sorted(orphans)}"
    return found


def test_every_model_table_is_declared_in_infra_with_the_same_keys_indexes_and_projections(infra):
    mismatches = []
    for model, logical in pairs(infra):
        for difference in differences(describe_model(model), describe_infra(infra["Resources"][logical])):
            mismatches.append(f"{model.__name__} vs {logical}: {difference}")
    assert not mismatches, "infra/resources.yml differs from the pynamodb models:\n" + "\n".join(mismatches)


def test_the_models_found_include_the_marketplace_table():
    from chalicelib.db.table import INDEX_NAMES, MarketItem

    model = model_tables()[MarketItem.Meta.table_name]
    assert model is MarketItem
    assert set(describe_model(model)["global_indexes"]) == set(INDEX_NAMES)


def _market_table(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]["MarketTable"]["Properties"]


def _drop_gsi3(props):
    props["GlobalSecondaryIndexes"] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] != "gsi3"]


def _keys_only(props):
    props["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}


def _number_key(props):
    props["AttributeDefinitions"][0]["AttributeType"] = "N"


def _swap_keys(props):
    props["KeySchema"] = [{"AttributeName": "sk", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}]


def _renamed_index(props):
    props["GlobalSecondaryIndexes"][1]["IndexName"] = "byStatus"


def _provisioned(props):
    props["BillingMode"] = "PROVISIONED"


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (_drop_gsi3, "global_indexes gsi3"),
        (_keys_only, "global_indexes gsi1"),
        (_number_key, "attributes"),
        (_swap_keys, "keys"),
        (_renamed_index, "global_indexes byStatus"),
        (_provisioned, "billing_mode"),
    ],
    ids=["missing index", "projection", "attribute type", "key schema", "index name", "billing mode"],
)
def test_a_drifted_infra_table_is_reported(infra, mutate, expected):
    drifted = copy.deepcopy(infra)
    mutate(_market_table(drifted))
    (model, logical), = pairs(drifted)
    found = differences(describe_model(model), describe_infra(drifted["Resources"][logical]))
    assert any(d.startswith(expected) for d in found), found


def test_a_model_table_missing_from_infra_is_reported(infra):
    drifted = copy.deepcopy(infra)
    del drifted["Globals"]["Function"]["Environment"]["Variables"]["MARKET_TABLE"]
    with pytest.raises(AssertionError, match="no infra table for"):
        pairs(drifted)


def test_the_table_expires_idempotency_records_by_the_attribute_the_code_writes(infra):
    from chalicelib.db.idempotency import IdempotencyItem
    from chalicelib.db.table import MarketItem

    assert issubclass(IdempotencyItem, MarketItem)
    spec = _market_table(infra)["TimeToLiveSpecification"]
    assert spec == {"AttributeName": IdempotencyItem.expires_at.attr_name, "Enabled": True}
    assert ttl_attributes(MarketItem) == {spec["AttributeName"]}


def _no_ttl(props):
    del props["TimeToLiveSpecification"]


def _ttl_disabled(props):
    props["TimeToLiveSpecification"]["Enabled"] = False


def _other_ttl_attribute(props):
    props["TimeToLiveSpecification"]["AttributeName"] = "ttl"


@pytest.mark.parametrize("mutate", [_no_ttl, _ttl_disabled, _other_ttl_attribute],
                         ids=["no TTL", "TTL disabled", "another attribute"])
def test_a_ttl_that_is_not_the_models_is_reported(infra, mutate):
    drifted = copy.deepcopy(infra)
    mutate(_market_table(drifted))
    (model, logical), = pairs(drifted)
    found = differences(describe_model(model), describe_infra(drifted["Resources"][logical]))
    assert any(d.startswith("ttl:") for d in found), found
