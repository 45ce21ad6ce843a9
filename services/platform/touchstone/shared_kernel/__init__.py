"""The shared kernel: the domain every service reads the same way (business calendars, journey
maps, what a lost moment broke)."""
