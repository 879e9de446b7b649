"""Governance for référents and auditors: administration, the AI registry, the audit log, incidents, supervision
of models, KPIs and trends, retention and the RGPD rights.
"""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = ["incidents", "kpis"]
