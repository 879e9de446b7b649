"""The package's exported names, and the attribute filter that keeps text out of traces."""

from __future__ import annotations

import assistant.telemetry as telemetry
from assistant.telemetry import ALLOWED_ATTRIBUTES, safe_attributes


def test_exported_names() -> None:
    assert sorted(telemetry.__all__) == [
        "ALLOWED_ATTRIBUTES",
        "JobSpan",
        "ServerSpan",
        "Tracing",
        "UpstreamCall",
        "current_tracing",
        "error_code",
        "job_span",
        "job_trace_context",
        "note_job",
        "note_replica",
        "open_tracing",
        "safe_attributes",
        "server_span",
        "trace_stream",
        "tracing_scope",
        "upstream_call",
    ]
    for name in telemetry.__all__:
        assert getattr(telemetry, name) is not None


def test_only_allowed_names_pass_and_labels_are_cut() -> None:
    paragraph = "Le requérant conteste la décision du 12 mars. " * 20
    safe = safe_attributes(
        {
            "souverain.job.kind": paragraph,
            "souverain.priority": 10,
            "gen_ai.prompt": "Quel est le délai ?",
            "user.email": "agent@interieur.gouv.fr",
            "souverain.replica": None,
        }
    )
    assert set(safe) == {"souverain.job.kind", "souverain.priority"}
    assert safe["souverain.priority"] == 10
    assert isinstance(safe["souverain.job.kind"], str) and len(safe["souverain.job.kind"]) == 200
    assert not any("prompt" in name or "email" in name or "content" in name for name in ALLOWED_ATTRIBUTES)
