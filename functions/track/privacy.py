"""Lambda entry point for export and erase of one customer's data: built in issue #3 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("export and erase of one customer's data is built in issue #3")
