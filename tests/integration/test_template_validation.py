"""The SAM template translates, passes cfn-lint (translated) and `sam validate --lint`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAM = REPO / ".venv-sam" / "bin" / "sam"


class _ManagedPolicies:
    """Offline stand-in for IAM ListPolicies: the names SAM needs mapped to their ARNs."""

    def load(self):
        names = ["AWSXrayWriteOnlyAccess", "AWSLambdaBasicExecutionRole", "AWSLambdaDynamoDBExecutionRole",
                 "AWSLambdaSQSQueueExecutionRole", "AWSXRayDaemonWriteAccess"]
        return {n: f"arn:aws:iam::aws:policy/{'service-role/' if 'Execution' in n else ''}{n}" for n in names}


def translate(template) -> dict:
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    doc = json.loads(json.dumps(template.doc))
    # What `sam package` does: code to S3 URIs; definitions inlined so cfn-lint sees the ASL.
    for lid, res in doc["Resources"].items():
        props = res.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://polku-artifacts/{lid}.zip"
        if isinstance(props.get("DefinitionUri"), str):
            props["Definition"] = json.loads((template.root / props.pop("DefinitionUri")).read_text())
    import boto3

    translator = Translator(
        managed_policy_map=_ManagedPolicies().load(),
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name="eu-west-1"),
    )
    return translator.translate(sam_template=doc, parameter_values={"AWS::Region": "eu-west-1"})


def test_template_translates_with_every_state_machine_and_function(template):
    out = translate(template)
    types = [r["Type"] for r in out["Resources"].values()]
    # journeys are published into the stack's role (polku journeys publish), not declared in it
    assert types.count("AWS::StepFunctions::StateMachine") == len(template.of_type("AWS::Serverless::StateMachine"))
    assert out["Resources"]["JourneyExecutionRole"]["Type"] == "AWS::IAM::Role"
    assert types.count("AWS::Lambda::Function") == len(template.of_type("AWS::Serverless::Function"))
    # The REST API's OpenAPI body has exactly the template's routes; IAM routes need SigV4.
    body = out["Resources"]["PolkuApi"]["Properties"]["Body"]
    ops = {(path, m.upper()): op for path, item in body["paths"].items() for m, op in item.items()}
    declared = {(r.path, r.method): r for r in template.api_routes()}
    assert set(ops) == set(declared)
    for key, route in declared.items():
        secured = any("AWS_IAM" in sec for sec in ops[key].get("security", []))
        assert secured == (route.authorizer == "AWS_IAM"), key


def test_translated_template_passes_cfn_lint(template, tmp_path):
    out = translate(template)
    path = tmp_path / "translated.json"
    path.write_text(json.dumps(out))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), "--regions", "eu-west-1", "--", str(path)], capture_output=True, text=True)
    # Exit code bit 2 = errors, 4 = warnings, 8 = informational. Errors fail the build.
    assert result.returncode & 2 == 0, result.stdout + result.stderr


def test_sam_validate_lint():
    if not SAM.exists():
        pytest.fail("SAM CLI missing: `make setup` installs it into .venv-sam")
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--template-file", str(REPO / "template.yaml"), "--region", "eu-west-1"],
        capture_output=True, text=True, cwd=REPO, env={"PATH": "/usr/bin:/bin", "HOME": str(REPO / ".venv-sam"),
                                                       "SAM_CLI_TELEMETRY": "0"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
