"""The advice engine: what to do about an incident (engine) and how it is told (render)."""
