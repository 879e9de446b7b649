"""Tables of the service. Importing this package registers every table on ``Base.metadata``."""

from assistant.store.models.access import ApiKey, Group, GroupMember, UsageCounter, UserIdentity, UserQuota, WebSession
from assistant.store.models.audit import AuditEvent
from assistant.store.models.batches import Batch, BatchResult, BatchStatus, StoredFile
from assistant.store.models.charter import CharterAcceptance, CharterVersion, GuardRuleSet
from assistant.store.models.chat import (
    Conversation,
    ConversationMessage,
    FeedbackRating,
    FeedbackReason,
    MessageFeedback,
    MessageRole,
    Project,
    UsageRecord,
    UsageService,
)
from assistant.store.models.comparisons import Comparison, ComparisonVote
from assistant.store.models.glossaries import GlossaryEntry, TranscriptionGlossary
from assistant.store.models.governance import (
    IncidentCategory,
    IncidentReport,
    IncidentStatus,
    ModelAccessGroup,
    ModelAccessRule,
    ModelDecision,
    RegistryReview,
)
from assistant.store.models.jobs import Job, JobStatus
from assistant.store.models.prompts import Prompt, PromptGroup, PromptUse, PromptVersion
from assistant.store.models.rag import (
    AccessLevel,
    Classification,
    Collection,
    CollectionAccess,
    Document,
    DocumentChunk,
    DocumentStatus,
)
from assistant.store.models.shares import ConversationShare, ShareGroup, ShareMode, ShareUser
from assistant.store.models.sources import KnowledgeSource, SourceFile
from assistant.store.models.transcriptions import Transcription, TranscriptionMinutes
from assistant.store.models.users import Role, User

__all__ = [
    "AccessLevel",
    "ApiKey",
    "AuditEvent",
    "Batch",
    "BatchResult",
    "BatchStatus",
    "CharterAcceptance",
    "CharterVersion",
    "Classification",
    "Collection",
    "CollectionAccess",
    "Comparison",
    "ComparisonVote",
    "Conversation",
    "ConversationMessage",
    "ConversationShare",
    "Document",
    "DocumentChunk",
    "DocumentStatus",
    "FeedbackRating",
    "FeedbackReason",
    "GlossaryEntry",
    "Group",
    "GroupMember",
    "GuardRuleSet",
    "IncidentCategory",
    "IncidentReport",
    "IncidentStatus",
    "Job",
    "JobStatus",
    "KnowledgeSource",
    "MessageFeedback",
    "MessageRole",
    "ModelAccessGroup",
    "ModelAccessRule",
    "ModelDecision",
    "Project",
    "Prompt",
    "PromptGroup",
    "PromptUse",
    "PromptVersion",
    "RegistryReview",
    "Role",
    "ShareGroup",
    "ShareMode",
    "ShareUser",
    "SourceFile",
    "StoredFile",
    "Transcription",
    "TranscriptionGlossary",
    "TranscriptionMinutes",
    "UsageCounter",
    "UsageRecord",
    "UsageService",
    "User",
    "UserIdentity",
    "UserQuota",
    "WebSession",
]
