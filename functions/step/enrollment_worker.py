"""Lambda entry point for enrolment chunks: built in issue #7 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("enrolment chunks is built in issue #7")
