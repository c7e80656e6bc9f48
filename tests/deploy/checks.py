#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Structural checks of the deployment files, called by tests/deploy/run.sh.

Usage: checks.py CHECK [ARGS...]; exit 0 on success, else prints one line with
the reason on stdout and exits 1. Checks: rules-meta, dashboard, manifests,
unit FILE [BINARY], install-tree DESTDIR PREFIX WITH_BIN(0|1).
"""
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")

# The metrics the daemon exports (DESIGN.md section 5 / issue #8). Nothing else
# may appear in the rules or the dashboard, so a typo is a failure.
METRICS = {
    "portwarden_build_info", "portwarden_hook_tier_info", "portwarden_sockets",
    "portwarden_bind_attempts_total", "portwarden_bind_failures_total",
    "portwarden_findings_total", "portwarden_findings_active",
    "portwarden_shared_port_owners", "portwarden_reuseport_group_members",
    "portwarden_reuseport_member_share", "portwarden_reuseport_imbalance_ratio",
    "portwarden_events_total", "portwarden_events_lost_total",
    "portwarden_events_rejected_total", "portwarden_ledger_evictions_total",
    "portwarden_series_dropped_total", "portwarden_reconciliations_total",
    "portwarden_store_write_failures_total", "portwarden_scrape_duration_seconds",
}
ALLOWED = METRICS | {"up"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "Inf", "NaN"}
FINDING_KINDS = {"cross_user_reuse", "cross_workload_reuse", "shadowing", "listen_race",
                 "takeover", "bind_conflict", "wildcard_exposure", "reuseport_skew",
                 "bind_refused"}


class CheckError(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise CheckError(msg)


def metric_names(expr):
    """Metric names an expression selects (strings, matchers, ranges and
    grouping label lists removed; identifiers followed by '(' are functions)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+-?[0-9smhdwy]+", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", e):
        if m.group(2) or m.group(1) in KEYWORDS:
            continue
        names.add(m.group(1))
    return names


def check_expr(where, expr):
    require(isinstance(expr, str) and expr.strip(), f"{where}: empty expr")
    names = metric_names(expr)
    require(names, f"{where}: no metric in expr {expr!r}")
    bad = sorted(names - ALLOWED)
    require(not bad, f"{where}: unknown metric(s) {bad} (only portwarden_* from the "
            "daemon's list, or up)")
    for kind in re.findall(r'kind="([a-z_]+)"', expr):
        require(kind in FINDING_KINDS, f"{where}: unknown finding kind {kind!r}")


