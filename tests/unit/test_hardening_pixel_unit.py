"""Issue #20 point 4 without the twin: the Chalice app itself answers the pixel for any Accept
(as API Gateway with BinaryMediaTypes */* will pass it on), and template.yaml declares */*."""

import importlib.util
from pathlib import Path

import pytest
import yaml
from chalice.test import Client

from polku.messaging.link_actions import PIXEL_GIF
from polku.messaging.links import KeyRing, LinkSigner

REPO = Path(__file__).resolve().parents[2]


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_the_api_treats_every_media_type_as_binary():
    doc = yaml.load((REPO / "template.yaml").read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    apis = [r for r in doc["Resources"].values() if r.get("Type") == "AWS::Serverless::Api"]
    assert apis and all(a["Properties"]["BinaryMediaTypes"] == ["*~1*"] for a in apis)


@pytest.fixture(scope="module")
def client():
    spec = importlib.util.spec_from_file_location("polku_track_app_pixel_unit", REPO / "functions/track/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    signer = LinkSigner(KeyRing.from_secret({"active": "k1", "k1": "unit-test-key-0123456789"}), "https://t.example")
    module._signer = lambda: signer  # the secret lives in Secrets Manager; this test needs no AWS
    with Client(module.app) as c:
        yield c


@pytest.mark.parametrize("accept", [None, "image/*", "*/*", "image/webp,image/*;q=0.8", "text/html"])
def test_the_app_answers_the_gif_for_any_accept(client, accept):
    headers = {} if accept is None else {"Accept": accept}
    r = client.http.get("/v1/o/not-a-valid-token", headers=headers)  # a bad token: the same GIF, nothing recorded
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/gif"
    assert r.body == PIXEL_GIF
