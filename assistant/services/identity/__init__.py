"""Identity and access: local and OIDC sign-in, sessions and API keys, accounts, separation of duties and the
periodic access review.
"""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = ["api_keys", "separation"]
