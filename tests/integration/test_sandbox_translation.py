"""The sandbox builds its stack from the SAM-transformed template and refuses what it would silently drop:
a property or resource type it neither translates nor knowingly leaves out (sandbox/translation.py)."""

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from sandbox.stack import StackConfig, local_stack
from sandbox.template import TEMPLATE, Template, TemplateError
from sandbox.translation import CREATED, NOT_CREATED, untranslated

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"


def planted(tmp_path: Path, resource: str, properties: dict[str, Any]) -> Path:
    """template.yaml with properties added to one resource (JSON is YAML)."""
    body = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    body["Resources"][resource]["Properties"].update(properties)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(body))
    return path


def build(template: Path) -> None:
    config = StackConfig(api_key="SG.x", sendgrid_base_url="https://127.0.0.1:1", download_hosts="127.0.0.1",
                         template=template)  # fmt: skip
    with local_stack(config):
        pass


def test_every_property_of_the_template_is_translated_or_knowingly_left_out():
    assert untranslated(Template.load(overrides={"SendGridApiKeySecretArn": SECRET_ARN})) == []


def test_every_property_or_type_left_out_says_why():
    reasons = [reason for kind in CREATED.values() for reason in kind.values() if reason is not None]
    assert all(len(reason.split()) >= 4 for reason in [*reasons, *NOT_CREATED.values()])


@pytest.mark.parametrize(
    ("resource", "planted_property", "value"),
    [
        (
            "CheckJobFunction",
            "ReservedConcurrentExecutions",
            2,
        ),  # a SAM property, on the transformed function
        ("BackupBucket", "ObjectLockEnabled", True),
        ("ImportProgressTable", "StreamSpecification", {"StreamViewType": "NEW_IMAGE"}),
        ("NotificationTopic", "FifoTopic", True),
    ],
)
def test_the_sandbox_refuses_a_property_it_does_not_translate_by_name(
    tmp_path, resource, planted_property, value
):
    template = planted(tmp_path, resource, {planted_property: value})
    with pytest.raises(TemplateError, match=f"{resource} .*does not translate {planted_property}"):
        build(template)


def test_the_sandbox_refuses_a_lifecycle_rule_key_it_does_not_translate(tmp_path):
    rules = cfn_yaml.load(str(TEMPLATE))["Resources"]["BackupBucket"]["Properties"]["LifecycleConfiguration"]
    rules = json.loads(json.dumps(rules))
    rules["Rules"][0]["ExpiredObjectDeleteMarker"] = True
    template = planted(tmp_path, "BackupBucket", {"LifecycleConfiguration": rules})
    with pytest.raises(TemplateError, match=r"BackupBucket: .*rule key ExpiredObjectDeleteMarker"):
        build(template)


def test_the_sandbox_refuses_a_resource_type_it_does_not_create(tmp_path):
    body = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    body["Resources"]["Setting"] = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Type": "String", "Value": "x"},
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(body))
    with pytest.raises(TemplateError, match=r"Setting \(AWS::SSM::Parameter\): the sandbox does not create"):
        build(path)
