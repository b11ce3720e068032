"""tracker.js ships in the package, is small, and is served with cache headers."""

import gzip

from polku.tracking import http_api


def test_tracker_is_at_most_3_kb_gzipped():
    data, _ = http_api.tracker_script()
    size = len(gzip.compress(data, 9))
    assert size <= 3 * 1024, f"polku.js is {size} bytes gzipped"


def test_served_with_cache_headers_and_etag():
    answer = http_api.get_tracker({})
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/javascript")
    assert "max-age=" in answer.headers["Cache-Control"]
    again = http_api.get_tracker({"If-None-Match": answer.headers["ETag"]})
    assert again.status == 304 and again.body == ""
