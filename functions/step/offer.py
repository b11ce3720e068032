"""Lambda entry point for offer grant/revoke via EventBridge: built in issue #6 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("offer grant/revoke via EventBridge is built in issue #6")
