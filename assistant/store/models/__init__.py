"""Tables of the service. Importing this package registers every table on ``Base.metadata``."""

from assistant.store.models.jobs import Job, JobStatus
from assistant.store.models.users import Role, User

__all__ = ["Job", "JobStatus", "Role", "User"]
