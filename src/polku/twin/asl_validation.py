"""Each state-machine definition text is validated by moto's ANTLR parser once per process (result unchanged).

moto's Step Functions parses a definition with its ANTLR grammar when a state machine is created
or updated, only to see whether it raises, and throws the result away. The twin creates all nine
of template.yaml's state machines at every start (about 0.3 s of parsing each on this VM; most of
a simulation worker's start-up). Whether a text parses is a function of the text (the same moto,
the same grammar), so a text that parsed once is not parsed again; a text that failed is parsed
again every time and fails the same way. A simulation's worker processes are given the texts the
parent already validated (``known()`` / ``learn()``), so their twins start without parsing them.
"""

from __future__ import annotations

import threading

_applied = False
_lock = threading.Lock()
_valid: set[str] = set()


def known() -> frozenset[str]:
    with _lock:
        return frozenset(_valid)


def learn(texts) -> None:
    """Texts that moto's parser accepted in another process running the same code."""
    with _lock:
        _valid.update(t for t in texts if isinstance(t, str))


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend._validate_definition

    def _validate_definition(definition: str):
        if isinstance(definition, str):
            with _lock:
                if definition in _valid:
                    return None
        result = original(definition=definition)
        if isinstance(definition, str):
            with _lock:
                _valid.add(definition)
        return result

    _validate_definition.__wrapped__ = original
    StepFunctionsParserBackend._validate_definition = staticmethod(_validate_definition)
