"""The default locale: every message template has it (``templates/messages/<name>/en.j2``), other
locales fall back to it, and a journey variant's plain-text subject line is written in it."""

DEFAULT_LOCALE = "en"
