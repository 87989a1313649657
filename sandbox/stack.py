"""The deployed stack, rebuilt in moto from template.yaml: buckets, topic, secret, queue, roles, functions
(run in this process, each as its own role, IAM enforced), and the state machine with its real definition
and substitutions."""

import importlib.util
import io
import json
import logging
import os
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.credentials import ReadOnlyCredentials
from moto import mock_aws
from moto.core import enable_iam_authentication

from sandbox.identity import invocation_credentials
from sandbox.moto_patches import InProcessFunction, Recorder, enforced_iam, in_lambda_handler, patched_moto
from sandbox.roles import create_roles, function_roles, state_machine_roles
from sandbox.template import (
    ACCOUNT_ID,
    REGION,
    ROOT,
    STACK_NAME,
    TEMPLATE,
    Template,
    TemplateError,
    packaged_path,
)
from sandbox.tls import loopback_certificate
from sandbox.translation import refuse_untranslated

# moto's interpreter logs every caught Task error with its whole parse tree; the sandbox prints its own.
logging.getLogger("moto").setLevel(logging.CRITICAL)
SECRET_NAME = "contact-jobs/sendgrid-api-key"  # noqa: S105 - a name, not a secret
WHICH50_SECRET_NAME = "contact-jobs/which50-api-key"  # noqa: S105 - a name, not a secret
ADMIN_USER = "contact-jobs-sandbox-admin"  # the sandbox's own identity: setup, uploads, what tests read


@dataclass
class StackConfig:
    api_key: str
    sendgrid_base_url: str
    download_hosts: str
    time_scale: float = 0.001
    parameters: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)  # extra variables (tests lower limits)
    which50_base_url: str | None = None
    which50_api_key: str | None = None
    template: Path = TEMPLATE  # tests load a copy with a planted defect

    @classmethod
    def for_sendgrid(cls, fake: Any, **settings: Any) -> "StackConfig":
        """A stack wired to a fake SendGrid: its key, its API and its download host."""
        return cls(fake.options.api_key, fake.base_url, fake.download_host, **settings)


@dataclass
class LocalStack:
    template: Template
    recorder: Recorder
    state_machine_arn: str
    topic_arn: str
    backup_bucket: str
    import_bucket: str
    log_stream: io.StringIO

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    def lambda_log_lines(self) -> list[str]:
        return self.log_stream.getvalue().splitlines()

    def metrics(self) -> list[dict[str, Any]]:
        """Every EMF record the handlers printed: ``{"name", "value", "unit", "operation", "provider"}``."""
        found = []
        for line in self.lambda_log_lines():
            if not line.startswith('{"_aws"'):
                continue
            record = json.loads(line)
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for definition in directive["Metrics"]:
                    dimensions = {"operation": record.get("operation"), "provider": record.get("provider")}
                    found += [
                        {"name": definition["Name"], "value": value, "unit": definition["Unit"], **dimensions}
                        for value in record[definition["Name"]]
                    ]
        return found


