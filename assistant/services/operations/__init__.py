"""Operations: submitting and reading background jobs, and readiness of this process."""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = ["jobs"]
