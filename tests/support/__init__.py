"""Helpers the tests run against: a local timestamping authority, signing keys (no factories, no fixtures)."""
