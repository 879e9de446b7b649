"""The web chat: conversations and their projects, the replies generated in them (grounded on collections when
asked), the prompt library, and the document tasks (synthesis, translation, rewriting of one file).
"""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = ["comparisons", "conversations", "projects", "prompts", "sharing"]
