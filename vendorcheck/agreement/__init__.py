"""The DPA document engine (pure): assembly from answers and clause templates, checks, diffs."""
