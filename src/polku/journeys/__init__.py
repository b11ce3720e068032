"""Journeys: registry, step logic, lint, graph and simulation."""
