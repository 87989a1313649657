"""template.yaml, read as CloudFormation reads it: the promises the README makes about the stack.

Each test states a property of every resource of a kind (every bucket, every function, every alarm), so a
resource added or renamed is checked without the test changing; names appear only where a promise is about
one resource."""

import json
from typing import Any

import pytest

from sandbox.roles import function_roles, sam_transform
from sandbox.roles import roles as roles_of
from sandbox.template import ROOT, Template

FUNCTIONS = ROOT / "functions"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


@pytest.fixture(scope="module")
def grants() -> dict[str, list[dict[str, Any]]]:
    """Function logical id -> every statement its role holds after the real SAM transform (inline and the
    stack's own managed policies it attaches)."""
    template = Template.load(overrides={"SendGridApiKeySecretArn": SECRET_ARN})
    resources = sam_transform(template.body, template.parameters)
    roles = roles_of(resources)
    return {
        function: [
            statement
            for policy in roles[role]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        for function, role in function_roles(resources).items()
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def data_buckets(template) -> dict[str, dict]:
    """The buckets that hold contacts (encrypted with the data key), not the access-log bucket."""
    return {
        name: properties
        for name, properties in resources_of(template, "AWS::S3::Bucket").items()
        if "KMSMasterKeyID" in json.dumps(properties["BucketEncryption"])
    }


def test_every_bucket_is_encrypted_versioned_and_private(template):
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert buckets
    for name, bucket in buckets.items():
        (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"aws:kms", "AES256"}, name
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}, name
        assert len(bucket["PublicAccessBlockConfiguration"]) == 4, name
        assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], name


