"""template.yaml as the sandbox reads it: the SAM transform's output, parameters and intrinsic functions.

The sandbox builds what CloudFormation would receive: the template after the real SAM transform
(samtranslator: Globals merged, functions, roles, schedules and rules generated), with intrinsic functions
resolved by SAM CLI's resolver (the one ``sam local`` uses) against the physical ids of what the sandbox
has created. An environment variable, a substitution or a resource added to the template reaches the
local stack without a second list to keep in step; a name the sandbox has not created fails loudly
rather than being guessed.
"""

import copy
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml
from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import IntrinsicResolver
from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable
from samcli.lib.intrinsic_resolver.invalid_intrinsic_exception import (
    InvalidIntrinsicException,
    InvalidSymbolException,
)
from samtranslator.plugins.globals.globals import Globals
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
STACK_NAME = "contact-jobs-sandbox"
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
# What `sam package` uploads and replaces by an S3 location before the transform sees the template. The
# sandbox keeps the local path as the S3 key, so the transformed template still says where the code is.
PACKAGED_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")
PACKAGE_BUCKET = "packaged"


class TemplateError(Exception):
    pass


@dataclass
class Template:
    body: dict[str, Any]  # as written (SAM)
    parameters: dict[str, str] = field(default_factory=dict)
    deployed: dict[str, Any] = field(default_factory=dict)  # resources after the SAM transform
    # Logical id -> {"Ref": ..., attribute: ...}, filled in as the sandbox creates each resource.
    physical: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEMPLATE, overrides: dict[str, str] | None = None) -> "Template":
        body = cfn_yaml.load(str(path))
        parameters = {
            name: str(spec["Default"])
            for name, spec in body.get("Parameters", {}).items()
            if "Default" in spec
        }
        parameters.update(overrides or {})
        return cls(body=body, parameters=parameters, deployed=sam_transform(body, parameters))

    # What the template holds ---------------------------------------------------------------------

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """The resources of one type, as written (SAM types), that this stack's conditions create."""
        return self._created(self.body["Resources"], kind)

    def deployed_resources(self, kind: str | None = None) -> dict[str, dict[str, Any]]:
        """The resources (of one type, or all) CloudFormation would create: after the transform, with
        this stack's conditions applied."""
        return self._created(self.deployed, kind)

    def _created(self, resources: dict[str, Any], kind: str | None) -> dict[str, dict[str, Any]]:
        return {
            name: spec
            for name, spec in resources.items()
            if kind in (None, spec["Type"]) and ("Condition" not in spec or self.condition(spec["Condition"]))
        }

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A SAM function's properties with the Globals merged in, by SAM's own Globals merge."""
        spec = self.body["Resources"][logical_id]
        merged: dict[str, Any] = Globals(copy.deepcopy(self.body)).merge(
            spec["Type"], copy.deepcopy(spec["Properties"]), logical_id, spec.get("IgnoreGlobals")
        )
        return merged

    # Physical ids ----------------------------------------------------------------------------------

    def created(self, logical_id: str, ref: str, **attributes: str) -> None:
        """Record what the sandbox made of a resource: its Ref value and the attributes GetAtt reads."""
        self.physical[logical_id] = {IntrinsicResolver.REF: ref, **attributes}

    def ref(self, logical_id: str) -> str:
        return self.physical[logical_id][IntrinsicResolver.REF]

    # Intrinsic functions ---------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """``value`` with its intrinsic functions resolved (SAM CLI's resolver), as CloudFormation would."""
        try:
            return self._resolver().intrinsic_property_resolver(value, ignore_errors=False)
        except (InvalidIntrinsicException, InvalidSymbolException) as exc:
            raise TemplateError(f"the sandbox cannot resolve {json.dumps(value)}: {exc}") from exc

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.body["Conditions"][name]))

    def _resolver(self) -> IntrinsicResolver:
        symbols = _Physical(template=self.body)
        # Set after construction: the base class replaces an empty table by a new one.
        symbols.logical_id_translator = {**PSEUDO_PARAMETERS, **self.parameters, **self.physical}
        tables = {key: self.body.get(key, {}) for key in ("Conditions", "Mappings")}  # Fn::If, Fn::FindInMap
        resolver = IntrinsicResolver(template=tables, symbol_resolver=symbols)
        resolver.set_conditional_function_map(
            {**resolver.default_conditional_key_map(), IntrinsicResolver.FN_IF: self._fn_if(resolver)}
        )
        resolver.set_intrinsic_key_function_map(
            {**resolver.default_intrinsic_function_map(), IntrinsicResolver.FN_SUB: _fn_sub(resolver)}
        )
        return resolver

    def _fn_if(self, resolver: IntrinsicResolver) -> Any:
        """Fn::If resolving only the branch its condition picks, as CloudFormation does (SAM CLI's resolves
        both, and the other may name a resource the condition leaves out, such as the data key)."""

        def fn_if(argument: Any, ignore_errors: bool) -> Any:
            if not (isinstance(argument, list) and len(argument) == 3):
                raise TemplateError(f"Fn::If takes [condition, if true, if false], not {argument!r}")
            condition, when_true, when_false = argument
            chosen = when_true if self.condition(condition) else when_false
            return resolver.intrinsic_property_resolver(chosen, ignore_errors, parent_function="Fn::If")

        return fn_if


