"""Tables of the service. Importing this package registers every table on ``Base.metadata``."""

from assistant.store.models.audit import AuditEvent
from assistant.store.models.jobs import Job, JobStatus
from assistant.store.models.users import Role, User

__all__ = ["AuditEvent", "Job", "JobStatus", "Role", "User"]
