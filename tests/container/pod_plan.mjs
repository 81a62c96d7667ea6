// Turns a "helm template" render of helm/dcdir into the plan scripts/container-check.sh runs a
// container from: the one container of the dcdir Deployment, with what Kubernetes would give it.
//
//   node pod_plan.mjs RENDERED.yaml > plan.json
//
// Output (JSON): image, command (null: the image's entrypoint), args, env, uid, gid,
// supplementalGroups (fsGroup), runAsNonRoot, readOnlyRootFilesystem, capDrop, capAdd,
// noNewPrivileges, seccomp, memoryLimitBytes (null: none), cpuLimit (cores, null: none), ports
// [{name, containerPort}], probes {startup, readiness, liveness} (as rendered, or null),
// preStopSleepSeconds, terminationGracePeriodSeconds, replicas, mounts, world.
// mounts: [{name, mountPath, readOnly, type: "files"|"emptyDir", files: [{path, mode, base64}]
// (type files: a ConfigMap or Secret volume resolved from the objects of the same render, owned
// root:fsGroup like Kubernetes makes them), medium, sizeLimitBytes (emptyDir)}].
// world: the world config the container loads (the file --config names, parsed as YAML 1.2
// like the server's yaml-cpp), or null.
//
// Anything the plan cannot reproduce (another volume type, valueFrom env, a second container,
// an init container, a Secret or ConfigMap not in the render, an unknown container field) is an
// error (exit 1 with the reason), so a chart change cannot be silently left out of the check.
// The manifests are read as YAML 1.1, as Kubernetes reads them (defaultMode 0440 is octal).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const nodeModules = process.env.NODE_PATH;
if (!nodeModules) {
  console.error('pod_plan: NODE_PATH is not set (scripts/install-deploy-tools.sh installs yaml)');
  process.exit(2);
}
const YAML = createRequire(path.resolve(nodeModules, 'noop.js'))('yaml');

const renderedFile = process.argv[2];
if (!renderedFile) {
  console.error('usage: pod_plan.mjs RENDERED.yaml');
  process.exit(2);
}

function fail(message) {
  console.error(`pod_plan: ${message}`);
  process.exit(1);
}

const objects = YAML.parseAllDocuments(fs.readFileSync(renderedFile, 'utf8'), { version: '1.1' })
  .map((doc) => {
    if (doc.errors.length > 0) fail(`bad YAML in the render: ${doc.errors[0].message}`);
    return doc.toJS();
  })
  .filter((o) => o && o.kind);

const byKind = (kind) => objects.filter((o) => o.kind === kind);
const deployments = byKind('Deployment');
if (deployments.length !== 1) fail(`expected one Deployment in the render, found ${deployments.length}`);
const deployment = deployments[0];
const pod = deployment.spec.template.spec;

if ((pod.initContainers || []).length > 0) fail('init containers are not reproduced');
if (pod.containers.length !== 1) fail(`expected one container, found ${pod.containers.length}`);
const c = pod.containers[0];

const knownContainerKeys = new Set(['name', 'image', 'imagePullPolicy', 'command', 'args', 'env',
  'ports', 'startupProbe', 'readinessProbe', 'livenessProbe', 'lifecycle', 'resources',
  'securityContext', 'volumeMounts']);
for (const key of Object.keys(c)) {
  if (!knownContainerKeys.has(key)) fail(`container field "${key}" is not reproduced`);
}

// Kubernetes resource quantities: "256Mi", "16Mi", "1G", "500m" (cpu), plain numbers.
function quantity(q) {
  if (q === undefined || q === null) return null;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q));
  if (!m) fail(`cannot read the quantity "${q}"`);
  const units = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2,
    Gi: 1024 ** 3, Ti: 1024 ** 4 };
  if (!(m[2] in units)) fail(`unknown quantity unit in "${q}"`);
  return Number(m[1]) * units[m[2]];
}

// Container securityContext fields win over the pod's (Kubernetes' rule).
const podSc = pod.securityContext || {};
const sc = c.securityContext || {};
const knownSc = new Set(['runAsNonRoot', 'runAsUser', 'runAsGroup', 'allowPrivilegeEscalation',
  'readOnlyRootFilesystem', 'privileged', 'capabilities', 'seccompProfile']);
for (const key of Object.keys(sc)) {
  if (!knownSc.has(key)) fail(`container securityContext.${key} is not reproduced`);
}
const pick = (key) => (sc[key] !== undefined ? sc[key] : podSc[key]);
const uid = pick('runAsUser');
const gid = pick('runAsGroup');
if (uid === undefined || gid === undefined) fail('the chart sets no runAsUser/runAsGroup');
if (pick('runAsNonRoot') && uid === 0) fail('runAsNonRoot with runAsUser 0');
if (sc.privileged) fail('privileged containers are not reproduced');
const seccomp = (pick('seccompProfile') || {}).type || 'RuntimeDefault';
if (seccomp !== 'RuntimeDefault') fail(`seccompProfile ${seccomp} is not reproduced`);

const env = (c.env || []).map((e) => {
  if (e.valueFrom) fail(`env ${e.name} uses valueFrom, not reproduced`);
  return { name: e.name, value: String(e.value ?? '') };
});
if (pod.enableServiceLinks !== false) fail('enableServiceLinks is not false: service env vars are not reproduced');

