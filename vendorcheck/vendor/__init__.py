"""Vendor blueprint: answering assessments."""
