"""dbfleet secrets: every Secret the rendered fleet reads and does not create."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import yaml

from renderer.planning.secrets_contract import created
from renderer.rendering.render import Bundle
from tests.conftest import run


def _named_secrets(node: Any, inside: str = "") -> Iterator[str]:
    """Bluntly, every name held under a key that says "secret" (or by a Secret reference)."""
    if isinstance(node, list):
        for item in node:
            yield from _named_secrets(item, inside)
    elif isinstance(node, dict):
        if node.get("kind") == "Secret" and isinstance(node.get("name"), str):
            yield node["name"]
        for key, value in node.items():
            if key in ("secretStoreRef", "secretKey", "secrets", "secretsName"):
                continue  # the store External Secrets reads, a key's name, what an operator makes
            if "secret" in key.lower():
                if isinstance(value, str):
                    yield value
                elif isinstance(value, dict) and isinstance(value.get("name"), str):
                    yield value["name"]
            yield from _named_secrets(value, key)


def _where(obj: dict[str, Any]) -> str:
    """The namespace an object's Secrets are read in (an Argo CD Application's: where it installs)."""
    return obj["spec"]["destination"]["namespace"] if obj["kind"] == "Application" else obj["metadata"].get("namespace")


def test_the_contract_lists_every_secret_the_output_reads_and_does_not_make(example_bundle: Bundle, workdir: Path) -> None:
    result = run("secrets", "--output", "json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["secrets"]
    for env in ("dev", "prod"):
        objects = [yaml.safe_load(example_bundle.files[o.path]) for o in example_bundle.objects if o.path.startswith(f"{env}/")]
        made = {(obj["metadata"].get("namespace"), name) for obj in objects for name in created(obj)}
        referenced = {(_where(obj), name) for obj in objects for name in _named_secrets(obj.get("spec"))} - made
        assert referenced == {(s["namespace"], s["name"]) for s in listed if s["environment"] == env}, env
    assert all(s["keys"] and s["readers"] for s in listed)
    by_name = {(s["environment"], s["namespace"], s["name"]): s for s in listed}
    store = by_name[("prod", "databases", "s3-backup-creds")]
    assert store["keys"] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert store["for"] == ["backup store s3-main (s3)"]
    assert "prod/databases/shop/perconaxtradbcluster-shop.yaml" in store["readers"]
    assert by_name[("prod", "databases", "shared-pg-admin")]["keys"] == ["password", "username"]
    # A vCluster mounts the server's CA in its own namespace: External Secrets puts it there.
    assert ("prod", "vcluster-team-a", "shared-pg-ca") not in by_name
    made = yaml.safe_load(example_bundle.files["prod/vcluster-team-a/team-a/externalsecret-shared-pg-ca.yaml"])
    assert [(d["secretKey"], d["remoteRef"]["key"], d["remoteRef"]["property"]) for d in made["spec"]["data"]] == [
        ("ca.crt", "acme/prod/servers/shared-pg", "ca.crt")]


def test_secrets_as_text(workdir: Path) -> None:
    result = run("secrets", "--env", "dev")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if "\tdatabases-dev/s3-backup-creds\t" in line)
    assert line.startswith("dev\tdatabases-dev/s3-backup-creds\tAWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\tbackup store s3-main (s3)\tread by ")
    assert result.stderr.strip().endswith("secrets to provide")
