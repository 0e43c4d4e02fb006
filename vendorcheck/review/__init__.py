"""Buyer review of assessments: dashboard, sending, review, decision, re-assessment."""
