"""The journey service."""
