"""Lambda entry point for recommender training: built in issue #5 (not yet implemented)."""


def lambda_handler(event, context):
    raise NotImplementedError("recommender training is built in issue #5")