def test_data_buckets_abort_incomplete_multipart_uploads_and_expire_old_versions(template):
    for name, bucket in data_buckets(template).items():
        rules = bucket["LifecycleConfiguration"]["Rules"]
        aborts = [rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") for rule in rules]
        assert 1 in aborts, name
        assert any("NoncurrentVersionExpiration" in rule for rule in rules), name


def tls_denials(document: dict) -> list[dict]:
    return [
        statement
        for statement in document["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Principal") == "*"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]


def test_every_bucket_policy_denies_any_request_without_tls_to_the_bucket_and_its_objects(template):
    policies = {p["Bucket"]["Ref"]: p for p in resources_of(template, "AWS::S3::BucketPolicy").values()}
    for name in resources_of(template, "AWS::S3::Bucket"):
        (deny,) = tls_denials(policies[name]["PolicyDocument"])
        assert deny["Action"] == "s3:*", name
        assert json.dumps(deny["Resource"]) == json.dumps(
            [{"Fn::GetAtt": [name, "Arn"]}, {"Fn::Sub": f"${{{name}.Arn}}/*"}]
        ), name


def test_every_queue_policy_denies_any_request_without_tls(template):
    policies = resources_of(template, "AWS::SQS::QueuePolicy").values()
    covered = {json.dumps(queue) for policy in policies for queue in policy["Queues"]}
    assert covered == {json.dumps({"Ref": name}) for name in resources_of(template, "AWS::SQS::Queue")}
    for policy in policies:
        (deny,) = tls_denials(policy["PolicyDocument"])
        assert deny["Action"] == "sqs:*"


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
    assert sent["max_file_size_mb"] == int(template.parameters["BackupMaxFileSizeMb"])


def test_copier_may_abort_multipart_uploads_and_nothing_more_than_it_needs(grants):
    statements = grants["CopyExportFileFunction"]
    s3 = [s for s in statements if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    on_objects = {
        action
        for statement in s3
        if statement["Resource"] == {"Fn::Sub": "${BackupBucket.Arn}/backups/*"}
        for action in as_list(statement["Action"])
    }
    assert on_objects == {
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:GetObject",  # HeadObject: what another attempt stored, and a discard's fence
        "s3:DeleteObject",  # a copy that lands after its backup was discarded withdraws itself
    }
    (listing,) = [s for s in s3 if s["Resource"] != {"Fn::Sub": "${BackupBucket.Arn}/backups/*"}]
    assert listing["Action"] == "s3:ListBucket"  # so that a missing fence is a 404, not a 403
    assert listing["Resource"] == {"Fn::GetAtt": ["BackupBucket", "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "backups/*"}}


def test_no_statement_is_repeated_across_functions_inline_policies(template):
    """A grant several functions need is one shared managed policy (DataKeyUsePolicy...), not copies."""
    seen: dict[str, str] = {}
    for name in resources_of(template, "AWS::Serverless::Function"):
        for policy in template.function_properties(name).get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                grant = json.dumps({k: v for k, v in statement.items() if k != "Sid"}, sort_keys=True)
                assert grant not in seen, f"{name} repeats a statement of {seen.get(grant)}: make it shared"
                seen[grant] = name


def test_every_managed_policy_of_the_stack_is_attached_to_a_function(template):
    attached = {
        json.dumps(policy)
        for name in resources_of(template, "AWS::Serverless::Function")
        for policy in template.function_properties(name).get("Policies", [])
    }
    for name in resources_of(template, "AWS::IAM::ManagedPolicy"):
        assert json.dumps({"Ref": name}) in attached, name


# Hardening: keys, logs, tracing, alarms, dead letters --------------------------------------------------

DATA_KEY = {"Fn::If": ["CreateDataKey", {"Fn::GetAtt": ["DataKey", "Arn"]}, {"Ref": "DataKeyArn"}]}


def resources_of(template, kind: str) -> dict:
    return {name: spec["Properties"] for name, spec in template.resources(kind).items()}


def test_data_buckets_use_the_data_key_with_bucket_keys_and_log_access(template):
    buckets = data_buckets(template)
    assert len(buckets) >= 2, "the import and the backup buckets"
    buckets_all = resources_of(template, "AWS::S3::Bucket")
    logs = {name for name, p in buckets_all.items() if "LoggingConfiguration" not in p}
    for name, properties in buckets.items():
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DATA_KEY}, name
        assert rule["BucketKeyEnabled"] is True, name
        assert properties["LoggingConfiguration"]["DestinationBucketName"] in [{"Ref": b} for b in logs], name


def test_every_topic_queue_and_log_group_uses_the_data_key(template):
    encrypted = {
        **{name: p.get("KmsMasterKeyId") for name, p in resources_of(template, "AWS::SNS::Topic").items()},
        **{name: p.get("KmsMasterKeyId") for name, p in resources_of(template, "AWS::SQS::Queue").items()},
        **{name: p.get("KmsKeyId") for name, p in resources_of(template, "AWS::Logs::LogGroup").items()},
    }
    assert encrypted
    assert all(key == DATA_KEY for key in encrypted.values()), encrypted


def test_every_kms_key_the_stack_names_is_the_data_key(template):
    """One key for everything at rest: no resource names another key, an alias, or an AWS-owned key."""
    named = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in {"KmsMasterKeyId", "KmsKeyId", "KMSMasterKeyID", "KmsKeyArn"}:
                    named.append(inner)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(template.body["Resources"])
    walk(template.body["Globals"])
    assert named
    assert all(key == DATA_KEY for key in named), named


def test_the_created_key_rotates_and_lets_the_delivering_services_use_it(template):
    key = template.body["Resources"]["DataKey"]
    assert key["Condition"] == "CreateDataKey"
    assert key["DeletionPolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    services = {
        json.dumps(s["Principal"]["Service"]) for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "Service" in s["Principal"]
    }  # fmt: skip
    assert services == {
        json.dumps({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}),
        '"cloudwatch.amazonaws.com"',
        '"events.amazonaws.com"',
    }


def test_a_service_may_use_the_data_key_only_for_this_account_and_never_administer_it(template):
    for statement in template.body["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]:
        if "Service" not in statement["Principal"]:
            continue
        assert statement["Condition"], statement["Sid"]  # this account's log groups, alarms, rules
        actions = as_list(statement["Action"])
        assert not any(a == "kms:*" or a.startswith(("kms:Put", "kms:Create", "kms:Delete")) for a in actions)


def test_functions_use_the_data_key_only_to_decrypt_and_to_write_through_the_stacks_services(grants):
    for function, statements in grants.items():
        kms = [s for s in statements if any(a.startswith("kms:") for a in as_list(s["Action"]))]
        assert kms, function
        for statement in kms:
            assert set(as_list(statement["Action"])) <= {"kms:Decrypt", "kms:GenerateDataKey"}, function
            assert statement["Resource"] == DATA_KEY, function
            if "kms:GenerateDataKey" in as_list(statement["Action"]):
                assert "kms:ViaService" in statement["Condition"]["StringEquals"], function


def test_log_groups_keep_logs_for_the_retention_parameter(template):
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert groups
    for name, properties in groups.items():
        assert properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_functions_trace_log_to_the_stacks_group_and_encrypt_their_environment(template):
    for name in resources_of(template, "AWS::Serverless::Function"):
        properties = template.function_properties(name)
        assert properties["Tracing"] == "Active", name
        assert properties["KmsKeyArn"] == DATA_KEY, name
        assert properties["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}, name


def test_the_state_machine_traces_and_logs_errors_without_execution_data(template):
    properties = template.body["Resources"]["ContactJobsStateMachine"]["Properties"]
    assert properties["Tracing"] == {"Enabled": True}
    assert properties["Logging"]["Level"] == "ERROR"
    assert properties["Logging"]["IncludeExecutionData"] is False


def watched(alarm: dict) -> dict[str, set[str]]:
    """Metric name -> the dimension values an alarm's metric math reads."""
    found: dict[str, set[str]] = {}
    for query in alarm.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            values = {json.dumps(d["Value"]) for d in metric["Dimensions"]}
            found.setdefault(metric["MetricName"], set()).update(values)
    return found


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_function_alarms_watch_every_function_within_the_metric_math_limit(template, metric):
    functions = {json.dumps({"Ref": name}) for name in resources_of(template, "AWS::Serverless::Function")}
    seen: set[str] = set()
    for name in resources_of(template, "AWS::CloudWatch::Alarm"):
        properties = template.body["Resources"][name]["Properties"]
        if metric in (found := watched(properties)):
            seen |= found[metric]
            assert len(properties["Metrics"]) - 1 <= 10, name  # CloudWatch: at most 10 metrics in one alarm
    assert seen == functions


def test_failed_timed_out_and_aborted_executions_raise_an_alarm(template):
    properties = template.body["Resources"]["ExecutionsFailedAlarm"]["Properties"]
    metrics = watched(properties)
    assert set(metrics) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert all(v == {json.dumps({"Ref": "ContactJobsStateMachine"})} for v in metrics.values())


def test_every_alarm_notifies_the_alarm_topic(template):
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    assert alarms
    for name, properties in alarms.items():
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert properties["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert properties["Threshold"] == 1, name
        assert properties["TreatMissingData"] == "notBreaching", name


def test_schedule_rule_and_trigger_dead_letter_into_one_alarmed_queue(template):
    queue = {"Fn::GetAtt": ["UndeliveredEventsQueue", "Arn"]}
    machine = template.body["Resources"]["ContactJobsStateMachine"]["Properties"]
    trigger = template.body["Resources"]["TriggerImportFunction"]["Properties"]
    assert machine["Events"]["BackupSchedule"]["Properties"]["DeadLetterConfig"] == {"Arn": queue}
    assert trigger["Events"]["ImportUploaded"]["Properties"]["DeadLetterConfig"] == {"Arn": queue}
    assert trigger["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": queue}
    alarm = template.body["Resources"]["UndeliveredEventsAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["UndeliveredEventsQueue", "QueueName"]}


def test_every_function_with_an_event_source_has_a_dead_letter_queue(template):
    """Asynchronous invocations retry, then go to the function's queue; checkov's dead-letter check is
    skipped design-wide (.checkov.yaml) for the functions Step Functions invokes synchronously."""
    triggered = [
        name for name in resources_of(template, "AWS::Serverless::Function")
        if template.function_properties(name).get("Events")
    ]  # fmt: skip
    assert triggered
    for name in triggered:
        queue = template.function_properties(name)["DeadLetterQueue"]
        assert queue == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["UndeliveredEventsQueue", "Arn"]}}, name


def test_every_table_is_encrypted_with_the_data_key_and_recoverable(template):
    tables = resources_of(template, "AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": DATA_KEY}
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name


def test_the_import_progress_table_is_encrypted_with_the_data_key_recoverable_and_expiring(template):
    table = template.body["Resources"]["ImportProgressTable"]["Properties"]
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": DATA_KEY}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_only_the_send_step_is_given_the_progress_table(template):
    given = {
        name
        for name in template.resources("AWS::Serverless::Function")
        if "IMPORT_PROGRESS_TABLE" in template.function_properties(name)["Environment"]["Variables"]
    }
    assert given == {"SendImportFunction"}
