// Validates every object in the YAML files named on the command line against the Kubernetes API schemas (and the
// Prometheus operator's, for PrometheusRule), offline, with kubernetes-models. Kustomization files are not API objects
// and are skipped. Prints one JSON line per object: {file, kind, name, errors}.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

async function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const module = group === "monitoring.coreos.com"
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
    : `kubernetes-models/${group ? `${group}/` : ""}${version}/${kind}`;
  try {
    return (await import(module))[kind];
  } catch {
    return undefined;
  }
}

for (const file of process.argv.slice(2)) {
  for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
    const object = document.toJS();
    if (!object || object.kind === "Kustomization") continue;
    const result = { file, kind: object.kind, name: object.metadata?.name ?? null, errors: [] };
    const Model = object.apiVersion && object.kind ? await modelOf(object.apiVersion, object.kind) : undefined;
    if (!Model) {
      result.errors.push(`no schema for apiVersion ${object.apiVersion} kind ${object.kind}`);
    } else {
      try {
        new Model(object).validate();
      } catch (error) {
        result.errors.push(String(error.message ?? error));
      }
    }
    console.log(JSON.stringify(result));
  }
}
