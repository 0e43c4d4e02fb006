"""Services: one transaction each, take the acting user as `by=`, raise domain exceptions."""
