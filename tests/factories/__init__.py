"""Plain factory functions for tests, one module per area: keyword overrides, commit, return the object."""
