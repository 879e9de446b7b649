"""Use cases of the service, called by the API routers and the CLI alike, grouped by domain.

``gateway`` (every generation), ``chat``, ``knowledge`` (documents, collections, grounding), ``meetings``
(transcription), ``identity`` (sign-in and access), ``governance`` (référents and auditors), ``charter`` and
``operations`` (jobs, readiness). A group uses another only through the modules that group's ``__all__`` lists.
"""
