"""Touchstone: score every customer touchpoint as a moment of truth, value every customer, recover every lost moment."""