def gh_anchor(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def rules_meta():
    rules = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus", "portwarden-rules.yml")))
    tests = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus", "portwarden-rules.test.yml")))
    runbook = open(os.path.join(DEPLOY, "RUNBOOK.md")).read()
    anchors = {gh_anchor(h) for h in re.findall(r"^##\s+(.+)$", runbook, re.M)}
    firing, quiet = set(), set()
    for t in tests.get("tests", []):
        for a in t.get("alert_rule_test", []) or []:
            (firing if a.get("exp_alerts") else quiet).add(a["alertname"])
    alerts = []
    for g in rules["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                check_expr(f"record {r.get('record')}", r.get("expr"))
                continue
            name = r["alert"]
            alerts.append(name)
            check_expr(f"alert {name}", r.get("expr"))
            require("for" in r, f"alert {name}: no 'for:'")
            sev = (r.get("labels") or {}).get("severity")
            require(sev in ("critical", "warning", "info"), f"alert {name}: severity {sev!r}")
            ann = r.get("annotations") or {}
            for k in ("summary", "description", "runbook_url"):
                require(ann.get(k), f"alert {name}: no annotation {k}")
            url = ann["runbook_url"]
            require("RUNBOOK.md#" in url, f"alert {name}: runbook_url {url!r} is not a RUNBOOK.md section")
            anchor = url.split("#", 1)[1]
            require(anchor in anchors, f"alert {name}: RUNBOOK.md has no section #{anchor}")
            require(name in firing, f"alert {name}: no firing test case")
            require(name in quiet, f"alert {name}: no not-firing test case")
    require(len(alerts) == len(set(alerts)), "duplicate alert names")
    sev = {}
    for g in rules["groups"]:
        for r in g["rules"]:
            if "alert" in r:
                sev[r["alert"]] = r["labels"]["severity"]
    # The required alerts and their severity.
    for pattern, want in ((r'kind="cross_user_reuse"', "critical"), (r'kind="takeover"', "critical"),
                          (r'kind="reuseport_skew"', "warning"), (r'kind="shadowing"', "warning"),
                          (r"portwarden_events_lost_total", None),
                          (r"portwarden_store_write_failures_total", None),
                          (r'up\{job="portwarden"\}\s*==\s*0', None), (r"absent\(", None)):
        hits = [r["alert"] for g in rules["groups"] for r in g["rules"]
                if "alert" in r and re.search(pattern, r["expr"])]
        require(hits, f"no alert matches {pattern}")
        if want:
            require(any(sev[h] == want for h in hits), f"no {want} alert on {pattern}")
    return f"{len(alerts)} alerts"


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def dashboard():
    path = os.path.join(DEPLOY, "grafana", "portwarden-dashboard.json")
    with open(path) as f:
        d = json.load(f)
    require(isinstance(d.get("schemaVersion"), int) and 36 <= d["schemaVersion"] <= 41,
            f"schemaVersion {d.get('schemaVersion')!r}")
    require(d.get("title") and d.get("uid"), "dashboard without title or uid")
    tvars = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    dsv = tvars.get("datasource")
    require(dsv and dsv.get("type") == "datasource" and dsv.get("query") == "prometheus",
            "no prometheus datasource variable named 'datasource'")
    ds_refs = ("${datasource}", "$datasource")
    ids, used, n = set(), set(), 0
    for p in walk_panels(d.get("panels", [])):
        pid = p.get("id")
        require(pid not in ids, f"duplicate panel id {pid}")
        ids.add(pid)
        title = p.get("title")
        require(title, f"panel {pid} has no title")
        require("gridPos" in p, f"panel {title!r}: no gridPos")
        if p.get("type") == "row":
            continue
        n += 1
        ds = p.get("datasource")
        require(isinstance(ds, dict) and ds.get("uid") in ds_refs,
                f"panel {title!r}: datasource is not the $datasource variable")
        targets = p.get("targets")
        require(targets, f"panel {title!r}: no targets")
        for t in targets:
            tds = t.get("datasource")
            require(tds is None or tds.get("uid") in ds_refs,
                    f"panel {title!r}: target datasource is not the $datasource variable")
            require(t.get("refId"), f"panel {title!r}: target without refId")
            check_expr(f"panel {title!r}", t.get("expr"))
            used |= metric_names(t["expr"])
    for v in tvars.values():
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.search(r"label_values\((\w+)", q or "")
            require(m and m.group(1) in ALLOWED, f"variable {v.get('name')}: query {q!r}")
    want = {"portwarden_sockets", "portwarden_shared_port_owners", "portwarden_findings_total",
            "portwarden_findings_active", "portwarden_reuseport_member_share",
            "portwarden_reuseport_imbalance_ratio", "portwarden_events_total",
            "portwarden_events_lost_total", "portwarden_events_rejected_total",
            "portwarden_scrape_duration_seconds", "portwarden_store_write_failures_total",
            "portwarden_hook_tier_info"}
    missing = sorted(want - used)
    require(not missing, f"no panel for {missing}")
    return f"{n} panels"


def load_docs(path):
    with open(path) as f:
        docs = [x for x in yaml.safe_load_all(f) if x is not None]
    for i, x in enumerate(docs):
        require(isinstance(x, dict), f"{path}: document {i} is not a mapping")
        for k in ("apiVersion", "kind"):
            require(x.get(k), f"{path}: document {i} has no {k}")
        require((x.get("metadata") or {}).get("name"), f"{path}: document {i} has no metadata.name")
    return docs


def manifests():
    kdir = os.path.join(DEPLOY, "kubernetes")
    files = sorted(f for f in os.listdir(kdir) if f.endswith((".yaml", ".yml")))
    require(files, "no manifests")
    docs = {}
    for f in files:
        for x in load_docs(os.path.join(kdir, f)):
            docs.setdefault(x["kind"], []).append(x)
    for f in ("portwarden-rules.yml", "portwarden-rules.test.yml"):
        with open(os.path.join(DEPLOY, "prometheus", f)) as fh:
            yaml.safe_load(fh)
    for kind in ("Namespace", "ServiceAccount", "DaemonSet", "Service", "ServiceMonitor"):
        require(kind in docs, f"no {kind}")
    ds = docs["DaemonSet"][0]
    spec = ds["spec"]
    tmpl = spec["template"]
    labels = tmpl["metadata"]["labels"]
    for k, v in spec["selector"]["matchLabels"].items():
        require(labels.get(k) == v, "DaemonSet selector does not match its template")
    pod = tmpl["spec"]
    require(pod.get("hostNetwork") is True, "DaemonSet without hostNetwork: true")
    require(pod.get("hostPID") is True, "DaemonSet without hostPID: true")
    sa = docs["ServiceAccount"][0]["metadata"]["name"]
    require(pod.get("serviceAccountName") == sa, "DaemonSet does not use the ServiceAccount")
    ann = tmpl["metadata"].get("annotations") or {}
    require(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9742",
            "pod template without prometheus.io/scrape and port annotations")
    hostpaths = {v["hostPath"]["path"]: v["name"] for v in pod.get("volumes", []) if "hostPath" in v}
    for path in ("/sys/kernel/btf", "/sys/fs/cgroup", "/sys/fs/bpf", "/proc", "/var/lib/portwarden"):
        require(path in hostpaths, f"no hostPath volume {path}")
    c = pod["containers"][0]
    mounted = {m["name"] for m in c.get("volumeMounts", [])}
    for path, name in hostpaths.items():
        require(name in mounted, f"hostPath volume {name} ({path}) is not mounted")
    res = c.get("resources") or {}
    for k in ("requests", "limits"):
        require(res.get(k, {}).get("cpu") and res.get(k, {}).get("memory"), f"no cpu/memory {k}")
    probe = c.get("livenessProbe") or {}
    hg = probe.get("httpGet")
    if hg:
        require(hg.get("path") == "/healthz" and int(hg.get("port")) == 9742
                and hg.get("host") == "127.0.0.1", "liveness httpGet is not 127.0.0.1:9742/healthz")
    else:
        cmd = " ".join((probe.get("exec") or {}).get("command", []))
        require("http://127.0.0.1:9742/healthz" in cmd, "no liveness probe on 127.0.0.1:9742/healthz")
    sc = c.get("securityContext") or {}
    if not sc.get("privileged"):
        caps = set((sc.get("capabilities") or {}).get("add", []))
        need = {"BPF", "PERFMON", "NET_ADMIN", "SYS_ADMIN"}
        require(need <= caps, f"not privileged and capabilities lack {sorted(need - caps)}")
        require(sc.get("allowPrivilegeEscalation") is not False or "SYS_ADMIN" not in caps,
                "allowPrivilegeEscalation: false with SYS_ADMIN is rejected by the API server")
    svc = docs["Service"][0]
    for k, v in svc["spec"]["selector"].items():
        require(labels.get(k) == v, "Service selector does not match the DaemonSet pods")
    port_names = {p.get("name") for p in svc["spec"]["ports"]}
    sm = docs["ServiceMonitor"][0]
    for k, v in sm["spec"]["selector"]["matchLabels"].items():
        require(svc["metadata"].get("labels", {}).get(k) == v, "ServiceMonitor does not select the Service")
    for ep in sm["spec"]["endpoints"]:
        require(ep.get("port") in port_names, f"ServiceMonitor endpoint port {ep.get('port')!r} not in Service")
    require(svc["metadata"]["name"] == "portwarden", "Service must be named portwarden (job label)")
    ns = docs["Namespace"][0]["metadata"]["name"]
    for kind, xs in docs.items():
        for x in xs:
            if kind != "Namespace":
                require(x["metadata"].get("namespace") == ns, f"{kind} {x['metadata']['name']} not in {ns}")
    return f"{sum(len(v) for v in docs.values())} objects in {len(files)} files"


def parse_unit(path):
    sect, kv = None, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                sect = line.strip("[]")
                continue
            k, _, v = line.partition("=")
            kv.setdefault((sect, k.strip()), []).append(v.strip())
    return kv


def unit(path, binary="/usr/local/bin/portwarden"):
    kv = parse_unit(path)

    def one(k, sect="Service"):
        v = kv.get((sect, k))
        require(v, f"{os.path.basename(path)}: no {k}=")
        return v[-1]

    want_exec = (f"{binary} run --config /etc/portwarden/portwarden.conf "
                 "--db /var/lib/portwarden/history.db --events /var/log/portwarden/events.jsonl")
    require(one("ExecStart") == want_exec, f"ExecStart is {one('ExecStart')!r}")
    for k, v in (("Type", "simple"), ("Restart", "on-failure"), ("ProtectSystem", "strict"),
                 ("StateDirectory", "portwarden"), ("LogsDirectory", "portwarden"),
                 ("NoNewPrivileges", "yes"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                 ("LockPersonality", "yes"), ("MemoryDenyWriteExecute", "yes")):
        require(one(k) == v, f"{k}={one(k)!r}, want {v!r}")
    require(set(one("RestrictAddressFamilies").split()) ==
            {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}, "RestrictAddressFamilies")
    caps = set(one("CapabilityBoundingSet").split())
    want = {"CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE",
            "CAP_DAC_READ_SEARCH"}
    require(caps == want, f"CapabilityBoundingSet {sorted(caps)}, want {sorted(want)}")
    text = open(path).read()
    for cap in want:  # each capability explained in a comment
        require(re.search(rf"^#\s+{cap}\s", text, re.M), f"{cap} is not explained in a comment")
    return "ok"


def install_tree(destdir, prefix, with_bin):
    files = {
        f"{prefix}/lib/systemd/system/portwarden.service": 0o644,
        "/etc/portwarden/portwarden.conf.example": 0o644,
        f"{prefix}/share/man/man8/portwarden.8": 0o644,
        f"{prefix}/share/portwarden/prometheus/portwarden-rules.yml": 0o644,
        f"{prefix}/share/portwarden/grafana/portwarden-dashboard.json": 0o644,
        f"{prefix}/share/portwarden/RUNBOOK.md": 0o644,
    }
    if with_bin == "1":
        files[f"{prefix}/bin/portwarden"] = 0o755
    for rel, mode in files.items():
        p = destdir + rel
        require(os.path.isfile(p), f"missing {rel}")
        got = os.stat(p).st_mode & 0o777
        require(got == mode, f"{rel} has mode {got:o}, want {mode:o}")
    src = os.path.join(DEPLOY, "prometheus", "portwarden-rules.yml")
    require(open(src).read() == open(destdir + f"{prefix}/share/portwarden/prometheus/portwarden-rules.yml").read(),
            "installed rules differ from deploy/")
    unit(destdir + f"{prefix}/lib/systemd/system/portwarden.service", f"{prefix}/bin/portwarden")
    return f"{len(files)} files"


def main():
    checks = {"rules-meta": rules_meta, "dashboard": dashboard, "manifests": manifests,
              "unit": unit, "install-tree": install_tree}
    if len(sys.argv) < 2 or sys.argv[1] not in checks:
        print(f"usage: {sys.argv[0]} {'|'.join(checks)} [ARGS]")
        return 2
    try:
        msg = checks[sys.argv[1]](*sys.argv[2:])
    except CheckError as e:
        print(e)
        return 1
    except (OSError, ValueError, KeyError, TypeError, IndexError, yaml.YAMLError) as e:
        print(f"{type(e).__name__}: {e}")
        return 1
    print(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
