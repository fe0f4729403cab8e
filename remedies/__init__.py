"""remedies package."""
