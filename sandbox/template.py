"""template.yaml as the sandbox reads it: parameters, conditions and the intrinsic functions it uses.

The sandbox builds what would be deployed from this, so an environment variable, a substitution or a
resource added to the template reaches the local stack without a second list to keep in step. An
intrinsic function this resolver does not know fails loudly rather than being guessed.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
STACK_NAME = "contact-jobs-sandbox"


class TemplateError(Exception):
    pass


@dataclass
class Template:
    body: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    # Logical id -> (Ref value, attributes), filled in as the sandbox creates each resource.
    physical: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = TEMPLATE, overrides: dict[str, str] | None = None) -> "Template":
        body = cfn_yaml.load(str(path))
        parameters = {
            name: str(spec["Default"])
            for name, spec in body.get("Parameters", {}).items()
            if "Default" in spec
        }
        parameters.update(overrides or {})
        return cls(body=body, parameters=parameters)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """The resources of one type that this stack's conditions create."""
        return {
            name: spec
            for name, spec in self.body["Resources"].items()
            if spec["Type"] == kind and ("Condition" not in spec or self.condition(spec["Condition"]))
        }

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with Globals merged in (environment variables merged by name)."""
        defaults = dict(self.body.get("Globals", {}).get("Function", {}))
        own = dict(self.body["Resources"][logical_id]["Properties"])
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **own.get("Environment", {}).get("Variables", {}),
        }
        merged = {**defaults, **own}
        merged["Environment"] = {"Variables": variables}
        return merged

    # Intrinsic functions -------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref" or name.startswith("Fn::") or name == "Condition":
                return self._intrinsic(name, argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _intrinsic(self, name: str, argument: Any) -> Any:
        match name:
            case "Ref":
                return self._ref(argument)
            case "Fn::GetAtt":
                logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._attribute(logical, attribute)
            case "Fn::Sub":
                return self._sub(argument)
            case "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            case "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            case "Fn::FindInMap":
                mapping, top, second = (str(self.resolve(part)) for part in argument)
                return self.body["Mappings"][mapping][top][second]
            case "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            case "Fn::Not":
                (inner,) = argument
                return not self.resolve(inner)
            case "Fn::Equals":
                left, right = self.resolve(argument)
                return str(left) == str(right)
            case "Condition":
                return self.condition(argument)
        raise TemplateError(f"the sandbox does not resolve {name} (argument {argument!r})")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.body["Conditions"][name]))

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name][0]
        raise TemplateError(f"Ref {name}: no such parameter, or the resource is not created yet")

    def _attribute(self, logical: str, attribute: str) -> str:
        if logical not in self.physical or attribute not in self.physical[logical][1]:
            raise TemplateError(f"GetAtt {logical}.{attribute} is not known to the sandbox")
        return self.physical[logical][1][attribute]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: str(self.resolve(item)) for key, item in variables.items()}
        out, rest = [], text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in values:
                out.append(values[name])
            elif "." in name:
                out.append(self._attribute(*name.split(".", 1)))
            else:
                out.append(self._ref(name))
        out.append(rest)
        return "".join(out)
