"""The suppression list's key: a salted hash of the address, never the address (pure parts)."""

import pytest

from polku.messaging import suppression_list as sl

SALT = b"0123456789abcdef0123"


def test_the_stored_key_is_a_salted_hash_of_the_normalised_address():
    key = sl.hashed(sl.address_key("email", " Ann@Example.com "), SALT)
    assert key == sl.hashed("email:ann@example.com", SALT)
    assert key.startswith(sl.HASH_PREFIX) and len(key) == len(sl.HASH_PREFIX) + 64
    assert "ann" not in key and "example" not in key
    assert key != sl.hashed("email:ann@example.com", SALT + b"x")  # without the salt nobody can test an address
    assert key != sl.hashed("sms:ann@example.com", SALT)


@pytest.mark.parametrize("secret, reason", [
    ("not json", "must be JSON"),
    ('{"active": "k1"}', "'salt' must be a string"),
    ('{"salt": "short"}', "at least 16 characters"),
])
def test_a_bad_salt_secret_is_refused_naming_the_setting(secret, reason):
    with pytest.raises(sl.SaltError, match="SUPPRESSION_SALT_SECRET_ARN") as err:
        sl._parse_salt(secret)
    assert reason in str(err.value)


def test_no_salt_secret_is_refused_naming_the_setting():
    with pytest.raises(sl.SaltError, match="SUPPRESSION_SALT_SECRET_ARN is not set"):
        sl.load_salt("", lambda service: None)
