"""Souverain — on-premise AI assistant for public agents."""
