// Checks deploy/k8s without a cluster:
//   1. renders the kustomization (kustomize.mjs, same objects as
//      `kubectl kustomize` for what deploy/k8s uses; where kubectl is on the
//      PATH, its rendering is compared object by object with ours);
//   2. validates every object against the Kubernetes schemas of
//      kubernetes-models (pinned in package-lock.json): types, required
//      fields, formats. Those schemas allow unknown fields, so
//   3. checks what the suite relies on by name: each StatefulSet has a
//      governing headless Service, a PVC holding data_dir and checkpoint_dir,
//      probes on /readyz and /healthz of its admin port, resource requests,
//      the restricted pod security settings, a PodDisruptionBudget, and the
//      scrape annotations naming the admin port; Services and budgets select
//      pods; every file a flag names is mounted (Secret and ConfigMap keys
//      exist); peer addresses name Services and ports;
//   4. runs each built binary with its rendered flags (--config file) and
//      --help, so every flag name and value parses.
//   5. deploy/prometheus/prometheus-kubernetes.yml reads the annotations and
//      the labels that every pod carries (Debian's promtool has no
//      kubernetes_sd_configs to check it with).
// usage: node check_k8s.mjs <deploy/k8s> <build dir> <prometheus-kubernetes.yml>
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import YAML from "yaml";
import { render } from "./kustomize.mjs";

const [dir, buildDir, scrapeConfig] = process.argv.slice(2);
const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

const objects = render(dir);

// A copy of a parsed object with its keys in order (for comparison).
const sorted = (v) =>
  Array.isArray(v) ? v.map(sorted)
  : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])]))
  : v;

// 1. Where kubectl is installed (not a Debian package), its kustomize must
// produce the same objects as ours.
let kubectlOutput = null;
try {
  kubectlOutput = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
} catch (e) {
  if (e.code !== "ENOENT") fail("kubectl kustomize", String(e.stderr || e.message));
}
if (kubectlOutput !== null) {
  const before = problems.length;
  const key = (o) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
  const theirs = new Map(YAML.parseAllDocuments(kubectlOutput).map((d) => d.toJS()).filter(Boolean).map((o) => [key(o), o]));
  const ours = new Map(objects.map((o) => [key(o), o]));
  for (const k of new Set([...theirs.keys(), ...ours.keys()])) {
    if (!ours.has(k)) fail(k, "kubectl kustomize renders it, kustomize.mjs does not");
    else if (!theirs.has(k)) fail(k, "kustomize.mjs renders it, kubectl kustomize does not");
    else if (JSON.stringify(sorted(ours.get(k))) !== JSON.stringify(sorted(theirs.get(k)))) {
      fail(k, "kustomize.mjs and kubectl kustomize render it differently");
    }
  }
  if (problems.length === before) console.log(`deploy_k8s: kubectl kustomize renders the same ${theirs.size} objects`);
}
const byKind = (kind) => objects.filter((o) => o.kind === kind);
const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);

// 2. Schemas.
const seen = new Set();
for (const o of objects) {
  const id = `${o.kind}/${o.metadata?.name}`;
  if (seen.has(id)) fail(id, "defined twice");
  seen.add(id);
  let module;
  try {
    module = await import(`kubernetes-models/${o.apiVersion}`);
  } catch {
    fail(id, `unknown apiVersion ${o.apiVersion}`);
    continue;
  }
  const Model = module[o.kind];
  if (!Model) {
    fail(id, `unknown kind in ${o.apiVersion}`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    fail(id, `schema: ${e.message}`);
  }
}

const selects = (selector, labels) =>
  Object.entries(selector ?? {}).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const port = (address) => Number(address.slice(address.lastIndexOf(":") + 1));
// `name = value` lines of a --config file.
const parseConf = (text) =>
  Object.fromEntries(
    text.split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(/\s*=\s*/, 2)),
  );

// "<sts>-<i>.<headless Service>:port": a StatefulSet pod by its stable
// name, or null.
const shardOf = (entry) => {
  const m = /^([a-z0-9-]+)-(\d+)\.([a-z0-9-]+):\d+$/.exec(entry);
  const sts = m && find("StatefulSet", m[1]);
  return sts && sts.spec.serviceName === m[3] ? { sts: m[1], ordinal: Number(m[2]), service: m[3] } : null;
};
// Metrics shards each container's metrics_address lists.
const metricsShards = {};

