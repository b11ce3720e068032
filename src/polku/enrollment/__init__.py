"""Distributed marketing: authenticated enrolment of customers into journeys by
marketing, sales, service and partners, within the blocks marketing made editable.

Pure domain modules (no boto3): ``errors``, ``roles``, ``request``, ``chunks``,
``deterministic_ids``, ``journey_policies``. Adapters: ``store`` (EnrollmentsTable),
``journey_starter`` (Step Functions), ``chunk_queue`` (SQS). Use cases: ``service``.
Client side: ``signed_client`` (SigV4 for execute-api), used by ``polku enroll``.
"""
