// Validates Kubernetes manifests without kubectl or a cluster, against the
// Kubernetes API's own definitions as two npm packages ship them:
//   - kubernetes-models: JSON-schema validators generated from the API's
//     OpenAPI document (types, required fields, formats, enums);
//   - @kubernetes/client-node: the generated models' field lists, which
//     make the check strict: a field the API does not define (a typo, a
//     wrong level of indentation) is an error, as with `kubectl apply
//     --validate=strict`, instead of being silently dropped.
// Then what this deployment relies on across objects: no namespace (the
// manifests go into any), Services select the StatefulSet's pods and
// target ports its containers name, probes ask /healthz on a named port,
// every volumeMount has a volume, and containers run as non-root on a
// read-only root file system.
//
// Usage: node k8s_manifests.mjs NODE_MODULES DIR_OR_FILE...
// Every *.yaml / *.yml file under each DIR, every document in each file.
// One line per finding; exit 1 if there is any, 0 if none.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, ...targets] = process.argv.slice(2);
if (!modules || targets.length === 0) {
    console.error("usage: node k8s_manifests.mjs NODE_MODULES DIR_OR_FILE...");
    process.exit(2);
}
const root = path.resolve(modules);
const require = createRequire(path.join(root, "noop.js"));
const YAML = require("yaml");
const fieldModels = await import(pathToFileURL(
    path.join(root, "@kubernetes/client-node/dist/gen/models/all.js")).href);

const findings = [];
const report = (where, msg) => findings.push(`${where}: ${msg}`);

function files(target) {
    if (fs.statSync(target).isDirectory()) {
        return fs.readdirSync(target).sort()
            .flatMap((name) => files(path.join(target, name)));
    }
    return /\.ya?ml$/.test(target) ? [target] : [];
}

// kubernetes-models: "apps/v1" + StatefulSet -> kubernetes-models/apps/v1/StatefulSet
function schemaModel(apiVersion, kind) {
    try {
        return require(`kubernetes-models/${apiVersion}/${kind}`)[kind];
    } catch {
        return null;
    }
}

// client-node's generated class for a kind: "apps/v1" StatefulSet -> V1StatefulSet
function fieldModel(apiVersion, kind) {
    const version = apiVersion.split("/").pop();
    return fieldModels[version.charAt(0).toUpperCase() + version.slice(1) + kind] ?? null;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Custom resources, which the API's own definitions do not know: each is
// checked against the fields (with their types) that its CRD defines and
// our manifests may use, strictly, so a typo still fails. Only
// cert-manager's ClusterIssuer (acme-clusterissuer.yaml, cert-manager.io/v1
// ACMEIssuer): to use another of its fields, add it here from the CRD.
const labelsType = "object";
const customKinds = {
    "cert-manager.io/v1 ClusterIssuer": {
        apiVersion: "string",
        kind: "string",
        metadata: { name: "string", labels: labelsType, annotations: labelsType },
        spec: {
            acme: {
                server: "string",
                email: "string",
                caBundle: "base64",
                skipTLSVerify: "boolean",
                privateKeySecretRef: { name: "string", key: "string" },
                externalAccountBinding: {
                    keyID: "string",
                    keySecretRef: { name: "string", key: "string" },
                },
                solvers: [{
                    selector: { dnsNames: ["string"], dnsZones: ["string"], matchLabels: labelsType },
                    http01: {
                        ingress: { class: "string", ingressClassName: "string", name: "string", serviceType: "string" },
                    },
                }],
            },
        },
    },
};
const customRequired = {
    "cert-manager.io/v1 ClusterIssuer": ["metadata.name", "spec.acme.server", "spec.acme.privateKeySecretRef.name", "spec.acme.solvers"],
};

// value against a customKinds shape: known fields, their types, nothing else
function shape(value, type, where, label) {
    if (Array.isArray(type)) {
        if (!Array.isArray(value)) {
            report(label, `${where} must be an array`);
            return;
        }
        value.forEach((v, i) => shape(v, type[0], `${where}[${i}]`, label));
    } else if (isObject(type)) {
        if (!isObject(value)) {
            report(label, `${where} must be an object`);
            return;
        }
        for (const k of Object.keys(value)) {
            if (!(k in type)) {
                report(label, `${where}.${k}: unknown field: ${where || "the object"} has no "${k}"`);
            } else {
                shape(value[k], type[k], `${where}.${k}`, label);
            }
        }
    } else if (type === "base64") {
        if (typeof value !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
            report(label, `${where} must be base64`);
        }
    } else if (typeof value !== type) {
        report(label, `${where} must be ${type}`);
    }
}

// Every key of value must be a field of type (a client-node model name or
// one of its container forms); primitives are kubernetes-models' to check.
function strict(value, type, where) {
    if (value === null || value === undefined) {
        return;
    }
    let m = /^Array<(.+)>$/.exec(type);
    if (m) {
        if (Array.isArray(value)) {
            value.forEach((v, i) => strict(v, m[1], `${where}[${i}]`));
        }
        return;
    }
    m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (m) {
        if (isObject(value)) {
            for (const [k, v] of Object.entries(value)) {
                strict(v, m[1], `${where}.${k}`);
            }
        }
        return;
    }
    const model = fieldModels[type];
    if (typeof model?.getAttributeTypeMap !== "function" || !isObject(value)) {
        return;
    }
    const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
    for (const [k, v] of Object.entries(value)) {
        if (!fields.has(k)) {
            report(`${where}.${k}`, `unknown field: ${type} has no "${k}"`);
        } else {
            strict(v, fields.get(k), `${where}.${k}`);
        }
    }
}

const objects = []; // { where, doc }
let documents = 0;
for (const target of targets) {
    for (const file of files(target)) {
        const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), {
            uniqueKeys: true, strict: true, prettyErrors: true,
        });
        docs.forEach((d, i) => {
            const where = `${file}#${i + 1}`;
            for (const e of [...d.errors, ...d.warnings]) {
                report(where, `YAML: ${e.message.split("\n")[0]}`);
            }
            if (d.errors.length) {
                return;
            }
            const doc = d.toJS();
            if (doc === null) {
                return; // an empty document, e.g. after a trailing ---
            }
            documents++;
            if (!isObject(doc) || typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
                report(where, "not a Kubernetes object (apiVersion and kind)");
                return;
            }
            const label = `${where} ${doc.kind}/${doc.metadata?.name ?? "?"}`;
            const custom = customKinds[`${doc.apiVersion} ${doc.kind}`];
            if (custom) {
                shape(doc, custom, "", label);
                for (const req of customRequired[`${doc.apiVersion} ${doc.kind}`]) {
                    if (req.split(".").reduce((v, k) => v?.[k], doc) === undefined) {
                        report(label, `must have required property ${req}`);
                    }
                }
                if (doc.metadata?.namespace !== undefined) {
                    report(label, "metadata.namespace: the manifests are namespace-less; kubectl -n picks it");
                }
                objects.push({ where: label, doc }); // no cross-object check uses it
                return;
            }
            const Model = schemaModel(doc.apiVersion, doc.kind);
            const fieldsOf = fieldModel(doc.apiVersion, doc.kind);
            if (!Model || !fieldsOf) {
                report(label, `unknown apiVersion/kind: ${doc.apiVersion} ${doc.kind}`);
                return;
            }
            try {
                new Model(doc).validate();
            } catch (e) {
                for (const line of String(e.message).split("\n")) {
                    report(label, `schema: ${line.replace(/^data/, "")}`);
                }
            }
            const typeName = Object.keys(fieldModels).find((k) => fieldModels[k] === fieldsOf);
            strict(doc, typeName, label);
            if (doc.metadata?.namespace !== undefined) {
                report(label, "metadata.namespace: the manifests are namespace-less; kubectl -n picks it");
            }
            objects.push({ where: label, doc });
        });
    }
}

