"""template.yaml, read as CloudFormation reads it: the promises the README makes about the stack."""

import pytest

from sandbox.template import ROOT, Template

FUNCTIONS = ROOT / "functions"


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


@pytest.fixture(scope="module")
def bucket(template) -> dict:
    return template.body["Resources"]["BackupBucket"]["Properties"]


def test_backup_bucket_is_encrypted_versioned_and_private(bucket):
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_incomplete_multipart_uploads_are_aborted_by_lifecycle(bucket):
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(
        rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 1 for rule in rules
    )


def test_bucket_policy_denies_requests_without_tls(template):
    statements = template.body["Resources"]["BackupBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny" and s["Action"] == "s3:*"]
    assert deny
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_functions_run_python_313_on_arm64_with_the_layer(template):
    functions = template.resources("AWS::Serverless::Function")
    folders = {f"functions/{path.parent.name}/" for path in FUNCTIONS.glob("*/app.py")}
    assert {template.function_properties(name)["CodeUri"] for name in functions} == folders
    for name in functions:
        properties = template.function_properties(name)
        assert (properties["Runtime"], properties["Architectures"]) == ("python3.13", ["arm64"]), name
        assert properties["Layers"] == [{"Ref": "ContactJobsLayer"}]


def test_layer_is_built_by_sam_for_python_313(template):
    layer = template.body["Resources"]["ContactJobsLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"


def test_the_api_key_is_only_a_secret_reference(template):
    parameter = template.body["Parameters"]["SendGridApiKeySecretArn"]
    assert "secretsmanager" in parameter["AllowedPattern"]
    variables = template.body["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SENDGRID_SECRET_ID"] == {"Ref": "SendGridApiKeySecretArn"}
    assert not any("KEY" in name and name != "SENDGRID_SECRET_ID" for name in variables)


def test_schedule_is_scheduler_v2_with_its_parameters(template):
    event = template.body["Resources"]["ContactJobsStateMachine"]["Properties"]["Events"]["BackupSchedule"]
    properties = event["Properties"]
    assert event["Type"] == "ScheduleV2"
    assert properties["ScheduleExpression"] == {"Ref": "BackupScheduleExpression"}
    assert properties["ScheduleExpressionTimezone"] == {"Ref": "BackupScheduleTimezone"}
    assert properties["State"] == {"Fn::If": ["ScheduleEnabled", "ENABLED", "DISABLED"]}


@pytest.mark.parametrize(("lists", "expected"), [("", []), ("a,b", ["a", "b"])])
def test_schedule_input_is_valid_json_for_any_list_parameter(lists, expected):
    import json

    template = Template.load(overrides={"BackupListIds": lists})
    event = template.body["Resources"]["ContactJobsStateMachine"]["Properties"]["Events"]["BackupSchedule"]
    sent = json.loads(template.resolve(event["Properties"]["Input"]))
    assert [item for item in sent["list_ids"] if item] == expected
    assert sent["operation"] == "backup"
    assert sent["max_file_size_mb"] == 5000


def test_copier_may_abort_multipart_uploads_and_nothing_more_than_it_needs(template):
    statements = template.body["Resources"]["CopyExportFileFunction"]["Properties"]["Policies"][1][
        "Statement"
    ]
    assert set(statements[0]["Action"]) == {
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
