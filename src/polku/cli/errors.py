"""User-facing CLI errors."""


class CliError(Exception):
    """Printed as one line (``polku: ...``); exit status 2 unless given."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status
