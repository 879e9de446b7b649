"""HTTP layer: thin routers over ``assistant.services``."""
