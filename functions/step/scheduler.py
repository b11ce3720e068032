"""Lambda entry point for scheduled journey entry: built in issue #6 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("scheduled journey entry is built in issue #6")
