"""SQLAlchemy models, one topic a module, all on one declarative ``Base``."""

from .asset import ASSET_KINDS, ASSET_STATUSES, Asset, AssetChange
from .audit import AuditChain, AuditEvent
from .base import Base, utcnow
from .definition import DefinitionFile, ProcessDefinition
from .fact import PRIORITIES, RequestFact
from .hook import Hook, HookDelivery, HookMode
from .instance import OPEN_STATUSES, InstanceStatus, MessageSubscription, ProcessInstance
from .job import Job, JobKind, JobState
from .link import InstanceLink, ReplyLink
from .mail import MailMessage, MailState
from .recurring import RecurringSchedule, RecurringStart
from .request import (
    Attachment,
    AuthorKind,
    CannedAnswer,
    OrgUnit,
    RateEvent,
    RequestContact,
    RequestMessage,
    ServiceRating,
)
from .saved_filter import SavedFilter
from .status import RequesterStatus, StatusKind
from .task import OPEN_TASK_STATES, HumanTask, TaskState
from .user import ROLES, ApiToken, Group, User
from .user_session import UserSession

__all__ = [
    "ASSET_KINDS", "ASSET_STATUSES", "Asset", "AssetChange",
    "ApiToken", "Attachment", "AuditChain", "AuthorKind", "CannedAnswer", "OrgUnit", "RateEvent",
    "RequestContact", "RequesterStatus", "RequestMessage", "ServiceRating", "AuditEvent", "Base", "DefinitionFile", "Group", "Hook", "HookDelivery", "HookMode", "HumanTask",
    "InstanceLink", "InstanceStatus", "Job", "JobKind", "JobState", "MailMessage", "MailState",
    "MessageSubscription", "OPEN_STATUSES", "OPEN_TASK_STATES", "ProcessDefinition",
    "PRIORITIES", "ProcessInstance", "ROLES", "RecurringSchedule", "RecurringStart", "ReplyLink", "RequestFact", "SavedFilter", "StatusKind", "TaskState",
    "User", "UserSession", "utcnow",
]
