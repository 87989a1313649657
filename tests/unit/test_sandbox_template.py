"""How the sandbox reads template.yaml: SAM's own transform and Globals, SAM CLI's intrinsic resolver, and
nothing resolved that the sandbox has not created."""

import pytest

from sandbox.template import Template, TemplateError

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"
DATA_KEY = {"Fn::If": ["CreateDataKey", {"Fn::GetAtt": ["DataKey", "Arn"]}, {"Ref": "DataKeyArn"}]}


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(overrides={"SendGridApiKeySecretArn": SECRET_ARN})


def test_a_name_the_sandbox_has_not_created_is_refused_not_invented(template):
    with pytest.raises(TemplateError, match=r"BackupBucket\.Arn"):
        template.resolve({"Fn::Sub": "${BackupBucket.Arn}/backups/*"})


def test_refs_and_attributes_resolve_to_what_the_sandbox_created():
    template = Template.load(overrides={"SendGridApiKeySecretArn": SECRET_ARN})
    template.created("BackupBucket", "bucket-1", Arn="arn:aws:s3:::bucket-1")
    assert (
        template.resolve({"Fn::Sub": "${BackupBucket.Arn}/${AWS::Region}"})
        == "arn:aws:s3:::bucket-1/eu-west-1"
    )
    assert template.resolve({"Ref": "BackupBucket"}) == "bucket-1"


def test_fn_if_resolves_only_the_branch_its_condition_picks():
    # With a key given, DataKey is not created: its GetAtt must not be looked at.
    given = Template.load(overrides={"SendGridApiKeySecretArn": SECRET_ARN, "DataKeyArn": "arn:given"})
    assert given.resolve(DATA_KEY) == "arn:given"
    assert given.deployed_resources("AWS::KMS::Key") == {}


def test_sub_variables_are_substituted_as_values(template):
    resolved = template.resolve({"Fn::Sub": ["[${Ids}]", {"Ids": {"Fn::Join": ["|", ["a", "b"]]}}]})
    assert resolved == "[a|b]"


def test_functions_get_the_globals_by_sams_own_merge(template):
    variables = template.function_properties("SendImportFunction")["Environment"]["Variables"]
    assert {"IMPORT_PROGRESS_TABLE", "BACKUP_BUCKET"} <= set(variables)
    assert template.resolve(template.function_properties("CopyExportFileFunction")["Timeout"]) == 900


def test_the_deployed_functions_are_those_of_the_transformed_template(template):
    deployed = template.deployed_resources("AWS::Lambda::Function")
    assert set(deployed) == set(template.resources("AWS::Serverless::Function"))
    assert all(spec["Properties"]["Code"]["S3Key"].startswith("functions/") for spec in deployed.values())
