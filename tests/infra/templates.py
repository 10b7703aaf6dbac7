"""Offline tools for checking the deployment template: load, package, SAM-translate, lint, read IAM.

Everything here runs without AWS credentials: cfn-lint and the SAM translator are local libraries, and
packaging needs only PyPI. The fixtures in conftest.py call these once per test session.
"""
from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "infra" / "resources.yml"
# Where `aws cloudformation package` would have uploaded the code: the SAM translator insists on S3.
FAKE_CODE_URI = "s3://example-deployment-bucket/deployment.zip"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short forms (`!Ref x`) into long forms (`{"Ref": x}`)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    """Load a CloudFormation template (YAML with short forms, or JSON)."""
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def write_template(template: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(template, indent=1))
    return path


def package_script():
    """scripts/package.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("market_package_script", ROOT / "scripts" / "package.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def sam_translate(template: dict[str, Any]) -> dict[str, Any]:
    """Run the SAM transform locally, as CloudFormation would on deploy."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            key = "CodeUri" if "CodeUri" in resource["Properties"] else "ContentUri"
            resource["Properties"][key] = FAKE_CODE_URI
    return Translator(managed_policy_map={}, sam_parser=Parser()).translate(sam_template=sam, parameter_values={})


def lint(path: Path) -> list[str]:
    """cfn-lint findings (errors and warnings) for a template file, as readable lines."""
    from cfnlint.api import lint_file

    return [f"{m.rule.id} {m.message} ({m.filename}:{m.linenumber})" for m in lint_file(path)]


def resources_of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res.get("Type") == type_}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement granted to a role or a user anywhere in the template, with its resource name."""
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        documents: list[Any] = []
        if res["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props["PolicyDocument"])
        for document in documents:
            for statement in _as_list(document["Statement"]):
                yield name, statement


def actions(statement: dict[str, Any]) -> list[str]:
    return _as_list(statement.get("Action", []))


def statement_resources(statement: dict[str, Any]) -> list[Any]:
    return _as_list(statement.get("Resource", []))