def load_handler(code_uri: str | Path, handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    path = ROOT / code_uri / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"sandbox_fn_{path.parent.name}", path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"cannot load handler {handler} from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function_name)


def _bucket_config(s3: Any, name: str, properties: dict[str, Any]) -> None:
    """Apply the template's bucket hardening, translated from CloudFormation's shape to the API's."""
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if "BucketEncryption" in properties:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
            }
            for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "VersioningConfiguration" in properties:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=properties["VersioningConfiguration"])
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
        )
    if "LifecycleConfiguration" in properties:
        rules = [_lifecycle_rule(rule) for rule in properties["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One rule in the API's shape (translation.LIFECYCLE_RULE_KEYS lists the keys read here)."""
    translated: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        translated["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    for key in ("AbortIncompleteMultipartUpload", "NoncurrentVersionExpiration"):
        if key in rule:
            translated[key] = rule[key]
    return translated


def _create_keys(template: Template, kms: Any) -> None:
    for logical, spec in template.deployed_resources("AWS::KMS::Key").items():
        properties = template.resolve(spec["Properties"])
        key = kms.create_key(Description=properties.get("Description", logical),
                             Policy=json.dumps(properties["KeyPolicy"]))["KeyMetadata"]  # fmt: skip
        if properties.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        template.created(logical, key["KeyId"], Arn=key["Arn"], KeyId=key["KeyId"])


def _create_buckets(template: Template, s3: Any) -> None:
    buckets = template.deployed_resources("AWS::S3::Bucket")
    for logical in buckets:  # named first: one bucket's properties may name another (its access-log target)
        name = f"{STACK_NAME}-{logical.lower()}"
        template.created(logical, name, Arn=f"arn:aws:s3:::{name}")
    for logical, spec in buckets.items():
        _bucket_config(s3, template.ref(logical), template.resolve(spec.get("Properties", {})))
    for spec in template.deployed_resources("AWS::S3::BucketPolicy").values():
        properties = template.resolve(spec["Properties"])
        statements = properties["PolicyDocument"]["Statement"]
        # moto enforces bucket policies but ignores their Conditions, which turns the TLS-only Deny into
        # a deny-all. Such statements are checked against the template by tests instead.
        kept = [statement for statement in statements if "Condition" not in statement]
        if kept:
            document = {**properties["PolicyDocument"], "Statement": kept}
            s3.put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(document))


def _create_topics(template: Template, sns: Any) -> None:
    for logical, spec in template.deployed_resources("AWS::SNS::Topic").items():
        properties = template.resolve(spec.get("Properties", {}))
        names = ("KmsMasterKeyId", "DisplayName")
        attributes = {name: str(properties[name]) for name in names if properties.get(name)}
        arn = sns.create_topic(Name=f"{STACK_NAME}-{logical}", Attributes=attributes)["TopicArn"]
        template.created(logical, arn, TopicName=arn.rsplit(":", 1)[1], TopicArn=arn)


def _create_queues(template: Template, sqs: Any) -> None:
    for logical, spec in template.deployed_resources("AWS::SQS::Queue").items():
        properties = template.resolve(spec.get("Properties", {}))
        attributes = {name: str(value) for name, value in properties.items()}  # the API's names are the same
        name = f"{STACK_NAME}-{logical}"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        template.created(logical, url, Arn=f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}", QueueName=name)


def _create_tables(template: Template, dynamodb: Any) -> None:
    for logical, spec in template.deployed_resources("AWS::DynamoDB::Table").items():
        properties = template.resolve(spec["Properties"])
        name = f"{STACK_NAME}-{logical}"
        created = dynamodb.create_table(TableName=name, **_table_arguments(properties))["TableDescription"]
        if properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        if "TimeToLiveSpecification" in properties:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification=properties["TimeToLiveSpecification"]
            )
        template.created(logical, name, Arn=created["TableArn"])


def progress_table_keys() -> dict[str, Any]:
    """The import progress table's keys as template.yaml defines them, for a table made outside a stack
    (the benchmarks', a unit test's)."""
    properties = Template.load().body["Resources"]["ImportProgressTable"]["Properties"]
    keys = {name: properties[name] for name in ("AttributeDefinitions", "KeySchema")}
    return {**keys, "BillingMode": "PAY_PER_REQUEST"}


def _table_arguments(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's shape to CreateTable's: SSE's key is ``KMSMasterKeyId`` and ``SSEType`` alike,
    but the API names the switch ``Enabled``."""
    arguments: dict[str, Any] = {
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    sse = properties.get("SSESpecification")
    if sse:
        arguments["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            **{key: sse[key] for key in ("SSEType", "KMSMasterKeyId") if key in sse},
        }
    return arguments


def _name_functions(template: Template) -> None:
    """Function ARNs follow from their names (the logical id: the template sets no FunctionName, which
    the sandbox would refuse); the state machine's role names them."""
    for logical in template.deployed_resources("AWS::Lambda::Function"):
        template.created(logical, logical, Arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{logical}")


@dataclass(frozen=True)
class Role:
    arn: str
    credentials: ReadOnlyCredentials  # assumed, as Lambda or Step Functions would assume it


def _create_functions(template: Template, roles: dict[str, Role]) -> dict[str, InProcessFunction]:
    client = boto3.client("lambda", region_name=REGION)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "# the sandbox runs the real handler in-process\n")
    functions: dict[str, InProcessFunction] = {}
    for logical, spec in template.deployed_resources("AWS::Lambda::Function").items():
        properties = spec["Properties"]
        timeout = int(template.resolve(properties.get("Timeout", 3)))  # a WorkflowTimeouts row
        memory = int(template.resolve(properties.get("MemorySize", 128)))
        client.create_function(
            FunctionName=logical,
            Runtime=properties["Runtime"],
            Role=template.resolve(properties["Role"]),
            Handler=properties["Handler"],
            Code={"ZipFile": code.getvalue()},
            Description=properties.get("Description", ""),
            Timeout=timeout,
            MemorySize=memory,
            Architectures=properties.get("Architectures", ["x86_64"]),
        )
        functions[logical] = InProcessFunction(
            handler=load_handler(packaged_path(properties["Code"]), properties["Handler"]),
            memory_mb=memory,
            timeout_s=timeout,
            role=roles[logical].credentials,
        )
    return functions


def layer_folders(template: Template) -> list[Path]:
    """The content folder of every layer the functions use (Lambda mounts them on /opt/python)."""
    layers = template.deployed_resources("AWS::Lambda::LayerVersion")
    used = {
        layer["Ref"]
        for spec in template.deployed_resources("AWS::Lambda::Function").values()
        for layer in spec["Properties"].get("Layers", [])
    }
    unknown = used - set(layers)
    if unknown:
        raise TemplateError(f"functions use layers the template does not build: {sorted(unknown)}")
    return [packaged_path(layers[name]["Properties"]["Content"]) for name in sorted(used)]


def create_admin() -> ReadOnlyCredentials:
    """An IAM user allowed everything: the sandbox's own calls are signed as it (created before IAM is
    enforced, like the account's administrator who deploys)."""
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName=ADMIN_USER)
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    return ReadOnlyCredentials(key["AccessKeyId"], key["SecretAccessKey"], None)


def _assume_roles(template: Template) -> dict[str, Role]:
    """Each function's and state machine's role from the template (after the SAM transform), created and
    assumed: function or state machine logical id -> role."""
    admin = f"arn:aws:iam::{ACCOUNT_ID}:user/{ADMIN_USER}"
    created = create_roles(template, boto3.client("iam", region_name=REGION), admin)
    resources = template.deployed_resources()
    sts = boto3.client("sts", region_name=REGION)
    assumed = {}
    for owner, role in {**function_roles(resources), **state_machine_roles(resources)}.items():
        got = sts.assume_role(RoleArn=created[role], RoleSessionName=owner)["Credentials"]
        credentials = ReadOnlyCredentials(got["AccessKeyId"], got["SecretAccessKey"], got["SessionToken"])
        assumed[owner] = Role(created[role], credentials)
    return assumed


def function_environment(template: Template) -> dict[str, str]:
    """The union of every function's environment. All functions share one process here, so a variable
    that two functions set differently cannot be honoured: the sandbox refuses it."""
    merged: dict[str, str] = {}
    for spec in template.deployed_resources("AWS::Lambda::Function").values():
        variables = template.resolve(spec["Properties"].get("Environment", {}).get("Variables", {}))
        for name, value in variables.items():
            if merged.get(name, str(value)) != str(value):
                raise TemplateError(f"environment variable {name} differs between functions")
            merged[name] = str(value)
    return merged


def _name_state_machines(template: Template) -> None:
    """State machine ARNs follow from their names; functions may refer to them (the import trigger)."""
    for logical, spec in template.deployed_resources("AWS::StepFunctions::StateMachine").items():
        name = str(template.resolve(spec["Properties"].get("StateMachineName", logical)))
        arn = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"
        template.created(logical, arn, Arn=arn, Name=name)


def _create_state_machines(template: Template, sfn: Any) -> str:
    arn: str = ""
    for logical, spec in template.deployed_resources("AWS::StepFunctions::StateMachine").items():
        expected = template.physical[logical]
        created = sfn.create_state_machine(
            name=expected["Name"],
            definition=asl_definition(template, logical),
            roleArn=template.resolve(spec["Properties"]["RoleArn"]),
            type=spec["Properties"].get("StateMachineType", "STANDARD"),
        )
        arn = created["stateMachineArn"]
        if arn != expected["Arn"]:
            raise TemplateError(f"state machine ARN {arn} is not the {expected['Arn']} functions were given")
    return arn


def asl_definition(template: Template, logical: str) -> str:
    """The definition file with DefinitionSubstitutions applied, as CloudFormation would."""
    properties = template.deployed[logical]["Properties"]
    path = packaged_path(properties["DefinitionS3Location"], "Bucket", "Key")
    text = path.read_text()
    for key, value in template.resolve(properties.get("DefinitionSubstitutions", {})).items():
        text = text.replace("${" + key + "}", str(value))
    if "${" in text:
        raise TemplateError(f"{path.relative_to(ROOT)} has a placeholder without a substitution")
    return text


def deployed_definition(logical: str = "ContactJobsStateMachine") -> str:
    """The definition as CloudFormation would deploy it, without creating anything: placeholder ARNs,
    the template's other substitutions (Task timeouts among them) applied."""
    template = Template.load(
        overrides={"SendGridApiKeySecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}
    )
    placeholder_arns(template)
    return asl_definition(template, logical)


def placeholder_arns(template: Template) -> None:
    """Physical ids for every resource, without creating anything (for ``python -m sandbox asl``)."""
    for logical in {**template.body["Resources"], **template.deployed}:
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{logical}"
        template.created(logical, logical, Arn=arn, TopicName=logical, Name=logical)


@contextmanager
def local_stack(config: StackConfig) -> Iterator[LocalStack]:
    """moto (with the real ASL interpreter) holding the template's resources; handlers in-process."""
    overrides = {"SendGridApiBase": config.sendgrid_base_url, "DownloadHosts": config.download_hosts}
    with ExitStack() as stack:
        stack.enter_context(
            mock_aws(config={"stepfunctions": {"execute_state_machine": True}})  # type: ignore[arg-type]
        )
        stack.enter_context(_process_environment({"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}))
        stack.enter_context(invocation_credentials(sandbox=create_admin()))
        stack.enter_context(enable_iam_authentication())
        secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=SECRET_NAME, SecretString=config.api_key
        )["ARN"]
        overrides["SendGridApiKeySecretArn"] = secret_arn
        if config.which50_base_url and config.which50_api_key:
            overrides["Which50ApiBase"] = config.which50_base_url
            overrides["Which50ApiKeySecretArn"] = boto3.client(
                "secretsmanager", region_name=REGION
            ).create_secret(Name=WHICH50_SECRET_NAME, SecretString=config.which50_api_key)["ARN"]
        template = Template.load(config.template, overrides={**overrides, **config.parameters})
        refuse_untranslated(template)
        for folder in layer_folders(template):  # Lambda mounts the layers on the path; so does the sandbox
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
        _create_keys(template, boto3.client("kms", region_name=REGION))
        _create_buckets(template, boto3.client("s3", region_name=REGION))
        _create_topics(template, boto3.client("sns", region_name=REGION))
        _create_queues(template, boto3.client("sqs", region_name=REGION))
        _create_tables(template, boto3.client("dynamodb", region_name=REGION))
        _name_state_machines(template)
        _name_functions(template)
        roles = _assume_roles(template)
        functions = _create_functions(template, roles)
        environment = {
            **function_environment(template),
            "REQUESTS_CA_BUNDLE": str(loopback_certificate().cert_path),
            **config.environment,
        }
        stack.enter_context(_process_environment(environment))
        log_stream = stack.enter_context(_captured_lambda_logs())
        _reset_caches()
        recorder = Recorder(time_scale=config.time_scale)
        stack.enter_context(patched_moto(functions, recorder))
        stack.enter_context(enforced_iam(roles[_state_machine(template)].credentials))
        sfn = boto3.client("stepfunctions", region_name=REGION)
        state_machine_arn = _create_state_machines(template, sfn)
        yield LocalStack(
            template=template,
            recorder=recorder,
            state_machine_arn=state_machine_arn,
            topic_arn=template.ref("NotificationTopic"),
            backup_bucket=template.ref("BackupBucket"),
            import_bucket=template.ref("ImportBucket"),
            log_stream=log_stream,
        )
        _drain(boto3.client("stepfunctions", region_name=REGION), state_machine_arn)
        _reset_caches()


def _state_machine(template: Template) -> str:
    (logical,) = template.deployed_resources("AWS::StepFunctions::StateMachine")
    return logical


def _drain(sfn: Any, state_machine_arn: str, timeout_s: float = 30) -> None:
    """Let executions still running (a test may leave one behind) end before their patches go away."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        running = sfn.list_executions(stateMachineArn=state_machine_arn, statusFilter="RUNNING")["executions"]
        if not running:
            return
        time.sleep(0.05)
    raise TimeoutError(f"executions still running after {timeout_s} s: {[e['name'] for e in running]}")


@contextmanager
def _process_environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _HandlerStdout(io.TextIOBase):
    """sys.stdout while the stack is up. What a handler's thread prints (EMF metrics) goes to the function
    log, as Lambda sends stdout to CloudWatch Logs; the sandbox's own output passes through."""

    def __init__(self, passthrough: TextIO, function_log: io.StringIO) -> None:
        self.passthrough, self.function_log = passthrough, function_log
        # print() writes a line and its newline in two calls: handlers printing at once on several threads
        # would splice their EMF blobs into one line. Each thread's text is held until its line ends.
        self._pending = threading.local()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        if not in_lambda_handler():
            return self.passthrough.write(text)
        held = getattr(self._pending, "text", "") + text
        complete, _, self._pending.text = held.rpartition("\n")
        if complete:
            with self._lock:
                self.function_log.write(complete + "\n")
        return len(text)

    def flush(self) -> None:
        self.passthrough.flush()


@contextmanager
def _captured_lambda_logs() -> Iterator[io.StringIO]:
    """The handlers' structured logs and metrics go to a buffer (tests read them, as CloudWatch Logs would
    hold them), not over the sandbox's output."""
    from contact_jobs.observability import logger

    buffer = io.StringIO()
    handlers = [h for h in logging.getLogger(logger.service).handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(buffer) for h in handlers]
    try:
        with redirect_stdout(_HandlerStdout(sys.stdout, buffer)):
            yield buffer
    finally:
        for h, stream in zip(handlers, previous, strict=True):
            h.setStream(stream)  # type: ignore[arg-type]


def _reset_caches() -> None:
    """Per-process caches of the layer (settings, clients, secrets) must not outlive one stack."""
    from contact_jobs import config, runtime

    config.settings.cache_clear()
    cached_clients = (runtime.s3_client, runtime.sns_client, runtime.progress_table, runtime.url_guard)
    for cached in (*cached_clients, runtime.session):
        cached.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
