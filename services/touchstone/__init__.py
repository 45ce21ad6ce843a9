"""Touchstone: score every touchpoint as a moment of truth, value and recover every customer."""
