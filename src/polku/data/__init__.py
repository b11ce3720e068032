"""Adapters for Polku's DynamoDB tables (PynamoDB models, one module per table).

Keys and indexes must agree with template.yaml; tests/unit/test_template_agreement.py checks.
"""