// ---- volumes -------------------------------------------------------------------------------
function findObject(kind, name) {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) fail(`${kind} "${name}" is not in the render (existing objects are not reproduced)`);
  return o;
}
const fsGroup = podSc.fsGroup;

function filesOf(kind, name, items, defaultMode) {
  const o = findObject(kind, name);
  const data = {};
  for (const [k, v] of Object.entries(o.data || {})) {
    data[k] = kind === 'Secret' ? Buffer.from(String(v), 'base64') : Buffer.from(String(v), 'utf8');
  }
  for (const [k, v] of Object.entries(o.stringData || {})) data[k] = Buffer.from(String(v), 'utf8');
  const keys = items ? items.map((i) => ({ key: i.key, path: i.path, mode: i.mode }))
    : Object.keys(data).map((k) => ({ key: k, path: k }));
  return keys.map(({ key, path: p, mode }) => {
    if (!(key in data)) fail(`${kind} "${name}" has no key "${key}"`);
    return { path: p, mode: mode ?? defaultMode ?? 0o644, base64: data[key].toString('base64') };
  });
}

const volumes = new Map((pod.volumes || []).map((v) => [v.name, v]));
const mounts = (c.volumeMounts || []).map((m) => {
  const v = volumes.get(m.name);
  if (!v) fail(`volumeMount ${m.name} has no volume`);
  if (m.subPath) fail(`volumeMount ${m.name} uses subPath, not reproduced`);
  const base = { name: m.name, mountPath: m.mountPath, readOnly: Boolean(m.readOnly) };
  if (v.configMap) {
    return { ...base, type: 'files', files: filesOf('ConfigMap', v.configMap.name, v.configMap.items, v.configMap.defaultMode) };
  }
  if (v.secret) {
    return { ...base, type: 'files', files: filesOf('Secret', v.secret.secretName, v.secret.items, v.secret.defaultMode) };
  }
  if (v.emptyDir) {
    return { ...base, type: 'emptyDir', medium: v.emptyDir.medium || '', sizeLimitBytes: quantity(v.emptyDir.sizeLimit) };
  }
  fail(`volume ${m.name} (${Object.keys(v).filter((k) => k !== 'name').join(',')}) is not reproduced`);
  return null;
});

// ---- lifecycle and probes ------------------------------------------------------------------
let preStopSleepSeconds = 0;
const preStop = (c.lifecycle || {}).preStop;
if (preStop) {
  if (preStop.sleep) {
    preStopSleepSeconds = Number(preStop.sleep.seconds);
  } else if (preStop.exec && preStop.exec.command.length === 2 && /(^|\/)sleep$/.test(preStop.exec.command[0])) {
    preStopSleepSeconds = Number(preStop.exec.command[1]);
  } else {
    fail(`preStop ${JSON.stringify(preStop)} is not reproduced`);
  }
}
if (Object.keys(c.lifecycle || {}).some((k) => k !== 'preStop')) fail('lifecycle.postStart is not reproduced');

// The world config the server loads: the file --config names, inside a mounted volume.
const args = (c.args || []).map(String);
let world = null;
const configArg = args.find((a) => a.startsWith('--config='));
if (configArg) {
  const configPath = configArg.slice('--config='.length);
  for (const m of mounts) {
    if (m.type !== 'files' || !configPath.startsWith(`${m.mountPath.replace(/\/$/, '')}/`)) continue;
    const rel = configPath.slice(m.mountPath.replace(/\/$/, '').length + 1);
    const f = m.files.find((x) => x.path === rel);
    if (f) world = YAML.parse(Buffer.from(f.base64, 'base64').toString('utf8'));
  }
}

const limits = (c.resources || {}).limits || {};
const caps = sc.capabilities || {};
const plan = {
  deployment: deployment.metadata.name,
  replicas: deployment.spec.replicas ?? null,
  image: c.image,
  command: c.command ? c.command.map(String) : null,
  args,
  env,
  uid,
  gid,
  supplementalGroups: fsGroup !== undefined ? [fsGroup] : [],
  fsGroup: fsGroup ?? null,
  runAsNonRoot: Boolean(pick('runAsNonRoot')),
  readOnlyRootFilesystem: Boolean(sc.readOnlyRootFilesystem),
  capDrop: caps.drop || [],
  capAdd: caps.add || [],
  noNewPrivileges: sc.allowPrivilegeEscalation === false,
  seccomp,
  memoryLimitBytes: quantity(limits.memory),
  cpuLimit: quantity(limits.cpu),
  ports: (c.ports || []).map((p) => {
    if ((p.protocol || 'TCP') !== 'TCP') fail(`port ${p.name}: only TCP is reproduced`);
    return { name: p.name, containerPort: p.containerPort };
  }),
  probes: {
    startup: c.startupProbe || null,
    readiness: c.readinessProbe || null,
    liveness: c.livenessProbe || null,
  },
  preStopSleepSeconds,
  terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds ?? 30,
  mounts,
  world,
};
process.stdout.write(`${JSON.stringify(plan, null, 1)}\n`);
