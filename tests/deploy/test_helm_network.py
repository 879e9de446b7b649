"""NetworkPolicies: deny by default, then open exactly the flows the design needs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.helpers import (
    Manifest,
    RenderError,
    by_kind,
    one,
    pod_labels,
    render,
    selector_matches,
)
from tests.deploy.values import full_values


def _policies_for(manifests: list[Manifest], labels: dict[str, str]) -> list[Manifest]:
    return [p for p in by_kind(manifests, "NetworkPolicy") if selector_matches(p["spec"]["podSelector"], labels)]


def _egress_ports(rules: list[dict[str, Any]]) -> set[tuple[Any, str]]:
    return {(port["port"], port.get("protocol", "TCP")) for rule in rules for port in rule.get("ports", [])}


def _is_default_deny(policy: Manifest) -> bool:
    spec = policy["spec"]
    return (
        set(spec.get("policyTypes", [])) == {"Ingress", "Egress"} and not spec.get("ingress") and not spec.get("egress")
    )


def test_namespace_wide_default_deny_exists(default_manifests: list[Manifest]) -> None:
    denies = [p for p in by_kind(default_manifests, "NetworkPolicy") if _is_default_deny(p)]
    assert any(p["spec"]["podSelector"] == {} for p in denies)


def test_release_scoped_default_deny_selects_every_pod(full_manifests: list[Manifest]) -> None:
    deny = one(full_manifests, "NetworkPolicy", "default-deny")
    assert _is_default_deny(deny)
    assert deny["spec"]["podSelector"] != {}
    workloads = [m for m in full_manifests if m["kind"] in {"Deployment", "Job"}]
    assert len(workloads) == 5
    for workload in workloads:
        assert selector_matches(deny["spec"]["podSelector"], pod_labels(workload)), workload["metadata"]["name"]


def test_no_policy_opens_everything(any_manifests: list[Manifest]) -> None:
    """An egress/ingress rule without peers or without ports would allow every destination or port."""
    for policy in by_kind(any_manifests, "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to"), policy["metadata"]["name"]
            assert rule.get("ports"), policy["metadata"]["name"]
            for peer in rule["to"]:
                assert peer.get("ipBlock", {}).get("cidr") != "0.0.0.0/0", policy["metadata"]["name"]
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), policy["metadata"]["name"]
            assert rule.get("ports"), policy["metadata"]["name"]


def test_api_is_reached_only_from_the_ingress_controller(production_manifests: list[Manifest]) -> None:
    api = one(production_manifests, "Deployment", "api")
    ingress_rules = [
        r for p in _policies_for(production_manifests, pod_labels(api)) for r in p["spec"].get("ingress", [])
    ]
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in ingress_rules
        for peer in rule["from"]
    }
    # Prometheus is allowed too since the production values enable the ServiceMonitor.
    assert namespaces == {"ingress-nginx", "monitoring"}
    assert all(port["port"] == "http" for rule in ingress_rules for port in rule["ports"])


def test_api_egress_is_limited_to_its_dependencies(production_manifests: list[Manifest]) -> None:
    api = one(production_manifests, "Deployment", "api")
    policies = _policies_for(production_manifests, pod_labels(api))
    assert all("Egress" in p["spec"]["policyTypes"] for p in policies)
    rules = [r for p in policies for r in p["spec"].get("egress", [])]
    assert _egress_ports(rules) == {
        (53, "UDP"),
        (53, "TCP"),
        (5432, "TCP"),
        (6379, "TCP"),
        (8000, "TCP"),
        (443, "TCP"),
    }
    cidrs = {peer["ipBlock"]["cidr"] for rule in rules for peer in rule["to"] if "ipBlock" in peer}
    assert cidrs == {"10.20.0.15/32", "10.20.0.16/32", "10.20.1.0/28"}
    vllm = one(production_manifests, "Deployment", "vllm")
    to_vllm = [r for r in rules if any("podSelector" in p and "namespaceSelector" not in p for p in r["to"])]
    assert len(to_vllm) == 1
    assert selector_matches(to_vllm[0]["to"][0]["podSelector"], pod_labels(vllm))


def test_workers_accept_no_inbound_traffic(full_manifests: list[Manifest]) -> None:
    for name in ("worker", "transcription"):
        labels = pod_labels(one(full_manifests, "Deployment", name))
        policies = _policies_for(full_manifests, labels)
        assert policies
        assert not [r for p in policies for r in p["spec"].get("ingress", [])], name
        egress = [r for p in policies for r in p["spec"].get("egress", [])]
        assert (5432, "TCP") in _egress_ports(egress)


def test_vllm_has_no_egress_and_only_application_clients(full_manifests: list[Manifest]) -> None:
    vllm_labels = pod_labels(one(full_manifests, "Deployment", "vllm"))
    policies = _policies_for(full_manifests, vllm_labels)
    assert not [r for p in policies for r in p["spec"].get("egress", [])]
    assert all("Egress" in p["spec"]["policyTypes"] for p in policies)
    app_peers = [
        peer
        for p in policies
        for rule in p["spec"].get("ingress", [])
        for peer in rule["from"]
        if "namespaceSelector" not in peer
    ]
    clients = {"api", "worker", "transcription", "migrations"}
    allowed = {
        c
        for c in clients
        for peer in app_peers
        if selector_matches(
            peer["podSelector"],
            pod_labels(one(full_manifests, "Job" if c == "migrations" else "Deployment", c)),
        )
    }
    assert allowed == {"api", "worker", "transcription"}


def test_migrations_reach_only_dns_and_the_database(production_manifests: list[Manifest]) -> None:
    job = one(production_manifests, "Job", "migrations")
    rules = [r for p in _policies_for(production_manifests, pod_labels(job)) for r in p["spec"].get("egress", [])]
    assert _egress_ports(rules) == {(53, "UDP"), (53, "TCP"), (5432, "TCP")}


def test_extra_egress_rules_are_appended_for_api_and_workers(full_manifests: list[Manifest]) -> None:
    for name in ("api", "worker"):
        labels = pod_labels(one(full_manifests, "Deployment", name))
        rules = [r for p in _policies_for(full_manifests, labels) for r in p["spec"].get("egress", [])]
        assert any(peer.get("ipBlock", {}).get("cidr") == "10.30.0.8/32" for r in rules for peer in r["to"])


def test_oidc_issuer_without_egress_peers_is_refused() -> None:
    values = full_values()
    values["networkPolicy"]["egress"]["oidc"]["peers"] = []
    with pytest.raises(RenderError) as excinfo:
        render(values)
    assert "networkPolicy.egress.oidc.peers" in excinfo.value.message


def test_network_policies_can_be_disabled() -> None:
    assert not by_kind(render({"networkPolicy": {"enabled": False}}), "NetworkPolicy")
