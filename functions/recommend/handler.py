"""Lambda entry point for recommendations: built in issue #5 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("recommendations is built in issue #5")
