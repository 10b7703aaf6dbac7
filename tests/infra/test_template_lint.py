"""The packaged stage template is valid CloudFormation before and after the SAM transform.

`make test` packages the dev stage once (conftest.py), lints the SAM template with cfn-lint, runs the
SAM translator locally (what CloudFormation does on deploy) and lints the plain CloudFormation it
produces. A deliberately broken copy shows the lint is not a rubber stamp.
"""
from __future__ import annotations

import copy

from tests.infra import templates


def test_the_packaged_sam_template_passes_cfn_lint(packaged):
    findings = templates.lint(packaged.sam_path)
    assert findings == [], "\n".join(findings)


def test_the_sam_translated_template_passes_cfn_lint(packaged):
    assert "Transform" not in packaged.translated
    assert not templates.resources_of_type(packaged.translated, "AWS::Serverless::Function")
    findings = templates.lint(packaged.translated_path)
    assert findings == [], "\n".join(findings)


def test_infra_resources_merged_into_the_template(packaged, infra):
    missing = set(infra["Resources"]) - set(packaged.sam["Resources"])
    assert not missing
    assert packaged.sam["Globals"] == infra["Globals"]


def _unknown_table_property(t):
    t["Resources"]["MarketTable"]["Properties"]["BillingModeTypo"] = "PAY_PER_REQUEST"


def _bad_billing_mode(t):
    t["Resources"]["MarketTable"]["Properties"]["BillingMode"] = "PAY_AS_YOU_GO"


def _reference_to_nothing(t):
    t["Resources"]["LambdaRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] = {
        "Fn::GetAtt": ["MarketTabel", "Arn"]
    }


def _bad_retention(t):
    log_group = next(iter(templates.resources_of_type(t, "AWS::Logs::LogGroup").values()))
    log_group["Properties"]["RetentionInDays"] = 42


# Each breakage and a fragment of the finding it must produce. One lint run checks them all (each
# lint costs seconds), and every breakage must be reported on its own.
BREAKAGES = [
    (_unknown_table_property, "E3002", "BillingModeTypo"),
    (_bad_billing_mode, "E3030", "PAY_AS_YOU_GO"),
    (_reference_to_nothing, "E1010", "MarketTabel"),
    (_bad_retention, "E3030", "42 is not one of"),
]


def test_broken_resources_fail_the_lint(packaged, tmp_path):
    broken = copy.deepcopy(packaged.translated)
    for break_it, _, _ in BREAKAGES:
        break_it(broken)
    findings = templates.lint(templates.write_template(broken, tmp_path / "broken.json"))
    for break_it, rule, fragment in BREAKAGES:
        assert any(f.startswith(rule) and fragment in f for f in findings), (break_it.__name__, findings)


def test_a_broken_resource_in_the_sam_template_fails_the_lint(packaged, tmp_path):
    broken = copy.deepcopy(packaged.sam)
    _unknown_table_property(broken)
    findings = templates.lint(templates.write_template(broken, tmp_path / "broken-sam.json"))
    assert any(f.startswith("E3002") for f in findings), findings
