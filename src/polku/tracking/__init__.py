"""Tracking: event schema, validation, identity and the profile (segment of one)."""
