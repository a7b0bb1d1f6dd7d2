// A renderer for deploy/k8s without kubectl (not in Debian 12): it does what
// `kubectl kustomize` does for the kustomization fields deploy/k8s uses and
// nothing more, failing loudly on any other field:
//   namespace   set on every namespaced object (not on Namespace itself)
//   resources   YAML files (one or more documents each), in order
// Output: the objects, as parsed YAML. Run alone it prints the rendered YAML:
//   node tests/deploy/kustomize.mjs deploy/k8s
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import YAML from "yaml";

const kSupported = new Set(["apiVersion", "kind", "namespace", "resources"]);
// Cluster-scoped kinds that deploy/k8s may hold.
const kClusterScoped = new Set(["Namespace"]);

function parseAll(path) {
  const docs = YAML.parseAllDocuments(readFileSync(path, "utf8"), {
    prettyErrors: true,
    strict: true,
    uniqueKeys: true,
  });
  const objects = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      throw new Error(`${path}: ${doc.errors.map((e) => e.message).join("; ")}`);
    }
    const value = doc.toJS();
    if (value !== null) objects.push(value);
  }
  return objects;
}

export function render(dir) {
  const [k] = parseAll(join(dir, "kustomization.yaml"));
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization") {
    throw new Error(`${dir}/kustomization.yaml: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  }
  for (const key of Object.keys(k)) {
    if (!kSupported.has(key)) {
      throw new Error(`${dir}/kustomization.yaml: "${key}" is not supported by ` +
        `tests/deploy/kustomize.mjs (only ${[...kSupported].join(", ")})`);
    }
  }
  const objects = [];
  for (const resource of k.resources ?? []) {
    for (const object of parseAll(join(dir, resource))) {
      if (k.namespace && !kClusterScoped.has(object.kind)) {
        object.metadata = { ...object.metadata, namespace: k.namespace };
      }
      objects.push(object);
    }
  }
  return objects;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const objects = render(process.argv[2] ?? "deploy/k8s");
  process.stdout.write(objects.map((o) => YAML.stringify(o)).join("---\n"));
}
