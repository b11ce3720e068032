"""Read template.yaml (SAM) and resolve CloudFormation intrinsics.

template.yaml is the single source of truth: the local twin provisions from it
and the tests check code against it through this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "If": "Fn::If",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
    "ImportValue": "Fn::ImportValue",
    "GetAZs": "Fn::GetAZs",
    "Cidr": "Fn::Cidr",
}


class TemplateError(ValueError):
    """template.yaml cannot be read or does not hold together."""


class _Loader(yaml.SafeLoader):
    pass


def _make_constructor(fn_name: str) -> Callable:
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if fn_name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {fn_name: value}

    return construct


for _tag, _fn in _SHORT_TAGS.items():
    _Loader.add_constructor(f"!{_tag}", _make_constructor(_fn))


def load_yaml(path: Path | str) -> dict:
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except FileNotFoundError as exc:
        raise TemplateError(f"{path}: no such file") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise TemplateError(f"{path}: not valid YAML{where}: {problem}") from exc
    if not isinstance(doc, dict) or "Resources" not in doc:
        raise TemplateError(f"{path}: not a CloudFormation/SAM template (no Resources section)")
    return doc


@dataclass
class Template:
    path: Path
    doc: dict

    @classmethod
    def load(cls, path: Path | str) -> "Template":
        path = Path(path).resolve()
        return cls(path=path, doc=load_yaml(path))

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict]:
        return self.doc.get("Resources", {})

    @property
    def parameters(self) -> dict[str, dict]:
        return self.doc.get("Parameters", {})

    @property
    def outputs(self) -> dict[str, dict]:
        return self.doc.get("Outputs", {})

    @property
    def conditions(self) -> dict[str, Any]:
        return self.doc.get("Conditions", {})

    def of_type(self, rtype: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == rtype}

    def function_globals(self) -> dict:
        return self.doc.get("Globals", {}).get("Function", {})

    def function_properties(self, logical_id: str) -> dict:
        """A function's properties with Globals merged in (SAM's rules, simplified)."""
        props = dict(self.resources[logical_id].get("Properties", {}))
        glob = self.function_globals()
        merged: dict = {}
        for key, value in glob.items():
            if key == "Environment":
                continue
            merged[key] = value
        for key, value in props.items():
            if key == "Layers" and "Layers" in glob:
                # SAM appends function layers to the global ones (duplicates allowed, dropped here).
                layers = list(glob["Layers"])
                for layer in value:
                    if layer not in layers:
                        layers.append(layer)
                merged[key] = layers
            elif key != "Environment":
                merged[key] = value
        env = dict(glob.get("Environment", {}).get("Variables", {}))
        env.update(props.get("Environment", {}).get("Variables", {}))
        merged["Environment"] = {"Variables": env}
        return merged

    def api_routes(self) -> list["ApiRoute"]:
        routes = []
        for fid, res in self.of_type("AWS::Serverless::Function").items():
            for ev_name, ev in res.get("Properties", {}).get("Events", {}).items():
                if ev.get("Type") != "Api":
                    continue
                p = ev.get("Properties", {})
                auth = (p.get("Auth") or {}).get("Authorizer", "NONE")
                routes.append(
                    ApiRoute(
                        function=fid,
                        event=ev_name,
                        path=p["Path"],
                        method=p["Method"].upper(),
                        authorizer=auth,
                    )
                )
        return routes


@dataclass(frozen=True)
class ApiRoute:
    function: str
    event: str
    path: str
    method: str
    authorizer: str = "NONE"

    @property
    def pattern(self) -> re.Pattern:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")

    def match(self, path: str) -> dict | None:
        m = self.pattern.match(path)
        return None if m is None else m.groupdict()


@dataclass
class Resolver:
    """Resolves intrinsics against known physical ids and attributes."""

    parameters: dict[str, str]
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)  # the template's Conditions section

    def condition(self, name: str) -> bool:
        """The value of a named condition (Fn::Equals/Not/And/Or/Condition over parameters)."""
        if name not in self.conditions:
            raise TemplateError(f"Condition {name}: not in the template's Conditions")
        return self._truth(self.conditions[name])

    def _truth(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (str(self.resolve(v)) for v in arg)
                return left == right
            if key == "Fn::Not":
                return not self._truth(arg[0])
            if key == "Fn::And":
                return all(self._truth(v) for v in arg)
            if key == "Fn::Or":
                return any(self._truth(v) for v in arg)
        raise TemplateError(f"cannot evaluate condition {value!r}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._getatt(logical, attr)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(self.resolve(i)) for i in self.resolve(items))
            if key == "Fn::Select":
                idx, items = arg
                return self.resolve(items)[int(self.resolve(idx))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.condition(name) else when_false)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"!Ref {name}: no such parameter or resource in the twin")

    def _getatt(self, logical: str, attr: str) -> str:
        try:
            return self.attrs[(logical, attr)]
        except KeyError:
            raise TemplateError(f"!GetAtt {logical}.{attr}: not known to the twin") from None

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, local = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, local = arg, {}

        def repl(m: re.Match) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name:
                logical, attr = name.split(".", 1)
                return str(self._getatt(logical, attr))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", repl, text)


def rule_failures(template: Template, parameters: dict[str, str]) -> list[str]:
    """What CloudFormation's ``Rules`` would refuse for these parameter values (each failed
    assertion's AssertDescription; empty: the change set would be created). Parameters not given
    take their defaults, as on AWS."""
    values = parameter_defaults(template, parameters)

    def ev(v: Any) -> Any:
        if isinstance(v, list):
            return [ev(i) for i in v]
        if not isinstance(v, dict):
            return v
        (key, arg), = v.items()
        if key == "Ref":
            return values[arg]
        if key == "Fn::Equals":
            return str(ev(arg[0])) == str(ev(arg[1]))
        if key == "Fn::Not":
            return not ev(arg[0])
        if key == "Fn::And":
            return all(ev(i) for i in arg)
        if key == "Fn::Or":
            return any(ev(i) for i in arg)
        if key == "Fn::Contains":
            return str(ev(arg[1])) in [str(i) for i in ev(arg[0])]
        if key == "Fn::EachMemberIn":
            return all(str(i) in [str(j) for j in ev(arg[1])] for i in ev(arg[0]))
        raise TemplateError(f"Rules: cannot evaluate {key}")

    failures = []
    for name, rule in template.doc.get("Rules", {}).items():
        if "RuleCondition" in rule and not ev(rule["RuleCondition"]):
            continue
        for assertion in rule.get("Assertions", []):
            if not ev(assertion["Assert"]):
                failures.append(assertion.get("AssertDescription", f"rule {name} refused the parameters"))
    return failures


def parameter_defaults(template: Template, overrides: dict[str, str] | None = None) -> dict[str, str]:
    values = {k: str(v.get("Default", "")) for k, v in template.parameters.items()}
    values.update(overrides or {})
    return values
