"""The Chalice app's routes are exactly the template's Api events (SAM deploys those)."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_chalice_routes_equal_template_api_events(template):
    spec = importlib.util.spec_from_file_location("polku_track_app_routes", REPO / "functions/track/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    chalice_routes = {(path, m) for path, entry in module.app.routes.items() for m in entry}
    template_routes = {(r.path, r.method) for r in template.api_routes() if r.function == "TrackApiFunction"}
    assert chalice_routes == template_routes
