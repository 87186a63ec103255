"""Foundation used by every layer: errors, calendar months, strict validated sections, safe YAML."""
