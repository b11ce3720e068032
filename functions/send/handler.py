"""Lambda entry point for rendering and delivery: built in issue #4 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("rendering and delivery is built in issue #4")
