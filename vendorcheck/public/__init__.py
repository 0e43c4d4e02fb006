"""Public pages: start page and read-only questionnaire previews."""
