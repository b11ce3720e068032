"""Shared PynamoDB base: table names come from settings, never from literals."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

from polku.settings import Settings, get_settings

# Every model registers here so that tests and the twin can (re)bind them.
MODELS: list[type["PolkuModel"]] = []
# The current binding (settings, host): models defined later are bound the same way.
_binding: dict = {"settings": None, "host": None}


class PolkuModel(Model):
    """Base for Polku's models. Subclasses set ``settings_field`` to the settings
    attribute holding their table name (e.g. ``"events_table"``)."""

    settings_field: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.settings_field:
            settings = _binding["settings"] or get_settings()
            cls.Meta.table_name = getattr(settings, cls.settings_field)
            cls.Meta.host = _binding["host"]
            MODELS.append(cls)


def bind_models(settings: Settings | None = None, host: str | None = None) -> None:
    """Point every model at the tables named in ``settings`` (and an endpoint, for tests)."""
    settings = settings or get_settings()
    _binding.update(settings=settings, host=host)
    for model in MODELS:
        model.Meta.table_name = getattr(settings, model.settings_field)
        model.Meta.host = host
        model._connection = None


CONDITION_FAILED = "ConditionalCheckFailedException"


def _unless_condition_failed(write, error: type[Exception]) -> bool:
    """Run one conditional ``write``: True when done, False when its condition failed (``error``
    with ConditionalCheckFailedException); any other error is raised."""
    try:
        write()
        return True
    except error as exc:
        if exc.cause_response_code == CONDITION_FAILED:
            return False
        raise


def put_once(item: Model, condition) -> bool:
    """Write ``item`` only if ``condition`` holds, e.g. ``Model.key.does_not_exist()``: the condition is
    part of the write, so of two concurrent writers one wins. True when written, False when the
    condition failed; any other error is raised."""
    return _unless_condition_failed(lambda: item.save(condition=condition), PutError)


def update_if(item: Model, actions: list, condition) -> bool:
    """Apply ``actions`` to ``item`` only if ``condition`` holds. True when applied, False when the
    condition failed; any other error is raised."""
    return _unless_condition_failed(lambda: item.update(actions=actions, condition=condition), UpdateError)


def delete_if(item: Model, condition) -> bool:
    """Delete ``item`` only if ``condition`` holds. True when deleted, False when the condition
    failed; any other error is raised."""
    return _unless_condition_failed(lambda: item.delete(condition=condition), DeleteError)


def get_or_none(model: type[Model], hash_key, range_key=None, *, consistent_read: bool = True, **options):
    """One item by its key (read consistently unless told otherwise), or None."""
    try:
        return model.get(hash_key, range_key, consistent_read=consistent_read, **options)
    except model.DoesNotExist:
        return None


def delete_all(model: type[Model], found) -> int:
    """Delete the items ``found`` (of ``model``) in batches of 25; how many."""
    found = list(found)
    if found:
        with model.batch_write() as batch:
            for item in found:
                batch.delete(item)
    return len(found)
