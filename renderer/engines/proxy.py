"""The xdatabase-proxy deployment, with the least privilege it needs: read Services anywhere, and
keep its own TLS Secret in its own namespace. (The upstream example grants every verb on pods,
secrets and more.)"""
from __future__ import annotations

from typing import Any, Iterator

from renderer.planning.components import Component, WAVE_CONFIG, WAVE_DEPENDENT, guaranteed

NAME = "xdatabase-proxy"
HEALTH_PORT = 8080
USER_ID = 65532


def render(proxy: dict[str, Any]) -> Iterator[Component]:
    namespace = proxy["namespace"]
    base = {"namespace": namespace, "name": NAME, "proxy": proxy}
    selector = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}
    yield Component("proxy/serviceaccount.yaml.j2", base, "proxy", WAVE_CONFIG)
    yield Component("proxy/clusterrole.yaml.j2", base, "proxy", WAVE_CONFIG)
    yield Component("proxy/clusterrolebinding.yaml.j2", base, "proxy", WAVE_CONFIG)
    yield Component("proxy/role.yaml.j2", base, "proxy", WAVE_CONFIG)
    yield Component("proxy/rolebinding.yaml.j2", base, "proxy", WAVE_CONFIG)
    resources = guaranteed(proxy["resources"]) or {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }
    yield Component(
        "proxy/deployment.yaml.j2",
        {**base, "selector": selector, "resources": resources, "health_port": HEALTH_PORT, "user": USER_ID},
        "proxy",
        WAVE_DEPENDENT,
    )
    yield Component("proxy/poddisruptionbudget.yaml.j2", {**base, "selector": selector}, "proxy", WAVE_DEPENDENT)
    yield Component("proxy/service.yaml.j2", {**base, "selector": selector}, "proxy", WAVE_DEPENDENT)


def host(proxy: dict[str, Any]) -> str:
    """How clients reach the proxy."""
    return str(proxy["host"] or f"{NAME}.{proxy['namespace']}.svc")
