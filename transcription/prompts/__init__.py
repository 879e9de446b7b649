"""Versioned prompt templates for the minutes (string.Template syntax: $name)."""
