"""The layer that `sam build` makes for deployment holds exactly the versions the tests run.

Lambda puts a layer ahead of the runtime's own packages, so an unpinned transitive package (botocore via
aws-xray-sdk, say) would run in production at a version no test ran, under the runtime's boto3 and
s3transfer. The layer's requirements pin every package it installs, boto3, botocore and s3transfer
included, at constraints.txt's versions; this reads the build and compares.
"""

import re
from pathlib import Path

import pytest

from sandbox.template import ROOT
from tests.gates.test_static_gates import gate, output

LAYER_REQUIREMENTS = ROOT / "layers" / "contact_jobs" / "requirements.txt"
# A function's own packages, beside the layer: CopyExportFile's awscrt (transfer.UPLOAD_CHECKSUM).
COPY_REQUIREMENTS = ROOT / "functions" / "copy_export_file" / "requirements.txt"
SDK = {"boto3", "botocore", "s3transfer"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, separator, version = line.partition("==")
            assert separator, f"{path.name}: {line!r} is not pinned to one version"
            assert normalized(name) not in found, f"{path.name}: {name} is pinned twice"
            found[normalized(name)] = version.strip()
    return found


def installed(layer: Path) -> list[tuple[str, str]]:
    """(name, version) of every distribution in the built layer, from its dist-info metadata."""
    found = []
    for metadata in layer.glob("*.dist-info/METADATA"):
        fields = dict(line.split(": ", 1) for line in metadata.read_text().splitlines()[:10] if ": " in line)
        found.append((normalized(fields["Name"]), fields["Version"]))
    return sorted(found)


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    """The build `make build` left, if it was made from today's requirements; else a new build."""
    existing = ROOT / ".aws-sam" / "build"
    made_from = {
        existing / "ContactJobsLayer" / "python" / "requirements.txt": LAYER_REQUIREMENTS,
        existing / "CopyExportFileFunction" / "requirements.txt": COPY_REQUIREMENTS,
    }
    if all(copy.is_file() and copy.read_bytes() == source.read_bytes() for copy, source in made_from.items()):
        return existing
    build_dir = tmp_path_factory.mktemp("build")
    result = gate("sam-build", BUILD_DIR=build_dir)
    assert result.returncode == 0, output(result)[-3000:]
    return build_dir


@pytest.fixture(scope="module")
def built_layer(build) -> Path:
    return build / "ContactJobsLayer" / "python"


# What sam build installs from its own requirements: the layer, and CopyExportFile beside it.
BUILT_FROM = {
    "layer": (LAYER_REQUIREMENTS, Path("ContactJobsLayer") / "python"),
    "copy function": (COPY_REQUIREMENTS, Path("CopyExportFileFunction")),
}


@pytest.mark.parametrize("requirements", [LAYER_REQUIREMENTS, COPY_REQUIREMENTS], ids=BUILT_FROM)
def test_every_requirement_is_pinned_as_the_tests_run_it(requirements):
    constraints = pins(ROOT / "constraints.txt")
    assert {
        name: version for name, version in pins(requirements).items() if constraints.get(name) != version
    } == {}


def test_the_layer_bundles_the_sdk_the_tests_run():
    assert pins(LAYER_REQUIREMENTS).keys() >= SDK


def test_the_copy_function_bundles_awscrt():
    assert "awscrt" in pins(COPY_REQUIREMENTS)


@pytest.mark.parametrize("built", BUILT_FROM)
def test_the_build_installs_exactly_the_pinned_versions(build, built):
    requirements, folder = BUILT_FROM[built]
    found = installed(build / folder)
    assert len(found) == len({name for name, _ in found}), f"a package installed twice: {found}"
    assert dict(found) == pins(requirements)


def test_the_built_layer_versions_equal_constraints(built_layer):
    constraints = pins(ROOT / "constraints.txt")
    drifted = [(name, found) for name, found in installed(built_layer) if constraints.get(name) != found]
    assert drifted == []
