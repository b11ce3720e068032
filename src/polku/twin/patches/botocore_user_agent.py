"""User-Agent strings built once: botocore rebuilds the User-Agent header twice per request.

Target: botocore.useragent.UserAgentString.to_string/set_client_features/with_client_config (botocore, the version pinned in polku.twin.patches.PINNED).
Measured gain: +6 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: tests/unit/test_twin_speedups.py::test_user_agent_is_the_one_botocore_builds.
"""

from __future__ import annotations

# ------------------------------------------------------------- botocore User-Agent
# botocore rebuilds the User-Agent header (platform, versions, config, feature ids, each part
# sanitised character by character) twice per request, about 6 % of a simulation. The string
# depends on the UserAgentString object and the request's feature ids only; it is built once
# per object and set of features (set_client_features forgets them; a copy for another
# client config starts without them).
def apply() -> None:
    from botocore import useragent

    original_to_string = useragent.UserAgentString.to_string
    original_set_features = useragent.UserAgentString.set_client_features

    def to_string(self):
        ctx = useragent.get_context()
        key = (frozenset(ctx.features) if ctx is not None else frozenset(),
               frozenset(self._client_features or ()))
        cache = self.__dict__.get("_polku_ua")
        if cache is None:
            cache = self.__dict__["_polku_ua"] = {}
        value = cache.get(key)
        if value is None:
            value = cache[key] = original_to_string(self)
        return value

    def set_client_features(self, features):
        self.__dict__.pop("_polku_ua", None)
        return original_set_features(self, features)

    original_with_config = useragent.UserAgentString.with_client_config

    def with_client_config(self, client_config):
        copied = original_with_config(self, client_config)
        copied.__dict__.pop("_polku_ua", None)  # another config: another string
        return copied

    useragent.UserAgentString.to_string = to_string
    useragent.UserAgentString.set_client_features = set_client_features
    useragent.UserAgentString.with_client_config = with_client_config
