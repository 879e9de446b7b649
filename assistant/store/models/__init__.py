"""Tables of the service. Importing this package registers every table on ``Base.metadata``."""

from assistant.store.models.access import ApiKey, Group, GroupMember, UsageCounter, UserIdentity, UserQuota, WebSession
from assistant.store.models.audit import AuditEvent
from assistant.store.models.jobs import Job, JobStatus
from assistant.store.models.transcriptions import Transcription, TranscriptionMinutes
from assistant.store.models.users import Role, User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Group",
    "GroupMember",
    "Job",
    "JobStatus",
    "Role",
    "Transcription",
    "TranscriptionMinutes",
    "UsageCounter",
    "User",
    "UserIdentity",
    "UserQuota",
    "WebSession",
]
