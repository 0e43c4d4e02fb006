"""Publishable DPA: clause templates, assembly, checks, diff and the public pages (issue 8)."""