const tmp = mkdtempSync(join(tmpdir(), "check_k8s-"));
try {
  for (const sts of byKind("StatefulSet")) {
    const id = `StatefulSet/${sts.metadata.name}`;
    const pod = sts.spec.template;
    const labels = pod.metadata.labels;
    if (!selects(sts.spec.selector.matchLabels, labels)) fail(id, "selector does not match its pods");
    const governing = find("Service", sts.spec.serviceName);
    if (governing?.spec.clusterIP !== "None" || !selects(governing.spec.selector, labels)) {
      fail(id, `serviceName ${sts.spec.serviceName} is not a headless Service selecting its pods`);
    }
    if (!byKind("PodDisruptionBudget").some((p) => selects(p.spec.selector.matchLabels, labels))) {
      fail(id, "no PodDisruptionBudget selects its pods");
    }
    const claims = (sts.spec.volumeClaimTemplates ?? []).map((c) => c.metadata.name);
    if (claims.length === 0) fail(id, "no volumeClaimTemplates (RocksDB needs a volume)");
    const sec = pod.spec.securityContext ?? {};
    if (sec.runAsNonRoot !== true || sec.seccompProfile?.type !== "RuntimeDefault") {
      fail(id, "pod must set runAsNonRoot and seccompProfile RuntimeDefault");
    }
    const volumes = Object.fromEntries((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    const ann = pod.metadata.annotations ?? {};

    for (const c of pod.spec.containers) {
      const cid = `${id} container ${c.name}`;
      const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      if (!ports.admin || !ports.grpc) fail(cid, "needs ports named grpc and admin");
      for (const [probe, path] of [["readinessProbe", "/readyz"], ["livenessProbe", "/healthz"], ["startupProbe", "/healthz"]]) {
        const get = c[probe]?.httpGet;
        if (get?.path !== path || get?.port !== "admin") fail(cid, `${probe} must GET ${path} on port admin`);
      }
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) fail(cid, "needs cpu and memory requests");
      const csec = c.securityContext ?? {};
      if (csec.allowPrivilegeEscalation !== false || !csec.capabilities?.drop?.includes("ALL") ||
          csec.readOnlyRootFilesystem !== true) {
        fail(cid, "needs allowPrivilegeEscalation false, readOnlyRootFilesystem, capabilities drop ALL");
      }
      if (ann["prometheus.io/scrape"] !== "true" || Number(ann["prometheus.io/port"]) !== ports.admin ||
          ann["prometheus.io/path"] !== "/metrics") {
        fail(id, "scrape annotations must name /metrics on the admin port");
      }

      // Where a path in the container comes from.
      const mountOf = (path) => (c.volumeMounts ?? [])
        .filter((m) => path === m.mountPath || path.startsWith(m.mountPath + "/"))
        .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      const itemOf = (path) => {
        const m = mountOf(path);
        const v = m && volumes[m.name];
        const rel = m && path.slice(m.mountPath.length + 1);
        const source = v?.configMap ? ["ConfigMap", v.configMap.name, "data"] :
          v?.secret ? ["Secret", v.secret.secretName, "stringData"] : null;
        if (!source) return null;
        // With items, only those are in the volume; without, every key.
        const items = (v.configMap ?? v.secret).items;
        const key = items ? items.find((i) => i.path === rel)?.key : rel;
        const object = find(source[0], source[1]);
        const data = object?.[source[2]] ?? object?.data;
        return data && key in data ? { kind: source[0], text: data[key] } : null;
      };

      const configArg = (c.args ?? []).find((a) => a.startsWith("--config="));
      const conf = configArg && itemOf(configArg.slice("--config=".length));
      if (conf?.kind !== "ConfigMap") {
        fail(cid, "--config must name a key of a mounted ConfigMap");
        continue;
      }
      const flags = parseConf(conf.text);
      if (port(flags.grpc_address ?? "") !== ports.grpc) fail(cid, "grpc_address port is not the grpc port");
      if (port(flags.admin_address ?? "") !== ports.admin) fail(cid, "admin_address port is not the admin port");
      for (const setting of ["data_dir", "checkpoint_dir"]) {
        const m = flags[setting] && mountOf(flags[setting]);
        if (!m || !claims.includes(m.name)) fail(cid, `${setting} is not on the PersistentVolumeClaim`);
      }
      if (mountOf(flags.data_dir ?? "")?.name !== mountOf(flags.checkpoint_dir ?? "")?.name) {
        fail(cid, "checkpoint_dir must share data_dir's volume (hard links)");
      }
      for (const [setting, value] of Object.entries(flags)) {
        if (setting.endsWith("_file") && !setting.startsWith("notifications")) {
          if (itemOf(value)?.kind !== "Secret") fail(cid, `${setting}=${value} is not a mounted Secret key`);
        }
        if (setting.endsWith("_address") && !value.startsWith("0.0.0.0:")) {
          // One address, or one per shard: pods <sts>-<i>.<headless Service>
          // of one StatefulSet, every ordinal once, in order.
          const entries = value.split(",").map((e) => e.trim());
          const shards = entries.map((e) => shardOf(e));
          entries.forEach((entry, i) => {
            const host = entry.slice(0, entry.lastIndexOf(":"));
            const svc = find("Service", shards[i]?.service ?? host);
            if (!svc?.spec.ports.some((p) => p.port === port(entry))) {
              fail(cid, `${setting}=${entry} is not a Service port`);
            }
          });
          if (entries.length > 1 || shards[0]) {
            const sts = shards[0] && find("StatefulSet", shards[0].sts);
            if (!sts || shards.some((sh, i) => sh?.sts !== shards[0].sts || sh.ordinal !== i) ||
                entries.length !== (sts.spec.replicas ?? 1)) {
              fail(cid, `${setting} must list ${shards[0]?.sts ?? "a StatefulSet"}'s pods 0..replicas-1 in order`);
            } else {
              metricsShards[c.name] = entries.length;
            }
          }
        }
      }
      if (flags.webhook_base_url && metricsShards[c.name] &&
          flags.webhook_base_url.split(",").length !== metricsShards[c.name]) {
        fail(cid, "webhook_base_url needs one URL per metrics shard, in metrics_address order");
      }
      // --shard=$(...)/N names the StatefulSet's replicas.
      const shardArg = (c.args ?? []).find((a) => a.startsWith("--shard="));
      if (shardArg && Number(shardArg.split("/")[1]) !== (sts.spec.replicas ?? 1)) {
        fail(cid, `${shardArg}: N must be the replicas (${sts.spec.replicas})`);
      }

      // 4. The binary accepts these flags.
      const program = basename(c.command[0]);
      const binary = join(buildDir, "services", program.replace(/^trainyard-/, ""), program);
      const confPath = join(tmp, `${c.name}.conf`);
      writeFileSync(confPath, conf.text);
      // $(VAR) from the container's env, as the kubelet expands it; a pod's
      // ordinal (downward API label apps.kubernetes.io/pod-index) as 0.
      const env = Object.fromEntries((c.env ?? []).map((e) => [
        e.name,
        e.value ?? (e.valueFrom?.fieldRef?.fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']" ? "0" : undefined),
      ]));
      const args = c.args.map((a) => (a === configArg ? `--config=${confPath}` :
        a.replace(/\$\((\w+)\)/g, (m, name) => env[name] ?? m)));
      try {
        execFileSync(binary, [...args, "--help"], { stdio: ["ignore", "ignore", "pipe"] });
        console.log(`flags: ${program} accepts ${Object.keys(flags).length} settings`);
      } catch (e) {
        fail(cid, `${binary} rejects its flags: ${e.stderr ?? e.message}`);
      }
    }
  }

  for (const svc of byKind("Service")) {
    const pods = byKind("StatefulSet").map((s) => s.spec.template)
      .filter((t) => selects(svc.spec.selector, t.metadata.labels));
    if (pods.length === 0) fail(`Service/${svc.metadata.name}`, "selects no pods");
    for (const p of svc.spec.ports) {
      if (!pods.every((t) => t.spec.containers.some((c) => c.ports.some((cp) => cp.name === p.targetPort)))) {
        fail(`Service/${svc.metadata.name}`, `targetPort ${p.targetPort} is not a named container port`);
      }
    }
  }
  for (const pdb of byKind("PodDisruptionBudget")) {
    if (!byKind("StatefulSet").some((s) => selects(pdb.spec.selector.matchLabels, s.spec.template.metadata.labels))) {
      fail(`PodDisruptionBudget/${pdb.metadata.name}`, "selects no pods");
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// 5. Prometheus's pod labels: __meta_kubernetes_pod_{annotation,label}_<name
// with every character that is not [a-zA-Z0-9_] as "_">.
const metaName = (name) => name.replace(/[^a-zA-Z0-9_]/g, "_");
const scrape = YAML.parse(readFileSync(scrapeConfig, "utf8"));
const job = scrape.scrape_configs.find((j) => j.job_name === "trainyard");
const read = (job?.relabel_configs ?? []).flatMap((r) => r.source_labels ?? []);
for (const sts of byKind("StatefulSet")) {
  const meta = sts.spec.template.metadata;
  for (const a of ["prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path"]) {
    if (!read.includes(`__meta_kubernetes_pod_annotation_${metaName(a)}`)) {
      fail(scrapeConfig, `job trainyard does not read pod annotation ${a}`);
    }
    if (!(a in (meta.annotations ?? {}))) fail(`StatefulSet/${sts.metadata.name}`, `no annotation ${a}`);
  }
  if (!meta.labels["trainyard.dev/service"] ||
      !read.includes(`__meta_kubernetes_pod_label_${metaName("trainyard.dev/service")}`)) {
    fail(`StatefulSet/${sts.metadata.name}`, "label trainyard.dev/service is not read as `service`");
  }
}
const namespace = byKind("StatefulSet")[0]?.metadata.namespace;
if (!job?.kubernetes_sd_configs?.some((sd) => sd.namespaces?.names?.includes(namespace))) {
  fail(scrapeConfig, `job trainyard does not discover pods in namespace ${namespace}`);
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`deploy/k8s: ${objects.length} objects valid (${[...seen].join(", ")})`);
