"""Lambda entry point for task-token waits for events: built in issue #6 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("task-token waits for events is built in issue #6")
