"""What the sandbox makes of each resource of the transformed template, property by property.

A resource type or a property that is not listed here makes the sandbox refuse the template, naming it:
the local stack would otherwise differ from the deployed one without anyone knowing. Each property is
either translated (None: the sandbox applies it to the moto resource, or runs by it) or knowingly left
out, with the reason. Resource attributes (Condition, DeletionPolicy, Metadata) are not properties:
conditions are applied, the others change nothing while the stack runs.
"""

from typing import Any

from sandbox.template import Template, TemplateError

TRANSLATED = None
_IN_PROCESS_LOGS = "handler logs and EMF metrics are captured in process (LocalStack.lambda_log_lines)"
_NO_TRACES = "X-Ray is off outside Lambda (Powertools' Tracer disables itself); nothing would receive traces"
_TAGS = "SAM's createdBy tag; nothing reads tags"
_NO_EVENTBRIDGE = "the sandbox hands each upload's event to TriggerImport itself (sandbox/import_runner.py)"

# Resource type -> property -> None (translated) or why it is left out.
CREATED: dict[str, dict[str, str | None]] = {
    "AWS::KMS::Key": {"Description": TRANSLATED, "KeyPolicy": TRANSLATED, "EnableKeyRotation": TRANSLATED},
    "AWS::S3::Bucket": {
        "BucketEncryption": TRANSLATED,
        "VersioningConfiguration": TRANSLATED,
        "PublicAccessBlockConfiguration": TRANSLATED,
        "LifecycleConfiguration": TRANSLATED,  # rule by rule: see LIFECYCLE_RULE_KEYS
        "LoggingConfiguration": "S3 delivers access logs hours later; moto does not, and no test reads them",
        "NotificationConfiguration": _NO_EVENTBRIDGE,
        "OwnershipControls": "BucketOwnerEnforced only disables ACLs, and no code sets an ACL",
    },
    # Statements with a Condition are left out (moto ignores Conditions, which would turn the TLS-only Deny
    # into a deny-all); tests/unit/test_template.py checks them in the template instead.
    "AWS::S3::BucketPolicy": {"Bucket": TRANSLATED, "PolicyDocument": TRANSLATED},
    "AWS::SNS::Topic": {"KmsMasterKeyId": TRANSLATED, "DisplayName": TRANSLATED},
    "AWS::SQS::Queue": {"KmsMasterKeyId": TRANSLATED, "MessageRetentionPeriod": TRANSLATED},
    "AWS::DynamoDB::Table": {
        "AttributeDefinitions": TRANSLATED,
        "KeySchema": TRANSLATED,
        "BillingMode": TRANSLATED,
        "SSESpecification": TRANSLATED,
        "PointInTimeRecoverySpecification": TRANSLATED,
        "TimeToLiveSpecification": TRANSLATED,
    },
    "AWS::IAM::ManagedPolicy": {"PolicyDocument": TRANSLATED, "Description": TRANSLATED},
    # Only the roles a function or state machine runs as are created (sandbox/roles.py).
    "AWS::IAM::Role": {
        "Policies": TRANSLATED,
        "ManagedPolicyArns": TRANSLATED,  # the stack's own; AWS-managed ones only grant logs and X-Ray writes
        "AssumeRolePolicyDocument": "replaced by trust in the sandbox's identity, which assumes each role as "
        "Lambda or Step Functions would",
        "Description": "text for people; nothing reads it",
        "Tags": _TAGS,
    },
    "AWS::Lambda::Function": {
        "Code": TRANSLATED,  # the packaged key is the CodeUri folder: its handler runs in process
        "Handler": TRANSLATED,
        "Runtime": TRANSLATED,
        "Role": TRANSLATED,
        "Timeout": TRANSLATED,
        "MemorySize": TRANSLATED,
        "Architectures": TRANSLATED,
        "Environment": TRANSLATED,
        "Description": TRANSLATED,
        "Layers": TRANSLATED,  # the layer's content folder is put on sys.path, as Lambda mounts it on /opt
        "TracingConfig": _NO_TRACES,
        "LoggingConfig": _IN_PROCESS_LOGS,
        "KmsKeyArn": "moto keeps environment variables unencrypted; tests/unit/test_iam.py checks each role "
        "may decrypt with the key",
        "DeadLetterConfig": "only asynchronous invocations are dead-lettered; the sandbox's are synchronous",
        "Tags": _TAGS,
    },
    "AWS::StepFunctions::StateMachine": {
        "StateMachineName": TRANSLATED,
        "StateMachineType": TRANSLATED,
        "DefinitionS3Location": TRANSLATED,  # the packaged key is the definition file
        "DefinitionSubstitutions": TRANSLATED,
        "RoleArn": TRANSLATED,
        "LoggingConfiguration": "moto's interpreter delivers no execution logs; tests read execution history",
        "TracingConfiguration": _NO_TRACES,
        "Tags": _TAGS,
    },
}

# Bucket lifecycle rules, key by key: CloudFormation's shape differs from the API's.
LIFECYCLE_RULE_KEYS = frozenset(
    {
        "Id",
        "Status",
        "Prefix",
        "ExpirationInDays",
        "AbortIncompleteMultipartUpload",
        "NoncurrentVersionExpiration",
    }
)

# Resource types the sandbox does not create at all, and why.
NOT_CREATED: dict[str, str] = {
    "AWS::KMS::Alias": "code names the data key by ARN, never by alias",
    "AWS::Logs::LogGroup": _IN_PROCESS_LOGS,
    "AWS::CloudWatch::Alarm": "moto does not evaluate alarms",
    "AWS::SNS::Subscription": "the alarm email subscription; tests subscribe a queue of their own",
    "AWS::SQS::QueuePolicy": "it lets EventBridge dead-letter into the queue; the sandbox has no EventBridge",
    "AWS::Scheduler::Schedule": "the sandbox starts backups itself, with the schedule's Input (runner.py)",
    "AWS::Events::Rule": _NO_EVENTBRIDGE,
    "AWS::Lambda::Permission": "it lets EventBridge invoke the trigger; " + _NO_EVENTBRIDGE,
    "AWS::Lambda::LayerVersion": "functions import its content folder from sys.path, as from Lambda's /opt",
}


def untranslated(template: Template) -> list[str]:
    """Every resource type and property of the deployed template the sandbox would silently drop."""
    found = []
    for logical, spec in template.deployed_resources().items():
        kind = spec["Type"]
        if kind in NOT_CREATED:
            continue
        if kind not in CREATED:
            found.append(f"{logical} ({kind}): the sandbox does not create this type")
            continue
        found += [
            f"{logical} ({kind}): the sandbox does not translate {name}"
            for name in spec.get("Properties", {})
            if name not in CREATED[kind]
        ]
        found += _untranslated_lifecycle(logical, spec)
    return found


def _untranslated_lifecycle(logical: str, spec: dict[str, Any]) -> list[str]:
    rules = spec.get("Properties", {}).get("LifecycleConfiguration", {}).get("Rules", [])
    return [
        f"{logical}: the sandbox does not translate LifecycleConfiguration rule key {key}"
        for rule in rules
        for key in rule
        if key not in LIFECYCLE_RULE_KEYS
    ]


def refuse_untranslated(template: Template) -> None:
    found = untranslated(template)
    if found:
        raise TemplateError("template.yaml holds what the sandbox would drop:\n  " + "\n  ".join(found))
