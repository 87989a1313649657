"""template.yaml, read as CloudFormation reads it: the promises the README makes about the stack."""

import json

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
    policies = template.body["Resources"]["CopyExportFileFunction"]["Properties"]["Policies"]
    statements = [s for policy in policies if isinstance(policy, dict) for s in policy.get("Statement", [])]
    assert len(statements) == 2
    assert set(statements[0]["Action"]) == {
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:GetObject",  # HeadObject: what another attempt stored, and a discard's fence
        "s3:DeleteObject",  # a copy that lands after its backup was discarded withdraws itself
    }
    assert statements[1]["Action"] == "s3:ListBucket"  # so that a missing fence is a 404, not a 403
    assert statements[1]["Condition"] == {"StringLike": {"s3:prefix": "backups/*"}}


# Hardening: keys, logs, tracing, alarms, dead letters --------------------------------------------------

DATA_KEY = {"Fn::If": ["CreateDataKey", {"Fn::GetAtt": ["DataKey", "Arn"]}, {"Ref": "DataKeyArn"}]}


def resources_of(template, kind: str) -> dict:
    return {name: spec["Properties"] for name, spec in template.resources(kind).items()}


@pytest.mark.parametrize("name", ["BackupBucket", "ImportBucket"])
def test_data_buckets_use_the_data_key_with_bucket_keys_and_log_access(template, name):
    properties = template.body["Resources"][name]["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DATA_KEY}
    assert rule["BucketKeyEnabled"] is True
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}


def test_every_bucket_blocks_public_access_and_denies_plain_http(template):
    policies = {p["Bucket"]["Ref"]: p for p in resources_of(template, "AWS::S3::BucketPolicy").values()}
    for name, properties in resources_of(template, "AWS::S3::Bucket").items():
        assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}, name
        denies = [s for s in policies[name]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name


def test_topics_queue_and_log_groups_use_the_data_key(template):
    encrypted = {
        **{name: p["KmsMasterKeyId"] for name, p in resources_of(template, "AWS::SNS::Topic").items()},
        **{name: p["KmsMasterKeyId"] for name, p in resources_of(template, "AWS::SQS::Queue").items()},
        **{name: p["KmsKeyId"] for name, p in resources_of(template, "AWS::Logs::LogGroup").items()},
    }
    assert set(encrypted) >= {"NotificationTopic", "AlarmTopic", "UndeliveredEventsQueue", "FunctionLogGroup"}
    assert all(key == DATA_KEY for key in encrypted.values()), encrypted


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


def test_log_groups_keep_logs_for_the_retention_parameter(template):
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert set(groups) == {"FunctionLogGroup", "StateMachineLogGroup"}
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


@pytest.mark.parametrize("alarm", ["FunctionErrorsAlarm", "FunctionThrottlesAlarm"])
def test_function_alarms_watch_every_function_within_the_metric_math_limit(template, alarm):
    properties = template.body["Resources"][alarm]["Properties"]
    functions = {json.dumps({"Ref": name}) for name in resources_of(template, "AWS::Serverless::Function")}
    (values,) = watched(properties).values()
    assert values == functions
    assert len(properties["Metrics"]) - 1 <= 10  # CloudWatch: at most 10 metrics in one alarm's math


def test_failed_timed_out_and_aborted_executions_raise_an_alarm(template):
    properties = template.body["Resources"]["ExecutionsFailedAlarm"]["Properties"]
    metrics = watched(properties)
    assert set(metrics) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert all(v == {json.dumps({"Ref": "ContactJobsStateMachine"})} for v in metrics.values())


def test_every_alarm_notifies_the_alarm_topic(template):
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 4
    for name, properties in alarms.items():
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
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
