"""Lambda entry point for starting journeys from the events stream: built in issue #6 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("starting journeys from the events stream is built in issue #6")
