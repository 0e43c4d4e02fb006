"""Accounts: login, sign-up, password reset, profile, accepting invitations."""
