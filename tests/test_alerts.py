"""Backup alerts, tested with Prometheus' own rule tester (promtool, Debian's prometheus package)
against synthetic series: each rule fires when its backups are stale (or unmeasured) and stays
silent while they are fresh."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from renderer.engines import alerts
from renderer.kube.cron import longest_gap
from renderer.rendering.render import Bundle

SELECTOR = re.compile(r"([a-z_]+)\{([^}]*)\}")
MATCHER = re.compile(r'([a-z_]+)(=~|=)"([^"]*)"')


def _rules(bundle: Bundle) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for path, content in sorted(bundle.files.items()):
        if "/prometheusrule-" in path:
            obj = yaml.safe_load(content)
            for group in obj["spec"]["groups"]:
                for rule in group["rules"]:
                    yield path, group, rule


def _series(expr: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The metric an expression reads, a series that its selector matches, and the labels its
    equality matchers give (what absent() keeps)."""
    metric, matchers = SELECTOR.search(expr).groups()  # type: ignore[union-attr]
    labels, equal = {}, {}
    for name, op, value in MATCHER.findall(matchers):
        labels[name] = value.replace("[0-9]+", "1").replace(".+", "web-7d9f") if op == "=~" else value
        if op == "=":
            equal[name] = value
    return metric, labels, equal


def _seconds(duration: str) -> int:
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[duration[-1]]


def _case(rule: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, str]], int, dict[str, str]]:
    """Series under which the rule must fire, series under which it must not, when to look, and
    the labels the expression gives the alert."""
    metric, labels, equal = _series(rule["expr"])
    series = "%s{%s}" % (metric, ", ".join(f'{k}="{v}"' for k, v in labels.items()))
    hold = _seconds(rule["for"])
    if rule["expr"].startswith("absent("):
        return [], [{"series": series, "values": "1+0x5000"}], hold + 300, equal
    if rule["expr"].startswith("time()"):
        limit = int(rule["expr"].rsplit(">", 1)[1])
        at = limit + hold + 300
        # A timestamp that stopped at the start, and one that follows the clock (a backup each minute).
        return ([{"series": series, "values": f"0x{at // 60 + 5}"}],
                [{"series": series, "values": f"0+60x{at // 60 + 5}"}], at, {})
    if rule["expr"].startswith("increase("):
        return ([{"series": series, "values": "0+1x200"}], [{"series": series, "values": "0x200"}], 3600, labels)
    return [{"series": series, "values": "1x200"}], [{"series": series, "values": "0x200"}], 3600, {}


def test_each_backup_rule_fires_when_stale_and_is_silent_when_fresh(example_bundle: Bundle, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (CI installs Debian's prometheus package)")
    found = list(_rules(example_bundle))
    assert {rule["alert"] for _, _, rule in found} == {"DbfleetBackupTooOld", "DbfleetBackupUnmeasured",
                                                       "DbfleetRestoreDrillTooOld", "DbfleetRestoreDrillUnmeasured",
                                                       "DbfleetReplicationFailing", "DbfleetReplicationPaused"}
    tests = []
    for index, (path, group, rule) in enumerate(found):
        rules_file = tmp_path / f"rules-{index}.yaml"
        rules_file.write_text(yaml.safe_dump({"groups": [{"name": group["name"], "rules": [rule]}]}))
        firing, quiet, at, expr_labels = _case(rule)
        expected = {"exp_labels": {**expr_labels, **rule["labels"]}, "exp_annotations": rule["annotations"]}
        check = {"eval_time": f"{at}s", "alertname": rule["alert"]}
        tests.append({"name": f"{path} {rule['alert']} stale", "interval": "1m", "input_series": firing,
                      "alert_rule_test": [{**check, "exp_alerts": [expected]}], "_rules": rules_file.name})
        tests.append({"name": f"{path} {rule['alert']} fresh", "interval": "1m", "input_series": quiet,
                      "alert_rule_test": [{**check, "exp_alerts": []}], "_rules": rules_file.name})
    # promtool takes the rule files of a test file: one test file per rule file.
    files = []
    for name in sorted({test["_rules"] for test in tests}):
        test_file = tmp_path / name.replace("rules-", "test-")
        test_file.write_text(yaml.safe_dump({
            "rule_files": [name], "evaluation_interval": "1m",
            "tests": [{k: v for k, v in test.items() if k != "_rules"} for test in tests if test["_rules"] == name]}))
        files.append(str(test_file))
    done = subprocess.run([promtool, "test", "rules", *files], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert done.stdout.count("SUCCESS") == len(files)


def test_promtool_accepts_every_rendered_rule_file(example_bundle: Bundle, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (CI installs Debian's prometheus package)")
    files = []
    for path, content in sorted(example_bundle.files.items()):
        if "/prometheusrule-" in path:
            target = tmp_path / path.replace("/", "_")
            target.write_text(yaml.safe_dump({"groups": yaml.safe_load(content)["spec"]["groups"]}))
            files.append(str(target))
    assert len(files) >= 5
    done = subprocess.run([promtool, "check", "rules", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("schedule", "limit"), [
    ("0 2 * * *", 36 * 3600), ("0 */6 * * *", 9 * 3600), ("0 5 * * 0", 252 * 3600), ("0 3 * * 1-5", 108 * 3600),
    ("@hourly", 5400), ("0 1,23 * * *", 33 * 3600),
])
def test_the_limit_is_the_longest_gap_of_the_schedule_with_grace(schedule: str, limit: int) -> None:
    assert int(longest_gap(schedule) * alerts.GRACE) == limit
    rule = alerts.dumps("databases", "billing", [("billing-backup", schedule, "Backup", "dump")]).context["rules"][0]
    assert rule["expr"].endswith(f"> {limit}")


def test_a_label_value_cannot_end_its_string() -> None:
    selector = alerts._selector(namespace='a"} or vector(1) #', pod="x-[0-9]+~")
    assert selector == '{namespace="a\\"} or vector(1) #", pod=~"x-[0-9]+"}'
