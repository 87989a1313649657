"""Each static gate of `make test` refuses a template or definition with a planted defect.

The gates run exactly as `make validate` / `make build` run them (the Makefile's gate-* targets), pointed at
a copy of template.yaml (or of the deployed definition) with one defect planted. Each test also checks the
gate named the defect, so a gate that fails for another reason (a missing tool) does not pass the test.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sandbox.template import ROOT

TEMPLATE = (ROOT / "template.yaml").read_text()


def planted(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of template.yaml with one defect, beside links to the code it builds."""
    assert TEMPLATE.count(old) == 1, f"the defect's anchor is not unique: {old!r}"
    for folder in ("functions", "layers", "statemachine"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace(old, new))
    return path


def gate(name: str, **variables: Path) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", "-s", f"gate-{name}"]
    command += [f"{key}={value}" for key, value in variables.items()]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("gate_name", "old", "new", "named"),
    [
        pytest.param(
            "sam-validate", "          Type: EventBridgeRule\n", "          Type: EventBridgeRules\n",
            r"EventBridgeRules", id="sam-validate-refuses-an-unknown-event-type",
        ),
        pytest.param(
            "cfn-lint", "      DisplayName: contact-jobs alarms\n",
            "      DisplayName: contact-jobs alarms\n      FifoTopic: maybe\n",
            r"E30\d\d .*maybe", id="cfn-lint-refuses-a-value-cloudformation-does-not-allow",
        ),
        pytest.param(
            "checkov", "      EnableKeyRotation: true\n", "      EnableKeyRotation: false\n",
            r"CKV_AWS_7\b", id="checkov-refuses-a-key-that-does-not-rotate",
        ),
    ],
)  # fmt: skip
def test_template_gate_refuses_a_planted_defect(tmp_path, gate_name, old, new, named):
    result = gate(gate_name, TEMPLATE=planted(tmp_path, old, new))
    assert result.returncode != 0
    assert re.search(named, output(result)), output(result)


def test_asl_validator_refuses_a_transition_to_a_missing_state(tmp_path):
    definition = json.loads(subprocess.run(
        [sys.executable, "-m", "sandbox", "asl"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout)  # fmt: skip
    definition["States"]["StartExport"]["Next"] = "NoSuchState"
    path = tmp_path / "contact_jobs.asl.json"
    path.write_text(json.dumps(definition))
    result = gate("asl", ASL=path)
    assert result.returncode != 0
    assert "NoSuchState" in output(result)


def test_sam_build_refuses_a_layer_dependency_that_cannot_be_installed(tmp_path):
    layer = tmp_path / "broken_layer"
    layer.mkdir()
    (layer / "requirements.txt").write_text("requests==0.0.0\n")
    template = planted(
        tmp_path, "      ContentUri: layers/contact_jobs/\n", "      ContentUri: broken_layer/\n"
    )
    result = gate("sam-build", TEMPLATE=template, BUILD_DIR=tmp_path / "build")
    assert result.returncode != 0
    assert "requests==0.0.0" in output(result)


CHECKOV_CONFIG = ROOT / ".checkov.yaml"
CHECK_ID = r"CKV2?_AWS_\d+"


def design_wide_skips() -> dict[str, str]:
    """The checks .checkov.yaml skips for the whole design: id -> the comment block above it (its reason)."""
    skips, comment = {}, []
    for line in CHECKOV_CONFIG.read_text().splitlines():
        text = line.strip()
        if text.startswith("#"):
            comment.append(text.lstrip("# "))
        elif text.startswith("- "):
            skips[text.removeprefix("- ").strip()] = " ".join(comment)
            comment = []
        else:
            comment = []
    return skips


def resource_skips() -> list[tuple[str, dict[str, str]]]:
    body = yaml.load(TEMPLATE, Loader=_IgnoringTags)
    return [
        (name, skip)
        for name, spec in body["Resources"].items()
        for skip in (spec.get("Metadata") or {}).get("checkov", {}).get("skip", [])
    ]


def test_every_design_wide_checkov_skip_has_an_id_and_a_reason():
    skips = design_wide_skips()
    assert set(skips) == set(yaml.safe_load(CHECKOV_CONFIG.read_text())["skip-check"])
    for check, reason in skips.items():
        assert re.fullmatch(CHECK_ID, check), check
        assert reason.startswith(check), (check, reason)
        assert len(reason.split()) >= 8, (check, reason)


def test_every_resource_checkov_skip_has_an_id_and_a_reason_of_its_own():
    skips = resource_skips()
    assert skips
    for name, skip in skips:
        assert re.fullmatch(CHECK_ID, skip["id"]), (name, skip)
        assert len(skip.get("comment", "").split()) >= 8, (name, skip)
        assert skip["id"] not in design_wide_skips(), f"{name} repeats a design-wide skip: {skip['id']}"


@pytest.mark.parametrize("escape", ["--skip-check", "--soft-fail", "--check ", "--external-checks"])
def test_checkov_is_never_told_to_skip_or_soften_on_its_command_line(escape):
    recipe = re.search(r"^gate-checkov:\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe
    assert escape not in recipe.group(1)


def test_the_checkov_config_only_skips_named_checks():
    config = yaml.safe_load(CHECKOV_CONFIG.read_text())
    assert set(config) == {"skip-check"}, "no soft-fail, check list or other setting hides here"
    assert all(re.fullmatch(CHECK_ID, check) for check in config["skip-check"]), "no severities, no wildcards"
    assert not (ROOT / ".checkov.yml").exists(), "one config, the one the gate names"


def test_checkov_gate_applies_the_design_wide_skips_from_its_config(tmp_path):
    config = tmp_path / "checkov.yaml"
    config.write_text(CHECKOV_CONFIG.read_text().replace("  - CKV_AWS_117\n", ""))
    assert config.read_text() != CHECKOV_CONFIG.read_text()
    result = gate("checkov", CHECKOV_CONFIG=config)
    assert result.returncode != 0
    assert re.search(r"CKV_AWS_117\b", output(result)), output(result)


class _IgnoringTags(yaml.SafeLoader):
    """Reads template.yaml's CloudFormation tags (!Ref, !If...) as plain values."""


_IgnoringTags.add_multi_constructor("!", lambda loader, suffix, node: None)
