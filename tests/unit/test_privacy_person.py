"""Which items are about the person an erase is for, and which only mention them (pure)."""

from polku.tracking.privacy import ERASED, Person

ann = Person(frozenset({"c-1", "a-9", "anon:a-9"}), frozenset({"Ann@Example.com", "+358401234567"}))


def test_an_item_is_theirs_when_a_top_level_value_is_their_id_or_contact_alone_or_after_a_key_prefix():
    assert ann.owns({"customer_id": "c-1", "sk": "run#welcome"})
    assert ann.owns({"pk": "enr#x", "sk": "cust#c-1"})
    assert ann.owns({"subject": "a#a-9"}) and ann.owns({"customer_id": "anon:a-9"})
    assert ann.owns({"address": "email:ann@example.com"})  # e-mail in any case
    assert ann.owns({"address": "sms:+358401234567"})


def test_another_customer_whose_id_only_resembles_theirs_is_not_theirs():
    assert not ann.owns({"customer_id": "c-10"})
    assert not ann.owns({"customer_id": "C-1"})  # customer ids are case-sensitive
    assert not ann.owns({"subject": "c#c-1x", "properties": {"customer_id": "c-1"}})  # only top-level values count


def test_mentions_and_scrub_find_whole_words_only():
    audit = {"customers_sample": ["c-2", "c-1", "c-10"], "overrides": '{"intro": "Hi ANN@example.com, c-1!"}'}
    assert ann.mentions(audit)
    assert ann.scrub(audit) == {"customers_sample": ["c-2", ERASED, "c-10"],
                                "overrides": '{"intro": "Hi ' + ERASED + ', ' + ERASED + '!"}'}
    assert not ann.mentions({"customers_sample": ["c-10", "xc-1", "c-1.5"], "note": "+3584012345678"})


def test_the_suppression_keys_of_their_contacts():
    assert ann.address_keys == ["email:ann@example.com", "sms:+358401234567"]