// Across objects: what the StatefulSet, its Services and probes agree on.
const sets = objects.filter((o) => o.doc.kind === "StatefulSet");
for (const { where, doc } of sets) {
    const pod = doc.spec?.template?.spec ?? {};
    const labels = doc.spec?.template?.metadata?.labels ?? {};
    const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
    const volumes = new Set([
        ...(pod.volumes ?? []).map((v) => v.name),
        ...(doc.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name),
    ]);
    const ports = new Set((pod.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    const numbers = new Set((pod.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)));
    for (const [k, v] of Object.entries(doc.spec?.selector?.matchLabels ?? {})) {
        if (labels[k] !== v) {
            report(where, `spec.selector: the pod template lacks the label ${k}=${v}`);
        }
    }
    for (const c of containers) {
        const sc = { ...pod.securityContext, ...c.securityContext };
        if (sc.runAsNonRoot !== true) {
            report(where, `container ${c.name}: runAsNonRoot must be true`);
        }
        if (c.securityContext?.readOnlyRootFilesystem !== true) {
            report(where, `container ${c.name}: readOnlyRootFilesystem must be true`);
        }
        for (const m of c.volumeMounts ?? []) {
            if (!volumes.has(m.name)) {
                report(where, `container ${c.name}: volumeMount ${m.name} has no volume`);
            }
        }
    }
    for (const c of pod.containers ?? []) {
        for (const probe of ["readinessProbe", "livenessProbe"]) {
            const get = c[probe]?.httpGet;
            if (!get) {
                report(where, `container ${c.name}: needs an httpGet ${probe}`);
            } else if (get.path !== "/healthz" || !(ports.has(get.port) || numbers.has(get.port))) {
                report(where, `container ${c.name}: ${probe} must ask /healthz on a container port`);
            }
        }
    }
    if (doc.spec?.replicas !== 1) {
        report(where, "spec.replicas must be 1: one holder of the key, one writer of warden.db");
    }
    for (const svc of objects.filter((o) => o.doc.kind === "Service")) {
        const sel = svc.doc.spec?.selector ?? {};
        if (!Object.keys(sel).length || Object.entries(sel).some(([k, v]) => labels[k] !== v)) {
            report(svc.where, "spec.selector does not select the StatefulSet's pods");
        }
        for (const p of svc.doc.spec?.ports ?? []) {
            const target = p.targetPort ?? p.port;
            if (!(ports.has(target) || numbers.has(target))) {
                report(svc.where, `targetPort ${target} is no container port of the StatefulSet`);
            }
        }
    }
}

if (documents === 0) {
    report(targets.join(" "), "no Kubernetes objects found");
}
if (findings.length) {
    console.log(findings.join("\n"));
    process.exit(1);
}
console.log(`k8s_manifests: ${documents} objects valid (${objects.map((o) => o.doc.kind).join(", ")})`);
