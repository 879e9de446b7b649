"""Speech transcription and minutes library (no web imports)."""
