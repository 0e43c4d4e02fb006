"""Buyer pages: vendor records, their contacts and invitations."""
