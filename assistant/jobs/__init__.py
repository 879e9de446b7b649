"""Durable background jobs: a database record per job, huey to deliver ids, leases for crash recovery."""

from assistant.jobs._queue import JobQueue
from assistant.jobs._registry import JobContext, JobHandler, JobRegistry, load_job_modules
from assistant.jobs._runner import JobRunner
from assistant.jobs._worker import Worker

__all__ = ["JobContext", "JobHandler", "JobQueue", "JobRegistry", "JobRunner", "Worker", "load_job_modules"]