def _fn_sub(resolver: IntrinsicResolver) -> Any:
    """Fn::Sub with its variables put in first: SAM CLI's resolver looks a variable's value up again as a
    name (its defaults then hand the name back; the sandbox's strict table refuses it). Refuses the
    ``${!Literal}`` escape, which SAM CLI's resolver leaves as written."""
    default = resolver.handle_fn_sub

    def fn_sub(argument: Any, ignore_errors: bool) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        if not isinstance(text, str) or "${!" in text:
            raise TemplateError(f"the sandbox does not resolve Fn::Sub {text!r}")
        for name, value in resolver.intrinsic_property_resolver(variables, ignore_errors).items():
            text = text.replace("${" + name + "}", str(value))
        return default(text, ignore_errors)

    return fn_sub


class _Physical(IntrinsicsSymbolTable):  # type: ignore[misc]
    """Refs and attributes of what the sandbox created, the parameters and pseudo parameters, nothing
    else: SAM CLI's defaults would invent a name or an ARN for anything missing (and Fn::Sub would keep
    ``$Name.Attribute`` as text)."""

    def resolve_symbols(self, logical_id: str, resource_attribute: str, ignore_errors: bool = False) -> Any:
        found = self.get_translation(logical_id, resource_attribute)
        if found is None:
            raise TemplateError(
                f"{logical_id}.{resource_attribute}: no such parameter, or the sandbox has not created it"
            )
        return found


# The SAM transform -------------------------------------------------------------------------------------


class _NoManagedPolicies:
    """The transform may look up AWS-managed policy names; the template names them by ARN instead."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(body: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The template's resources after the SAM transform (intrinsic functions still unresolved)."""
    return json.loads(_transformed(json.dumps(body), json.dumps(parameters, sort_keys=True)))  # type: ignore[no-any-return]


@cache
def _transformed(body: str, parameters: str) -> str:
    """One transform per template and parameters: every test stack reuses it (it takes a while)."""
    template = json.loads(body)
    for spec in template["Resources"].values():
        for key in PACKAGED_PROPERTIES:
            local = spec.get("Properties", {}).get(key)
            if isinstance(local, str):
                spec["Properties"][key] = f"s3://{PACKAGE_BUCKET}/{local}"
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = REGION  # the transform builds ARNs for the session's region
    try:
        resources = transform(template, json.loads(parameters), _NoManagedPolicies())["Resources"]
    finally:
        if previous is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    return json.dumps(resources)


def packaged_path(location: dict[str, str], bucket_key: str = "S3Bucket", key_key: str = "S3Key") -> Path:
    """The local path a packaged location in the transformed template stands for."""
    if location.get(bucket_key) != PACKAGE_BUCKET:
        raise TemplateError(f"{location} is not a location the sandbox packaged")
    return ROOT / location[key_key]
