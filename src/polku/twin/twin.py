"""The local twin: template.yaml provisioned on moto, real handlers in-process.

``Twin`` starts moto 5.2.5 in server mode on 127.0.0.1 (Step Functions
execution on, Lambda code run in-process by :mod:`polku.twin.lambda_runtime`,
waits on Polku's shared clock by :mod:`polku.twin.virtual_time`), then creates
every resource that template.yaml declares — there is no second list — and
publishes every journey of the registry (statemachines/) through
:mod:`polku.journeys.publish`, as ``polku journeys publish`` does on AWS. The
Chalice app is served by :mod:`polku.twin.api_gateway` from the template's
``Api`` events.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import socket
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polku import clock as polku_clock
from polku.twin import (asl_validation, distributed_map, lambda_runtime, patches, sfn_events, sfn_versions, streams,
                        virtual_time)
from polku.twin.schedules import Schedule, scheduled_event
from polku.twin.template import Resolver, Template, TemplateError, parameter_defaults

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
TWIN_ROLE = "polku-twin-execution-role"

# Resource types the twin provisions; anything else in the template is listed in
# ``Twin.skipped`` with the reason, never silently ignored.
NOT_EMULATED = {
    "AWS::Serverless::LayerVersion": "layers are the local package itself",
    "AWS::SNS::TopicPolicy": "resource policies are not enforced by the twin",
    "AWS::SQS::QueuePolicy": "resource policies are not enforced by the twin",
    "AWS::KMS::Key": "the twin's topics are not encrypted (`polku doctor --stack` checks the key policy in AWS)",
    "AWS::KMS::Alias": "the twin's topics are not encrypted",
    "AWS::Logs::LogGroup": "handlers log to the twin's own output; no CloudWatch Logs",
    "AWS::CloudWatch::Alarm": "no CloudWatch metrics in the twin (alarms are checked in AWS by `polku doctor --stack`)",
    "AWS::CloudWatch::Dashboard": "no CloudWatch metrics in the twin",
    "AWS::SNS::Subscription": "subscriptions to e-mail addresses are not delivered by the twin",
    "AWS::WAFv2::WebACL": "no WAF resource: the twin's API Gateway enforces its rate-based rules (twin/waf_rate_rules.py)",
    "AWS::WAFv2::WebACLAssociation": "the twin's API Gateway applies the web ACL's rate rules itself",
    "AWS::IAM::ManagedPolicy": "IAM policies are not enforced by the twin (tests/integration/test_iam_agreement.py checks them)",
}


class PortInUseError(RuntimeError):
    pass


def _check_port_free(host: str, port: int, what: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise PortInUseError(
                f"port {port} on {host} is already in use ({what}); stop the other process "
                f"or choose another port with --{'port' if what == 'HTTP API' else 'aws-port'} N"
            ) from None


def _dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", "Code runs in-process from the repository (polku.twin.lambda_runtime).")
    return buf.getvalue()


@dataclass
class Twin:
    template_path: Path
    aws_port: int = 0
    api_port: int | None = None
    host: str = "127.0.0.1"
    parameters: dict[str, str] = field(default_factory=dict)
    clock: Any = None
    # Calls made inside this process (the handlers, Step Functions tasks, the twin itself) reach
    # moto's backends directly, without HTTP; other processes use the HTTP endpoint. Same backends.
    inprocess: bool = True
    # "sync": moto's own stream delivery (consumers run inside PutItem, one record each).
    # "async": batched, asynchronous delivery with retries and DLQ, as on AWS (twin/streams.py).
    stream_delivery: str = "sync"
    names: dict[str, str] = field(default_factory=dict)  # logical id -> physical id (Ref)
    outputs: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    schedules: list = field(default_factory=list)  # (Schedule, rule ARN, function name)
    # The journeys published at start: the registry.yaml and ASL files in this folder
    # (default: statemachines/ beside the template).
    statemachines: Path | None = None
    published: list = field(default_factory=list)  # polku.journeys.publish.Published per journey

    def __post_init__(self) -> None:
        self.template_path = Path(self.template_path).resolve()
        self.statemachines = Path(self.statemachines or self.template_path.parent / "statemachines")
        self.template = Template.load(self.template_path)
        self.parameters = parameter_defaults(self.template, {"Stage": "local", **self.parameters})
        self._server = None
        self._thread: threading.Thread | None = None
        self.api = None
        self._previous_clock = None
        self._mock = None

    # ------------------------------------------------------------ lifecycle
    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str | None:
        return None if self.api is None else self.api.url

    @property
    def region(self) -> str:
        return REGION

    def start(self) -> "Twin":
        _check_port_free(self.host, self.aws_port, "AWS endpoint")
        if self.api_port is not None:
            _check_port_free(self.host, self.api_port, "HTTP API")
        self._configure_process()
        self._start_moto()
        self.provision()
        if self.api_port is not None:
            from polku.twin.api_gateway import LocalApi

            self.api = LocalApi(self, host=self.host, port=self.api_port)
            self.api.start()
            self.outputs["ApiUrl"] = self.api.url
        return self

    def stop(self) -> None:
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self._mock is not None:
            self._mock.stop(remove_data=False)
            self._mock = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._previous_clock is not None:
            polku_clock.set_clock(self._previous_clock)
            self._previous_clock = None
        streams.clear()
        lambda_runtime.clear()

    def __enter__(self) -> "Twin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _configure_process(self) -> None:
        from moto.core.config import default_user_config

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        # Keep moto's full Lambda backend (its "simple" backend never runs code); our patch of
        # _invoke_lambda runs the real handler in-process, so Docker is never contacted.
        default_user_config["lambda"]["use_docker"] = True
        lambda_runtime.apply()
        virtual_time.apply()
        patches.apply_all()  # speed patches: src/polku/twin/patches (POLKU_TWIN_PATCHES=off: none)
        asl_validation.apply()
        sfn_events.apply()
        sfn_versions.apply()
        distributed_map.apply()  # Distributed Map states and RedriveExecution (campaigns)
        from polku.journeys import registry

        # each function its own cached registry, read again after a second (an unchanged one is not re-parsed)
        registry.set_cache_scope(lambda_runtime.current_function, max_age=1.0)
        streams.apply()
        if self.stream_delivery not in ("sync", "async"):
            raise ValueError(f"stream_delivery: 'sync' or 'async', not {self.stream_delivery!r}")
        streams.configure(self.stream_delivery == "async")
        if self.clock is not None:
            self._previous_clock = polku_clock.set_clock(self.clock)

    def _start_moto(self) -> None:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self.host, self.aws_port, app, threaded=True, request_handler=MotoRequestHandler)
        self.aws_port = self._server.server_address[1]
        # moto's Step Functions calls other services (Lambda, DynamoDB, ...) on MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.aws_port)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._thread = threading.Thread(target=self._server.serve_forever, name="polku-twin-aws", daemon=True)
        self._thread.start()
        # Everything in this process (handlers included) talks to the twin: directly through
        # moto's in-process dispatch, or over HTTP to the server when inprocess is off.
        self.environment.update(
            {
                "AWS_ACCESS_KEY_ID": "twin",
                "AWS_SECRET_ACCESS_KEY": "twin",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
            }
        )
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            os.environ.pop(var, None)
        if self.inprocess:
            from moto import mock_aws

            self._mock = mock_aws()
            self._mock.start(reset=False)
        else:
            self.environment["AWS_ENDPOINT_URL"] = self.endpoint_url
        os.environ.update(self.environment)
        from polku import aws_clients

        aws_clients.reset()  # a client made before (another endpoint, other credentials) is not the twin's

    def run_schedules(self, after, until) -> list[tuple]:
        """Invoke every scheduled function due in (after, until], in time order, once per due time.

        Returns (time, function, error type or None) for each invocation.
        """
        due = sorted(
            (t, fn, arn) for sched, arn, fn in self.schedules for t in sched.due_between(after, until)
        )
        ran = []
        for t, fn, arn in due:
            _, error = lambda_runtime.invoke_async(fn, scheduled_event(arn, t, REGION, ACCOUNT_ID))
            ran.append((t, fn, error))
        return ran

    def client(self, service: str, *, http: bool = False):
        """A boto3 client on the twin (in-process unless ``http`` or the twin runs without it)."""
        import boto3

        shared = self.__dict__.get("_provisioning_clients")  # while provisioning: one per service
        if shared is not None and (service, http) in shared:
            return shared[(service, http)]
        kwargs = {} if (self.inprocess and not http) else {"endpoint_url": self.endpoint_url}
        client = boto3.client(
            service, region_name=REGION, aws_access_key_id="twin", aws_secret_access_key="twin", **kwargs
        )
        if shared is not None:
            shared[(service, http)] = client
        return client

    # ------------------------------------------------------------ provisioning
    def provision(self) -> None:
        """Create every resource of the template. Its own calls share one client per service
        (callers of ``client()`` still get a client of their own)."""
        self._provisioning_clients = {}
        try:
            self._provision()
        finally:
            self._provisioning_clients = None

    def _provision(self) -> None:
        res = self.template.resources
        resolver = Resolver(
            conditions=self.template.conditions,
            parameters={
                **self.parameters,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Region": REGION,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": f"polku-{self.parameters['Stage']}",
                "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/polku-{self.parameters['Stage']}/twin",
                "AWS::NoValue": "",
            }
        )
        self.resolver = resolver
        iam = self.client("iam")
        role_arn = iam.create_role(
            RoleName=TWIN_ROLE,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        self.role_arn = role_arn

        # Resources whose Condition is false do not exist (as in CloudFormation).
        res = {lid: r for lid, r in res.items() if "Condition" not in r or resolver.condition(r["Condition"])}

        # 1. Names and attributes of everything, before anything refers to them.
        for lid, r in res.items():
            self._name_resource(lid, r, resolver)

        # 2. Create resources, dependencies first.
        order = [
            "AWS::DynamoDB::Table",
            "AWS::S3::Bucket",
            "AWS::SQS::Queue",
            "AWS::SNS::Topic",
            "AWS::Events::EventBus",
            "AWS::SecretsManager::Secret",
            "AWS::SES::ConfigurationSet",
            "AWS::SES::ConfigurationSetEventDestination",
            "AWS::SES::EmailIdentity",
            "AWS::Serverless::Function",
            "AWS::IAM::Role",
            "AWS::Serverless::Api",
            "AWS::Serverless::StateMachine",
            "AWS::Events::Rule",
        ]
        handled = set(order)
        for rtype in order:
            for lid, r in res.items():
                if r.get("Type") == rtype:
                    getattr(self, "_create_" + rtype.split("::")[-1].lower())(lid, r, resolver)
        for lid, r in res.items():
            if r["Type"] not in handled:
                self.skipped[lid] = NOT_EMULATED.get(r["Type"], f"{r['Type']} is not emulated by the twin")

        # 3. One process environment for all handlers (the union of their variables).
        self._apply_function_environment()
        for key, out in self.template.outputs.items():
            if "Condition" not in out or resolver.condition(out["Condition"]):
                self.outputs[key] = str(resolver.resolve(out["Value"]))
        self.publish_journeys()

    def publish_journeys(self, folder: Path | None = None, names: list[str] | None = None) -> list:
        """Publish the journeys of ``folder`` (default: the twin's statemachines/) and their registry,
        exactly as ``polku journeys publish`` does; returns what was published."""
        from polku.journeys import publish

        stack = publish.JourneyStack.from_outputs(self.outputs)
        done = publish.publish_all(self.client("stepfunctions"), self.client("s3"),
                                   Path(folder or self.statemachines), stack, names)
        self.published.extend(done)
        return done

    def _name_resource(self, lid: str, r: dict, rv: Resolver) -> None:
        t, p = r["Type"], r.get("Properties", {})
        arn = f"arn:aws:{{svc}}:{REGION}:{ACCOUNT_ID}:{{rest}}"
        resolve_name = lambda key, default: str(rv.resolve(p[key])) if key in p else default  # noqa: E731
        stage = self.parameters["Stage"]
        if t == "AWS::DynamoDB::Table":
            name = resolve_name("TableName", f"polku-{stage}-{lid}")
            rv.refs[lid] = name
            rv.attrs[(lid, "Arn")] = arn.format(svc="dynamodb", rest=f"table/{name}")
            # StreamArn is filled in after the table exists.
        elif t == "AWS::S3::Bucket":
            name = resolve_name("BucketName", f"polku-{stage}-{lid.lower()}")
            rv.refs[lid] = name
            rv.attrs[(lid, "Arn")] = f"arn:aws:s3:::{name}"
        elif t == "AWS::SQS::Queue":
            name = resolve_name("QueueName", f"polku-{stage}-{lid}")
            rv.refs[lid] = f"{self.endpoint_url}/{ACCOUNT_ID}/{name}"
            rv.attrs[(lid, "Arn")] = arn.format(svc="sqs", rest=name)
            rv.attrs[(lid, "QueueName")] = name
            rv.attrs[(lid, "QueueUrl")] = rv.refs[lid]
        elif t == "AWS::SNS::Topic":
            name = resolve_name("TopicName", f"polku-{stage}-{lid}")
            rv.refs[lid] = arn.format(svc="sns", rest=name)
            rv.attrs[(lid, "TopicName")] = name
            rv.attrs[(lid, "TopicArn")] = rv.refs[lid]
        elif t == "AWS::Events::EventBus":
            name = resolve_name("Name", f"polku-{stage}-{lid}")
            rv.refs[lid] = name
            rv.attrs[(lid, "Arn")] = arn.format(svc="events", rest=f"event-bus/{name}")
            rv.attrs[(lid, "Name")] = name
        elif t == "AWS::Events::Rule":
            name = resolve_name("Name", f"polku-{stage}-{lid}")
            rv.refs[lid] = name
            rv.attrs[(lid, "Arn")] = arn.format(svc="events", rest=f"rule/{name}")
        elif t == "AWS::SecretsManager::Secret":
            name = resolve_name("Name", f"polku/{stage}/{lid}")
            rv.refs[lid] = arn.format(svc="secretsmanager", rest=f"secret:{name}")  # fixed up on create
        elif t == "AWS::SES::ConfigurationSet":
            rv.refs[lid] = resolve_name("Name", f"polku-{stage}-{lid}")
        elif t == "AWS::Serverless::Function":
            name = resolve_name("FunctionName", f"polku-{stage}-{lid}")
            rv.refs[lid] = name
            rv.attrs[(lid, "Arn")] = arn.format(svc="lambda", rest=f"function:{name}")
        elif t == "AWS::Serverless::StateMachine":  # stack state machines (the campaigns'); journeys are published
            name = resolve_name("Name", f"polku-{stage}-{lid}")
            rv.refs[lid] = arn.format(svc="states", rest=f"stateMachine:{name}")
            rv.attrs[(lid, "Name")] = name
            rv.attrs[(lid, "Arn")] = rv.refs[lid]
        elif t == "AWS::IAM::Role":
            name = resolve_name("RoleName", f"polku-{stage}-{lid}")
            rv.refs[lid] = name
            rv.attrs[(lid, "Arn")] = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
        elif t == "AWS::Logs::LogGroup":
            name = resolve_name("LogGroupName", f"/polku/{stage}/{lid}")
            rv.refs[lid] = name
            rv.attrs[(lid, "Arn")] = arn.format(svc="logs", rest=f"log-group:{name}:*")
        elif t == "AWS::Serverless::LayerVersion":
            rv.refs[lid] = arn.format(svc="lambda", rest=f"layer:{lid}:1")
        elif t == "AWS::Serverless::Api":
            rv.refs[lid] = "local"
        else:
            rv.refs[lid] = f"{lid}-local"
        if lid in rv.refs:
            self.names[lid] = rv.refs[lid]

    # -- creators (one per resource type) ---------------------------------
    def _create_table(self, lid: str, r: dict, rv: Resolver) -> None:
        p = rv.resolve(r["Properties"])
        ddb = self.client("dynamodb")
        kwargs: dict[str, Any] = {
            "TableName": p["TableName"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "KeySchema": p["KeySchema"],
            "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if p.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        if p.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        desc = ddb.create_table(**kwargs)["TableDescription"]
        if desc.get("LatestStreamArn"):
            rv.attrs[(lid, "StreamArn")] = desc["LatestStreamArn"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=p["TableName"],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )

    def _create_bucket(self, lid: str, r: dict, rv: Resolver) -> None:
        p = rv.resolve(r.get("Properties", {}))
        s3 = self.client("s3")
        s3.create_bucket(Bucket=rv.refs[lid], CreateBucketConfiguration={"LocationConstraint": REGION})
        if p.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=rv.refs[lid], VersioningConfiguration={"Status": "Enabled"})

    def _create_queue(self, lid: str, r: dict, rv: Resolver) -> None:
        p = rv.resolve(r.get("Properties", {}))
        attrs = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in p:
                attrs[key] = str(p[key])
        if "RedrivePolicy" in p:
            attrs["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
        url = self.client("sqs").create_queue(QueueName=rv.attrs[(lid, "QueueName")], Attributes=attrs)["QueueUrl"]
        rv.refs[lid] = rv.attrs[(lid, "QueueUrl")] = self.names[lid] = url

    def _create_topic(self, lid: str, r: dict, rv: Resolver) -> None:
        self.client("sns").create_topic(Name=rv.attrs[(lid, "TopicName")])

    def _create_eventbus(self, lid: str, r: dict, rv: Resolver) -> None:
        self.client("events").create_event_bus(Name=rv.refs[lid])

    def _create_rule(self, lid: str, r: dict, rv: Resolver) -> None:
        p = rv.resolve(r["Properties"])
        events = self.client("events")
        kwargs: dict[str, Any] = {"Name": rv.refs[lid], "State": "ENABLED"}
        if "EventPattern" in p:
            kwargs["EventPattern"] = json.dumps(p["EventPattern"])
        if "ScheduleExpression" in p:
            kwargs["ScheduleExpression"] = p["ScheduleExpression"]
        if "EventBusName" in p:
            kwargs["EventBusName"] = p["EventBusName"]
        events.put_rule(**kwargs)
        targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in p.get("Targets", [])]
        if targets:
            events.put_targets(Rule=rv.refs[lid], EventBusName=p.get("EventBusName", "default"), Targets=targets)

    def _create_secret(self, lid: str, r: dict, rv: Resolver) -> None:
        p = rv.resolve(r["Properties"])
        gen = p.get("GenerateSecretString")
        if gen:
            body = json.loads(gen.get("SecretStringTemplate", "{}"))
            body[gen["GenerateStringKey"]] = secrets.token_urlsafe(gen.get("PasswordLength", 32))[
                : gen.get("PasswordLength", 32)
            ]
            value = json.dumps(body)
        else:
            value = p.get("SecretString", "")
        name = p.get("Name") or f"{lid}-{self.parameters['Stage']}"  # CloudFormation generates one when unnamed
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        rv.refs[lid] = self.names[lid] = arn

    def _create_configurationset(self, lid: str, r: dict, rv: Resolver) -> None:
        ses = self.client("ses")
        ses.create_configuration_set(ConfigurationSet={"Name": rv.refs[lid]})
        ses.verify_domain_identity(Domain=self.parameters.get("SenderDomain", "example.com"))
        ses.verify_email_identity(EmailAddress=self.parameters.get("SenderEmail", "hello@example.com"))

    def _create_configurationseteventdestination(self, lid: str, r: dict, rv: Resolver) -> None:
        p = rv.resolve(r["Properties"])
        dest = p["EventDestination"]
        self.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=p["ConfigurationSetName"],
            EventDestination={
                "Name": dest["Name"],
                "Enabled": dest.get("Enabled", True),
                "MatchingEventTypes": dest["MatchingEventTypes"],
                "SNSDestination": {"TopicARN": dest["SnsDestination"]["TopicARN"]},
            },
        )

    def _create_emailidentity(self, lid: str, r: dict, rv: Resolver) -> None:
        """The sender domain (verified at start with the configuration set) gets Easy DKIM tokens."""
        domain = str(rv.resolve(r["Properties"]["EmailIdentity"]))
        tokens = self.client("ses").verify_domain_dkim(Domain=domain)["DkimTokens"]
        for i, token in enumerate(tokens[:3], start=1):
            rv.attrs[(lid, f"DkimDNSTokenName{i}")] = f"{token}._domainkey.{domain}"
            rv.attrs[(lid, f"DkimDNSTokenValue{i}")] = f"{token}.dkim.amazonses.com"

    def _create_function(self, lid: str, r: dict, rv: Resolver) -> None:
        props = self.template.function_properties(lid)
        name = rv.refs[lid]
        code_dir = (self.template.root / props["CodeUri"]).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"{lid}: CodeUri {props['CodeUri']} is not a folder")
        env = {k: str(v) for k, v in rv.resolve(props["Environment"]["Variables"]).items()}
        dlq = rv.resolve(props.get("DeadLetterQueue") or {})
        lam = self.client("lambda")
        lam.create_function(
            FunctionName=name,
            Runtime=props.get("Runtime", "python3.13"),
            Role=self.role_arn,
            Handler=props["Handler"],
            Code={"ZipFile": _dummy_zip()},
            Timeout=int(props.get("Timeout", 30)),
            MemorySize=int(props.get("MemorySize", 256)),
            Environment={"Variables": env},
        )
        lambda_runtime.register(
            lambda_runtime.FunctionSpec(
                name=name,
                logical_id=lid,
                code_dir=code_dir,
                handler=props["Handler"],
                timeout=int(props.get("Timeout", 30)),
                memory_size=int(props.get("MemorySize", 256)),
                arn=rv.attrs[(lid, "Arn")],
                environment=env,
                dead_letter_arn=str(dlq.get("TargetArn", "")) if dlq.get("Type") == "SQS" else "",
            )
        )
        for ev_name, ev in (props.get("Events") or {}).items():
            self._wire_event(lid, name, ev_name, ev, rv)

    def _wire_event(self, lid: str, fn_name: str, ev_name: str, ev: dict, rv: Resolver) -> None:
        etype, p = ev["Type"], rv.resolve(ev.get("Properties", {}))
        lam = self.client("lambda")
        if etype == "DynamoDB" or etype == "SQS":
            kwargs: dict[str, Any] = {
                "FunctionName": fn_name,
                "EventSourceArn": p["Stream"] if etype == "DynamoDB" else p["Queue"],
                "BatchSize": int(p.get("BatchSize", 10)),
            }
            if etype == "DynamoDB":
                kwargs["StartingPosition"] = p.get("StartingPosition", "TRIM_HORIZON")
            if p.get("FunctionResponseTypes"):
                kwargs["FunctionResponseTypes"] = p["FunctionResponseTypes"]
            lam.create_event_source_mapping(**kwargs)
            if etype == "DynamoDB":
                streams.register(
                    streams.StreamMapping(
                        table=p["Stream"].split(":table/")[1].split("/stream/")[0],
                        function=fn_name,
                        stream_arn=p["Stream"],
                        batch_size=int(p.get("BatchSize", 100)),
                        max_retries=int(p.get("MaximumRetryAttempts", -1)),
                        bisect=bool(p.get("BisectBatchOnFunctionError", False)),
                        report_item_failures="ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or []),
                        on_failure=((p.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
                    )
                )
        elif etype == "SNS":
            self.client("sns").subscribe(TopicArn=p["Topic"], Protocol="lambda", Endpoint=rv.attrs[(lid, "Arn")])
        elif etype in ("Schedule", "ScheduleV2"):
            rule = f"{fn_name}-{ev_name}"[:64]
            expression = p["Schedule"] if etype == "Schedule" else p["ScheduleExpression"]
            events = self.client("events")
            rule_arn = events.put_rule(Name=rule, ScheduleExpression=expression)["RuleArn"]
            events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": rv.attrs[(lid, "Arn")]}])
            self.schedules.append((Schedule(expression), rule_arn, fn_name))
        elif etype == "Api":
            pass  # served by polku.twin.api_gateway from Template.api_routes()
        else:
            self.skipped[f"{lid}.{ev_name}"] = f"event type {etype} is not emulated"

    def _create_api(self, lid: str, r: dict, rv: Resolver) -> None:
        pass  # the local API gateway is started in start() when an API port is asked for

    def _create_statemachine(self, lid: str, r: dict, rv: Resolver) -> None:
        p = r["Properties"]
        definition = self.state_machine_definition(lid, rv)
        self.client("stepfunctions").create_state_machine(
            name=rv.attrs[(lid, "Name")],
            definition=definition,
            roleArn=self.role_arn,
            type=p.get("Type", "STANDARD"),
        )

    def state_machine_definition(self, lid: str, rv: Resolver | None = None) -> str:
        """The ASL of a state machine with DefinitionSubstitutions applied (as SAM does)."""
        rv = rv or self.resolver
        p = self.template.resources[lid]["Properties"]
        text = (self.template.root / p["DefinitionUri"]).read_text(encoding="utf-8")
        subs = rv.resolve(p.get("DefinitionSubstitutions", {}))
        for key, value in subs.items():
            text = text.replace("${" + key + "}", str(value))
        return text

    def _create_role(self, lid: str, r: dict, rv: Resolver) -> None:
        """The role exists (journeys are published with it); its policies are checked, not enforced."""
        p = rv.resolve(r["Properties"])
        self.client("iam").create_role(RoleName=rv.refs[lid],
                                       AssumeRolePolicyDocument=json.dumps(p.get("AssumeRolePolicyDocument", {})))

    def _apply_function_environment(self) -> None:
        merged: dict[str, str] = {}
        owners: dict[str, str] = {}
        for spec in lambda_runtime.registered().values():
            for key, value in spec.environment.items():
                if key in merged and merged[key] != value:
                    raise TemplateError(
                        f"Environment variable {key} differs between {owners[key]} and {spec.logical_id}; "
                        "the twin runs all handlers in one process, so give it one value or another name"
                    )
                merged[key] = value
                owners[key] = spec.logical_id
        self.environment.update(merged)
        os.environ.update(merged)
        # Settings are read once per process (like a warm container); the twin has just set them.
        from polku.data.base import bind_models
        from polku.settings import get_settings

        get_settings.cache_clear()
        bind_models(get_settings())

    # ------------------------------------------------------------ description
    def describe(self) -> dict:
        """What a client needs to find the twin's resources (served at /_polku/twin)."""
        return {
            "aws_endpoint": self.endpoint_url,
            "api_url": self.api_url,
            "region": REGION,
            "account_id": ACCOUNT_ID,
            "stage": self.parameters["Stage"],
            "outputs": dict(self.outputs),
            "resources": dict(self.names),
            "skipped": dict(self.skipped),
            "clock": {"virtual": bool(getattr(polku_clock.get_clock(), "virtual", False)), "now": polku_clock.now_iso()},
        }
