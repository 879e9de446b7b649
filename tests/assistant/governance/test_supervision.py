"""Model supervision: withdrawals persist across restarts, reinstatement, alert threshold, quality signals."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.services.governance.audit_log import search_events
from assistant.services.governance.supervision import NoUsageSource, RequestStats, UsageSource, list_supervision
from assistant.store.models import Role
from tests.assistant.governance.helpers import MODEL, OTHER_MODEL, answer, ask, backends, report_body
from tests.factories import make_account, run, runtime_of
from tests.fakes import FakeUpstream

REASON = "Biais constatés le 12/11 ; utilisez secours-model."


def test_withdrawal_survives_a_restart_until_reinstated(  # type: ignore[no-untyped-def]
    settings_factory, openai_upstream: FakeUpstream, database_url: str
) -> None:
    settings = settings_factory(database_url=database_url, llm_backends=backends(openai_upstream.url))
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        referent = make_account(client, app, "referent.r", Role.REFERENT).bearer
        agent = make_account(client, app, "agent.a", Role.AGENT).bearer
        missing = client.post("/api/governance/models/withdraw", json={"model": MODEL}, headers=referent)
        assert missing.status_code == 400, "a withdrawal states its reason"
        unknown = client.post("/api/governance/models/withdraw", json={"model": "x", "reason": "r"}, headers=referent)
        assert unknown.status_code == 404
        withdrawn = client.post(
            "/api/governance/models/withdraw", json={"model": MODEL, "reason": REASON}, headers=referent
        )
        assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
        assert ask(client, agent).status_code == 410
        assert client.post("/api/governance/models/withdraw", json={"model": MODEL}, headers=agent).status_code == 403

    restarted = create_app(settings)
    with TestClient(restarted, raise_server_exceptions=False) as client:
        refused = ask(client, agent)
        assert refused.status_code == 410
        assert refused.json()["error"]["code"] == "model_withdrawn" and REASON in refused.json()["error"]["message"]
        assert ask(client, agent, OTHER_MODEL).status_code == 200
        assert [m["id"] for m in client.get("/v1/models", headers=agent).json()["data"]] == [OTHER_MODEL]
        assert client.get("/v1/models", params={"include_withdrawn": True}, headers=agent).status_code == 403
        listed = client.get("/v1/models", params={"include_withdrawn": True}, headers=referent).json()["data"]
        shown = {model["id"]: model for model in listed}
        assert shown[MODEL]["status"] == "withdrawn" and shown[MODEL]["withdrawn_reason"] == REASON
        supervised = {m["id"]: m for m in client.get("/api/governance/models", headers=referent).json()}
        assert supervised[MODEL]["decided_by"] == "referent.r" and supervised[MODEL]["status"] == "withdrawn"

        reinstated = client.post("/api/governance/models/reinstate", json={"model": MODEL}, headers=referent)
        assert reinstated.status_code == 200 and reinstated.json()["status"] == "active"
        assert ask(client, agent).status_code == 200
        events = run(client, search_events(runtime_of(restarted), action_prefix="model."))
        assert [(e.action, e.resource_id) for e in reversed(events)] == [
            ("model.withdraw", MODEL),
            ("model.reinstate", MODEL),
        ]

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert ask(client, agent).status_code == 200, "the reinstatement persists too"


def test_alert_threshold_raises_one_audited_alert_and_flags_the_model(  # type: ignore[no-untyped-def]
    settings_factory, openai_upstream: FakeUpstream
) -> None:
    app = create_app(settings_factory(llm_backends=backends(openai_upstream.url), incident_alert_threshold=2))
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "agent.a", Role.AGENT).bearer
        referent = make_account(client, app, "referent.r", Role.REFERENT).bearer

        def report(category: str, model: str = MODEL) -> str:
            text, manifest = answer(client, agent, model)
            created = client.post("/api/incidents", json=report_body(text, manifest, category), headers=agent)
            assert created.status_code == 201
            return str(created.json()["id"])

        def alerts() -> list[str | None]:
            return [e.resource_id for e in run(client, search_events(runtime_of(app), action_prefix="governance."))]

        def flags() -> dict[str, bool]:
            return {m["id"]: m["alert"] for m in client.get("/api/governance/models", headers=referent).json()}

        report("biais")
        report("erreur_factuelle")  # not an alert category
        report("biais", OTHER_MODEL)  # another model
        assert alerts() == [] and flags() == {MODEL: False, OTHER_MODEL: False}
        leak = report("fuite_de_donnees")
        assert alerts() == [MODEL] and flags() == {MODEL: True, OTHER_MODEL: False}
        report("biais")
        assert alerts() == [MODEL], "one alert per window, not one per report"
        event = run(client, search_events(runtime_of(app), action_prefix="governance."))[0]
        assert event.outcome == "alert" and event.details["open_reports"] == 2 and event.details["threshold"] == 2

        supervised = {m["id"]: m for m in client.get("/api/governance/models", headers=referent).json()}[MODEL]
        assert supervised["reports"] == 4 and supervised["alert_reports"] == 3
        assert supervised["reports_by_category"]["biais"] == 2
        # Requests come from the usage records the test's own completions left.
        assert supervised["requests"] and supervised["report_rate"] == supervised["reports"] / supervised["requests"]

        for report_id in (leak, *[r["id"] for r in client.get("/api/incidents", headers=agent).json()]):
            client.patch(
                f"/api/governance/incidents/{report_id}",
                json={"status": "closed", "comment": "Traité."},
                headers=referent,
            )
        assert flags()[MODEL] is False, "closed reports no longer count towards the alert"


class _Served(UsageSource):
    def __init__(self) -> None:
        self.windows: list[tuple[datetime, datetime]] = []

    async def requests_per_model(self, *, since: datetime, until: datetime) -> dict[str, RequestStats]:
        self.windows.append((since, until))
        return {MODEL: RequestStats(requests=40, errors=2)}


def test_report_and_error_rates_come_from_the_usage_source(  # type: ignore[no-untyped-def]
    settings_factory, openai_upstream: FakeUpstream
) -> None:
    app = create_app(settings_factory(llm_backends=backends(openai_upstream.url), incident_alert_window_days=3))
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "agent.a", Role.AGENT).bearer
        for _ in range(2):
            text, manifest = answer(client, agent)
            client.post("/api/incidents", json=report_body(text, manifest), headers=agent)
        source = _Served()
        signals = {item.model.id: item for item in run(client, list_supervision(runtime_of(app), usage=source))}
        assert signals[MODEL].report_rate == 2 / 40 and signals[MODEL].error_rate == 2 / 40
        assert signals[OTHER_MODEL].requests is None and signals[OTHER_MODEL].report_rate is None
        since, until = source.windows[0]
        assert (until - since).days == 3
        assert run(client, NoUsageSource().requests_per_model(since=since, until=until)) == {}
