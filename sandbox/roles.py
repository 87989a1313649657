"""The stack's IAM roles as CloudFormation receives them: template.yaml after the real SAM transform.

tests/unit/test_iam.py reads these documents for wildcards; the local stack creates them in moto, one role
per function, and runs each handler with its role's credentials (sandbox/identity.py).
"""

import json
from typing import Any

from sandbox.template import STACK_NAME, Template, sam_transform

__all__ = [
    "create_roles",
    "function_roles",
    "managed_policies",
    "roles",
    "sam_transform",
    "state_machine_roles",
]


def roles(resources: dict[str, Any]) -> dict[str, Any]:
    """Each role with its inline policies followed by the stack's own managed policies it attaches by Ref
    (AWS-managed policies stay in ManagedPolicyArns, as ARN strings)."""
    own = managed_policies(resources)
    found = {}
    for name, spec in resources.items():
        if spec["Type"] != "AWS::IAM::Role":
            continue
        properties = spec["Properties"]
        attached = [arn["Ref"] for arn in properties.get("ManagedPolicyArns") or [] if isinstance(arn, dict)]
        policies = list(properties.get("Policies", [])) + [own[ref] for ref in attached]
        found[name] = {**spec, "Properties": {**properties, "Policies": policies}}
    return found


def managed_policies(resources: dict[str, Any]) -> dict[str, Any]:
    """The stack's own AWS::IAM::ManagedPolicy resources: logical id -> properties."""
    return {
        name: {"PolicyName": name, **spec["Properties"]}
        for name, spec in resources.items()
        if spec["Type"] == "AWS::IAM::ManagedPolicy"
    }


def function_roles(resources: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> the logical id of the role SAM generated (or the template gave) for it."""
    found = {}
    for name, spec in resources.items():
        role = spec["Properties"].get("Role") if spec["Type"] == "AWS::Lambda::Function" else None
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            found[name] = role["Fn::GetAtt"][0]
    return found


def state_machine_roles(resources: dict[str, Any]) -> dict[str, str]:
    """State machine logical id -> its role's logical id."""
    return {
        name: spec["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        for name, spec in resources.items()
        if spec["Type"] == "AWS::StepFunctions::StateMachine"
    }


def create_roles(template: Template, iam: Any, trusted_principal: str) -> dict[str, str]:
    """The roles of the transformed template that a function or state machine runs as, in moto: role
    logical id -> ARN (not the schedule's: the sandbox starts backups itself). The stack's managed policies
    become managed policies attached by ARN; AWS-managed ones (AWSLambdaBasicExecutionRole,
    AWSXrayWriteOnlyAccess) only grant logs and X-Ray writes, which moto does not check: they are left out.
    The trust policy names the principal that stands in for Lambda and Step Functions here."""
    resources = template.deployed_resources()
    for logical, properties in managed_policies(resources).items():
        document = json.dumps(_versioned(template.resolve(properties["PolicyDocument"])))
        description = str(properties.get("Description", ""))
        policy = iam.create_policy(
            PolicyName=f"{STACK_NAME}-{logical}", PolicyDocument=document, Description=description
        )["Policy"]
        template.created(logical, policy["Arn"])  # Ref of a managed policy is its ARN
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": trusted_principal}, "Action": "sts:AssumeRole"}
        ],
    }
    used = {*function_roles(resources).values(), *state_machine_roles(resources).values()}
    return {
        logical: _create_role(template, iam, logical, resources[logical]["Properties"], json.dumps(trust))
        for logical in sorted(used)
    }


def _create_role(template: Template, iam: Any, name: str, properties: dict[str, Any], trust: str) -> str:
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    template.created(name, name, Arn=arn)
    for policy in properties.get("Policies", []):
        document = json.dumps(_versioned(template.resolve(policy["PolicyDocument"])))
        iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=document)
    for managed in properties.get("ManagedPolicyArns") or []:
        if isinstance(managed, dict):  # the stack's own, by Ref
            iam.attach_role_policy(RoleName=name, PolicyArn=template.resolve(managed))
    return arn


def _versioned(document: dict[str, Any]) -> dict[str, Any]:
    """IAM reads a document without Version (SAM's inline Statement policies) as the 2008 language; moto
    refuses it. The template's policies use no policy variables, so both versions read them the same."""
    return {"Version": "2012-10-17", **document}
