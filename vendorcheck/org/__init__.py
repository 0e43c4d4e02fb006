"""Organisation administration: members, roles, invitations of colleagues, audit log, outbox."""
