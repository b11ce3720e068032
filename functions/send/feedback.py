"""Lambda entry point for SES feedback: built in issue #4 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("SES feedback is built in issue #4")
