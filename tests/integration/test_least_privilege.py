"""Each handler runs as its own function role with IAM enforced: a permission missing from the template
fails the workflow with AccessDenied, as it would after `sam deploy`."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.runner import received_notifications, run_execution, schedule_input, subscribe_queue
from sandbox.stack import StackConfig, local_stack
from sandbox.template import TEMPLATE
from tests.integration.conftest import only_notification

Edit = Callable[[dict[str, Any]], None]


def template_copy(tmp_path: Path, edit: Edit) -> Path:
    """template.yaml with one edit, as the sandbox would load it (JSON is YAML)."""
    body = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    edit(body)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(body))
    return path


def without_action(function: str, sid: str, action: str) -> Edit:
    def edit(body: dict[str, Any]) -> None:
        for policy in body["Resources"][function]["Properties"]["Policies"]:
            if isinstance(policy, dict) and "Ref" in policy:  # a shared managed policy: its document
                policy = body["Resources"][policy["Ref"]]["Properties"].get("PolicyDocument", {})
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if statement.get("Sid") == sid:
                    statement["Action"].remove(action)
                    return
        raise LookupError(f"{function} has no statement {sid} granting {action}")

    return edit


def backup_with(template: Path) -> dict[str, Any]:
    """A scheduled backup of 100 contacts on a stack built from ``template``: its status, notifications
    and the keys left in the backup bucket."""
    options = FakeSendGridOptions(export_ready_after_s=0.05, contacts=100)
    with FakeSendGrid(options) as fake:
        config = StackConfig(
            api_key=options.api_key,
            sendgrid_base_url=fake.base_url,
            download_hosts=fake.download_host,
            template=template,
        )
        with local_stack(config) as stack:
            queue_url = subscribe_queue(stack)
            result = run_execution(stack, "least-privilege", schedule_input(stack), say=lambda line: None)
            listed = stack.client("s3").list_objects_v2(Bucket=stack.backup_bucket).get("Contents", [])
            return {
                **result,
                "notifications": received_notifications(stack, queue_url),
                "keys": [item["Key"] for item in listed],
            }


def test_the_unchanged_template_grants_every_permission_a_backup_uses(tmp_path):
    result = backup_with(template_copy(tmp_path, lambda body: None))
    assert result["status"] == "SUCCEEDED"
    assert any(key.endswith("/manifest.json") for key in result["keys"])


def test_copy_export_file_without_put_object_fails_the_backup_with_access_denied_naming_both(tmp_path):
    edit = without_action("CopyExportFileFunction", "WriteBackupFiles", "s3:PutObject")
    result = backup_with(template_copy(tmp_path, edit))
    assert result["status"] == "FAILED"
    error = only_notification(result)["message"]["error"]
    assert "AccessDenied" in error["message"], error
    assert "assumed-role/CopyExportFileFunctionRole/CopyExportFileFunction" in error["message"], error
    assert "not authorized to perform: s3:PutObject" in error["message"], error


def test_write_manifest_without_put_object_fails_and_the_discard_removes_the_copies_as_its_own_role(tmp_path):
    edit = without_action("WriteManifestFunction", "ReadFilesWriteManifest", "s3:PutObject")
    result = backup_with(template_copy(tmp_path, edit))
    assert result["status"] == "FAILED"
    error = only_notification(result)["message"]["error"]
    assert "assumed-role/WriteManifestFunctionRole/WriteManifestFunction" in error["message"], error
    assert "not authorized to perform: s3:PutObject" in error["message"], error
    assert result["states"][-3:] == ["DiscardPartialBackup", "NotifyFailed", "JobFailed"]
    # What stays is the discard's fence, beside the backup's prefix: an empty object late copies look for.
    left = [key for key in result["keys"] if ".discarded/" not in key]
    assert left == [], "DiscardPartialBackup listed and deleted the copied files"


def without_invoke_of(function: str) -> Edit:
    def edit(body: dict[str, Any]) -> None:
        (policy,) = body["Resources"]["ContactJobsStateMachine"]["Properties"]["Policies"]
        (statement,) = [s for s in policy["Statement"] if s["Sid"] == "InvokeTheWorkflowsFunctions"]
        statement["Resource"].remove({"Fn::GetAtt": [function, "Arn"]})

    return edit


def test_a_state_machine_role_that_may_not_invoke_copy_export_file_fails_the_backup_naming_it(tmp_path):
    result = backup_with(template_copy(tmp_path, without_invoke_of("CopyExportFileFunction")))
    assert result["status"] == "FAILED"
    error = only_notification(result)["message"]["error"]
    assert "assumed-role/ContactJobsStateMachineRole/ContactJobsStateMachine" in error["message"], error
    assert "not authorized to perform: lambda:InvokeFunction" in error["message"], error
