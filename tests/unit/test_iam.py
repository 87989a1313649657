"""Least privilege, read from the template after the real SAM transform: every wildcard an Allow grants
is in policy/iam-wildcards.yaml with its reason."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.roles import roles as roles_of
from sandbox.roles import sam_transform
from sandbox.template import ROOT, Template

ALLOW_LIST = ROOT / "policy" / "iam-wildcards.yaml"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"


def rendered(resource: Any) -> str:
    """A resource as it reads in the template (the string of a Sub, the target of a Ref or GetAtt)."""
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return json.dumps(resource)


@pytest.fixture(scope="module")
def roles() -> dict[str, Any]:
    """Each role with its inline policies and the stack's own managed policies it attaches (by Ref): the
    documents the local stack creates in moto and runs each handler under."""
    template = Template.load(overrides={"SendGridApiKeySecretArn": SECRET_ARN})
    return roles_of(sam_transform(template.body, template.parameters))


def grants(roles: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for name, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Effect"] != "Allow":
                    continue
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                targets = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                found += [(name, action, rendered(target)) for action in actions for target in targets]
    return found


def wildcards(roles: dict[str, Any]) -> set[tuple[str, str]]:
    return {(role, resource) for role, action, resource in grants(roles) if "*" in action or "*" in resource}


def allowed() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = yaml.safe_load(Path(ALLOW_LIST).read_text())
    return entries


def test_no_action_is_a_wildcard(roles):
    assert [grant for grant in grants(roles) if "*" in grant[1]] == []


def test_every_wildcard_resource_is_allow_listed_with_a_reason(roles):
    listed = {(entry["role"], entry["resource"]) for entry in allowed()}
    assert wildcards(roles) - listed == set()


def test_every_allow_list_entry_says_why_and_still_matches(roles):
    present = wildcards(roles)
    for entry in allowed():
        assert len(entry.get("reason", "").split()) >= 5, entry
        assert (entry["role"], entry["resource"]) in present, f"stale entry: {entry}"


def test_the_only_aws_managed_policies_are_basic_logging_and_xray_writes(roles):
    managed = {
        arn for role in roles.values() for arn in role["Properties"].get("ManagedPolicyArns") or []
        if isinstance(arn, str)
    }  # fmt: skip
    assert managed == {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    }


def test_every_function_may_use_the_data_key_and_nothing_else_of_kms(roles):
    kms = {(role, action) for role, action, _ in grants(roles) if action.startswith("kms:")}
    functions = {name for name in roles if name.endswith("FunctionRole")}
    assert {role for role, _ in kms} >= functions
    assert {action for _, action in kms} == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_the_state_machine_may_invoke_exactly_its_functions(roles):
    invoked = {resource for role, action, resource in grants(roles) if action == "lambda:InvokeFunction"}
    assert all("*" not in resource for resource in invoked)
    template = Template.load(overrides={"SendGridApiKeySecretArn": SECRET_ARN})
    (machine,) = template.resources("AWS::Serverless::StateMachine").values()
    substituted = machine["Properties"]["DefinitionSubstitutions"].values()
    its_functions = {
        rendered(value) for value in substituted if isinstance(value, dict) and "Fn::GetAtt" in value
    }
    assert its_functions
    assert invoked == its_functions


def test_only_the_send_step_may_read_and_write_import_progress_item_by_item(roles):
    dynamodb = {(role, action, resource) for role, action, resource in grants(roles) if "dynamodb:" in action}
    table = json.dumps({"Fn::GetAtt": ["ImportProgressTable", "Arn"]})
    assert dynamodb == {
        ("SendImportFunctionRole", f"dynamodb:{action}", table)
        for action in ("GetItem", "PutItem", "UpdateItem")
    }


def test_the_data_key_makes_data_keys_through_dynamodb_only_as_for_the_other_services(roles):
    statements = [
        statement
        for role in roles.values()
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Sid") == "EncryptWritesThroughTheStacksServices"
    ]
    assert statements
    for statement in statements:
        services = [rendered(via) for via in statement["Condition"]["StringEquals"]["kms:ViaService"]]
        assert "dynamodb.${AWS::Region}.amazonaws.com" in services
