// Validates a "helm template" render of helm/dcdir and asserts what the chart promises.
//
//   node check_render.mjs SCENARIO RENDERED.yaml
//
// 1. Every object is validated against its Kubernetes (kubernetes-models) or prometheus-operator
//    (@kubernetes-models/prometheus-operator) JSON schema; an unknown apiVersion/kind fails.
// 2. Assertions common to every scenario (probes, security context, ports, labels, checksum,
//    topology spread, shutdown), then the SCENARIO's own (default, external-redis,
//    redis-sentinel, monitoring, tls, custom-world).
// Exit 0 when all pass; otherwise prints every failure and exits 1.
// NODE_PATH must point at the node_modules installed by scripts/install-deploy-tools.sh.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const nodeModules = process.env.NODE_PATH;
if (!nodeModules) {
  console.error('NODE_PATH is not set (see tests/deploy/common.sh)');
  process.exit(2);
}
const requireTools = createRequire(path.resolve(nodeModules, 'noop.js'));
const YAML = requireTools('yaml');
const here = path.dirname(fileURLToPath(import.meta.url));
const chartDir = path.resolve(here, '../../helm/dcdir');

const [scenario, renderedFile] = process.argv.slice(2);
if (!scenario || !renderedFile) {
  console.error('usage: check_render.mjs SCENARIO RENDERED.yaml');
  process.exit(2);
}

const failures = [];
function check(cond, what) {
  if (!cond) failures.push(what);
  return cond;
}
// JSON with object keys sorted, so equality does not depend on key order.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
const clip = (s) => (s !== undefined && s.length > 300 ? `${s.slice(0, 300)}...` : s);
function eq(actual, expected, what) {
  const a = canonical(actual);
  const e = canonical(expected);
  return check(a === e, `${what}: expected ${clip(e)}, got ${clip(a)}`);
}

// ---------------------------------------------------------------- parse + schema validation
// YAML 1.1, as Kubernetes reads it (0440 is octal).
const docs = YAML.parseAllDocuments(fs.readFileSync(renderedFile, 'utf8'), { version: '1.1' })
  .map((d) => {
    if (d.errors.length) failures.push(`YAML error: ${d.errors[0].message}`);
    return d.toJS();
  })
  .filter((o) => o !== null && o !== undefined);

async function modelFor(apiVersion, kind) {
  let file;
  if (apiVersion.startsWith('monitoring.coreos.com/')) {
    file = path.join(nodeModules, '@kubernetes-models/prometheus-operator', apiVersion, `${kind}.js`);
  } else {
    const dir = apiVersion.includes('/') ? apiVersion : apiVersion; // core group: "v1"
    file = path.join(nodeModules, 'kubernetes-models', dir, `${kind}.js`);
  }
  if (!fs.existsSync(file)) return null;
  const mod = await import(pathToFileURL(file).href);
  return mod[kind];
}

for (const obj of docs) {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const Model = await modelFor(obj.apiVersion ?? '', obj.kind ?? '');
  if (!check(Model, `${id}: no schema for ${obj.apiVersion} ${obj.kind}`)) continue;
  try {
    new Model(obj).validate();
  } catch (e) {
    failures.push(`${id}: schema: ${e.message}`);
  }
}

// ---------------------------------------------------------------- helpers
const byKind = (kind) => docs.filter((o) => o.kind === kind);
const one = (kind, name) => {
  const found = docs.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  check(found.length === 1, `expected exactly one ${kind}${name ? '/' + name : ''}, found ${found.length}`);
  return found[0];
};
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v) &&
  Object.keys(selector ?? {}).length > 0;
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const argValue = (args, flag) => {
  const a = args.find((x) => x.startsWith(`--${flag}=`));
  return a === undefined ? undefined : a.slice(flag.length + 3);
};

const deployment = one('Deployment', 'dcdir');
if (failures.length && !deployment) {
  console.error(failures.join('\n'));
  process.exit(1);
}
const pod = deployment.spec.template.spec;
const container = pod.containers.find((c) => c.name === 'dcdir');
const args = container.args;
const podLabels = deployment.spec.template.metadata.labels;

// ---------------------------------------------------------------- labels
const required = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by',
  'app.kubernetes.io/part-of', 'app.kubernetes.io/version', 'helm.sh/chart'];
for (const obj of docs) {
  for (const l of required) {
    check(obj.metadata.labels?.[l], `${obj.kind}/${obj.metadata.name}: missing label ${l}`);
  }
  eq(obj.metadata.labels?.['app.kubernetes.io/name'], 'dcdir', `${obj.kind}/${obj.metadata.name} name label`);
  eq(obj.metadata.labels?.['app.kubernetes.io/part-of'], 'dcdir', `${obj.kind}/${obj.metadata.name} part-of label`);
}
eq(deployment.spec.selector.matchLabels, {
  'app.kubernetes.io/name': 'dcdir',
  'app.kubernetes.io/instance': 'dcdir',
  'app.kubernetes.io/component': 'server',
}, 'Deployment selector');
check(matches(deployment.spec.selector.matchLabels, podLabels), 'Deployment selector does not match its pod labels');

// ---------------------------------------------------------------- security context
function checkSecurity(owner, podSpec) {
  eq(podSpec.securityContext?.runAsNonRoot, true, `${owner} pod runAsNonRoot`);
  eq(podSpec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${owner} pod seccomp`);
  eq(podSpec.automountServiceAccountToken, false, `${owner} automountServiceAccountToken`);
  for (const c of [...(podSpec.initContainers ?? []), ...podSpec.containers]) {
    const sc = c.securityContext ?? {};
    const what = `${owner} container ${c.name}`;
    eq(sc.runAsNonRoot, true, `${what} runAsNonRoot`);
    eq(sc.readOnlyRootFilesystem, true, `${what} readOnlyRootFilesystem`);
    eq(sc.allowPrivilegeEscalation, false, `${what} allowPrivilegeEscalation`);
    eq(sc.capabilities?.drop, ['ALL'], `${what} capabilities.drop`);
    check(!sc.capabilities?.add, `${what} adds capabilities`);
    eq(sc.seccompProfile?.type, 'RuntimeDefault', `${what} seccomp`);
    check(sc.runAsUser === undefined || sc.runAsUser > 0, `${what} runAsUser is root`);
    check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory,
      `${what} lacks cpu/memory requests or a memory limit`);
  }
}
checkSecurity('Deployment/dcdir', pod);
for (const sts of byKind('StatefulSet')) checkSecurity(`StatefulSet/${sts.metadata.name}`, sts.spec.template.spec);

// ---------------------------------------------------------------- ports and Service
eq(container.ports.map((p) => [p.name, p.containerPort]), [['grpc', 50051], ['metrics', 9464]], 'container ports');
const service = one('Service', 'dcdir');
eq(service.spec.ports.map((p) => [p.name, p.port, p.targetPort]),
  [['grpc', 50051, 'grpc'], ['metrics', 9464, 'metrics']], 'Service ports');
check(matches(service.spec.selector, podLabels), 'Service selector does not match the dcdir pods');
eq(argValue(args, 'grpc_port'), '50051', '--grpc_port');
eq(argValue(args, 'metrics_port'), '9464', '--metrics_port');

// ---------------------------------------------------------------- probes
const tls = scenario === 'tls' || scenario === 'tls-require';
for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
  check(container[probe], `container has no ${probe}`);
}
// Every probe asks the gRPC port itself: readiness the whole server, startup and liveness the
// process (service dcdir.liveness). With TLS (kubelet's gRPC probes cannot do TLS) the binary's
// own --health_check runs as an exec probe against the same port.
if (!tls) {
  eq(container.readinessProbe?.grpc, { port: 50051 }, 'readinessProbe.grpc');
  eq(container.livenessProbe?.grpc, { port: 50051, service: 'dcdir.liveness' }, 'livenessProbe.grpc');
  eq(container.startupProbe?.grpc, { port: 50051, service: 'dcdir.liveness' }, 'startupProbe.grpc');
} else {
  // With tls.clientCA.require the port refuses clients without a certificate: the probe
  // presents the server's own key pair.
  const require = scenario === 'tls-require'
    ? ['--tls_key_file=/run/secrets/dcdir/tls/tls.key', '--tls_require_client_cert'] : [];
  const command = (mode) => ({ command: ['/usr/local/bin/dcdir-server', '--grpc_port=50051',
    '--tls_cert_file=/run/secrets/dcdir/tls/tls.crt', ...require, `--health_check=${mode}`] });
  eq(container.readinessProbe?.exec, command('ready'), 'TLS readinessProbe.exec');
  eq(container.livenessProbe?.exec, command('live'), 'TLS livenessProbe.exec');
  eq(container.startupProbe?.exec, command('live'), 'TLS startupProbe.exec');
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    check(!container[probe]?.httpGet && !container[probe]?.tcpSocket,
          `TLS ${probe} must ask the gRPC port's health service, not a TCP connect or /metrics`);
  }
}
check(container.livenessProbe?.failureThreshold >= 3, 'livenessProbe.failureThreshold < 3');

// ---------------------------------------------------------------- shutdown
const preStopSeconds = container.lifecycle?.preStop?.sleep?.seconds;
eq(preStopSeconds, 5, 'preStop sleep seconds');
eq(argValue(args, 'shutdown_grace'), '10s', '--shutdown_grace');
check(pod.terminationGracePeriodSeconds >= preStopSeconds + 10,
  `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} < preStop ${preStopSeconds} s + drain 10 s`);

// ---------------------------------------------------------------- placement
const spread = Object.fromEntries((pod.topologySpreadConstraints ?? []).map((t) => [t.topologyKey, t]));
for (const key of ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']) {
  if (check(spread[key], `no topologySpreadConstraint on ${key}`)) {
    eq(spread[key].maxSkew, 1, `${key} maxSkew`);
    check(matches(spread[key].labelSelector?.matchLabels, podLabels), `${key} spread selector does not match the pods`);
  }
}
eq(deployment.spec.strategy?.rollingUpdate?.maxUnavailable, 0, 'rollingUpdate.maxUnavailable');

// ---------------------------------------------------------------- config + checksum
eq(argValue(args, 'config'), '/etc/dcdir/world.yaml', '--config');
const configMount = container.volumeMounts.find((m) => m.name === 'config');
eq(configMount?.mountPath, '/etc/dcdir', 'config mountPath');
const configVolume = pod.volumes.find((v) => v.name === 'config');
const configMap = one('ConfigMap', configVolume?.configMap?.name);
const world = configMap?.data?.['world.yaml'];
check(typeof world === 'string' && world.length > 0, 'ConfigMap has no world.yaml');
eq(deployment.spec.template.metadata.annotations?.['checksum/config'], sha256(world ?? ''),
  'checksum/config annotation (sha256 of the ConfigMap world.yaml)');
const expectedWorld = scenario === 'custom-world'
  ? fs.readFileSync(path.join(here, 'testdata/custom-world.yaml'), 'utf8')
  : fs.readFileSync(path.join(chartDir, 'files/world.yaml'), 'utf8');
check(world === expectedWorld, `ConfigMap world.yaml differs from the expected ${scenario === 'custom-world' ? 'config.world' : 'files/world.yaml'}`);

// ---------------------------------------------------------------- auth token
eq(argValue(args, 'auth_token_file'), '/run/secrets/dcdir/auth/token', '--auth_token_file');
const authVolume = pod.volumes.find((v) => v.name === 'auth');
eq(container.volumeMounts.find((m) => m.name === 'auth')?.mountPath, '/run/secrets/dcdir/auth', 'auth mountPath');
eq(authVolume?.secret?.items, [{ key: 'token', path: 'token' }], 'auth Secret items');
eq(authVolume?.secret?.defaultMode, 0o440, 'auth Secret defaultMode (0440)');

// ---------------------------------------------------------------- always-on objects
const sa = one('ServiceAccount', 'dcdir');
eq(pod.serviceAccountName, sa?.metadata?.name, 'serviceAccountName');
const pdb = one('PodDisruptionBudget', 'dcdir');
eq(pdb?.spec?.maxUnavailable, 1, 'PDB maxUnavailable');
check(matches(pdb?.spec?.selector?.matchLabels, podLabels), 'PDB selector does not match the pods');
const netpol = one('NetworkPolicy', 'dcdir');
check(matches(netpol?.spec?.podSelector?.matchLabels, podLabels), 'NetworkPolicy does not select the pods');
eq(netpol?.spec?.ingress?.map((r) => r.ports.map((p) => p.port)), [['grpc'], ['metrics']], 'NetworkPolicy ports');

// ---------------------------------------------------------------- store
const redis = argValue(args, 'redis');
const sts = byKind('StatefulSet');
function checkInternalRedis(replicas) {
  const set = one('StatefulSet', 'dcdir-redis');
  if (!set) return;
  eq(set.spec.replicas, replicas, 'Redis StatefulSet replicas');
  eq(set.spec.template.spec.containers.map((c) => c.name), ['redis', 'sentinel'], 'Redis pod containers');
  const hosts = Array.from({ length: replicas }, (_, i) => `dcdir-redis-${i}.dcdir-redis-headless:26379`);
  eq(redis, `redis+sentinel://${hosts.join(',')}/dcdir`, '--redis (in-chart Sentinel)');
  const headless = one('Service', 'dcdir-redis-headless');
  eq(headless?.spec?.clusterIP, 'None', 'Redis headless Service clusterIP');
  eq(set.spec.serviceName, 'dcdir-redis-headless', 'StatefulSet serviceName');
  check(matches(headless?.spec?.selector, set.spec.template.metadata.labels), 'headless Service does not select Redis pods');
  const rnp = one('NetworkPolicy', 'dcdir-redis');
  const peers = rnp?.spec?.ingress?.[0]?.from ?? [];
  check(peers.length === 2 && peers.some((p) => matches(p.podSelector?.matchLabels, podLabels)),
    'Redis NetworkPolicy must admit exactly the dcdir pods and the Redis pods');
  eq(argValue(args, 'redis_password_file'), '/run/secrets/dcdir/redis/password', '--redis_password_file');
  const init = set.spec.template.spec.initContainers?.[0];
  eq(init?.command, ['sh', '/scripts/init.sh'], 'Redis init container command');
}

// ---------------------------------------------------------------- scenarios
const expectReplicas = (n) => eq(deployment.spec.replicas, n, 'Deployment replicas');
const noKind = (kind) => eq(byKind(kind).length, 0, `number of ${kind} objects`);

switch (scenario) {
  case 'default':
  case 'custom-world':
    expectReplicas(3);
    checkInternalRedis(3);
    noKind('ServiceMonitor');
    noKind('PrometheusRule');
    noKind('HorizontalPodAutoscaler');
    noKind('Secret'); // the chart never generates secrets
    eq(authVolume?.secret?.secretName, 'dcdir-auth', 'auth Secret name');
    check(!args.some((a) => a.startsWith('--tls_')), 'TLS flags without tls.enabled');
    eq(argValue(args, 'audit_log'), undefined, '--audit_log when audit is off');
    // Tenant writes wait for a replica (auto: 1 behind Sentinel); the snapshot file survives a
    // container restart on its emptyDir.
    eq(argValue(args, 'redis_wait_replicas'), '-1', '--redis_wait_replicas');
    eq(argValue(args, 'redis_wait_timeout'), '500ms', '--redis_wait_timeout');
    eq(argValue(args, 'snapshot_file'), '/var/lib/dcdir/snapshot', '--snapshot_file');
    eq(argValue(args, 'snapshot_max_age'), '10m', '--snapshot_max_age');
    eq(container.volumeMounts.find((m) => m.name === 'snapshot')?.mountPath, '/var/lib/dcdir', 'snapshot mountPath');
    eq(pod.volumes.find((v) => v.name === 'snapshot')?.emptyDir, { sizeLimit: '64Mi' }, 'snapshot volume');
    {
      const script = one('ConfigMap', 'dcdir-redis-scripts')?.data?.['init.sh'] ?? '';
      check(script.includes('min-replicas-to-write 1'), 'init.sh: min-replicas-to-write 1');
      check(script.includes('min-replicas-max-lag 5'), 'init.sh: min-replicas-max-lag 5');
    }
    break;
  case 'external-redis': {
    eq(redis, 'redis+sentinel://sentinel-0.redis.example:26379,sentinel-1.redis.example:26379/dcdir', '--redis');
    eq(sts.length, 0, 'StatefulSets with an external Redis');
    eq(argValue(args, 'redis_password_file'), '/run/secrets/dcdir/redis/password', '--redis_password_file');
    eq(pod.volumes.find((v) => v.name === 'redis-password')?.secret?.secretName, 'shared-redis', 'Redis password Secret');
    // HPA on: the Deployment leaves replicas to it.
    eq(deployment.spec.replicas, undefined, 'Deployment replicas with HPA');
    const hpa = one('HorizontalPodAutoscaler', 'dcdir');
    eq([hpa?.spec?.minReplicas, hpa?.spec?.maxReplicas], [3, 12], 'HPA min/max');
    eq(hpa?.spec?.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      'HPA metrics');
    eq(hpa?.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'dcdir' }, 'HPA target');
    eq(authVolume?.secret?.secretName, 'dcdir-token', 'auth existingSecret');
    noKind('Secret');
    break;
  }
  case 'redis-sentinel': {
    expectReplicas(3);
    checkInternalRedis(5);
    const secret = one('Secret', 'dcdir-redis');
    eq(Buffer.from(secret?.data?.['redis-password'] ?? '', 'base64').toString(), 'ci-only-password',
      'chart-created Redis password Secret');
    const set = byKind('StatefulSet')[0];
    eq(set?.spec?.volumeClaimTemplates, undefined, 'volumeClaimTemplates with persistence off');
    eq(set?.spec?.template?.spec?.volumes?.find((v) => v.name === 'data')?.emptyDir?.sizeLimit, '1Gi', 'Redis data emptyDir');
    const script = one('ConfigMap', 'dcdir-redis-scripts')?.data?.['init.sh'] ?? '';
    check(script.includes('sentinel monitor ${MASTER_NAME} ${MASTER} ${REDIS_PORT} 3'), 'init.sh: sentinel quorum 3');
    check(script.includes('REPLICAS=5'), 'init.sh: REPLICAS=5');
    break;
  }
  case 'monitoring': {
    expectReplicas(3);
    const sm = one('ServiceMonitor', 'dcdir');
    eq(sm?.spec?.endpoints?.map((e) => [e.port, e.path]), [['metrics', '/metrics']], 'ServiceMonitor endpoints');
    check(matches(sm?.spec?.selector?.matchLabels, service.metadata.labels), 'ServiceMonitor does not select the Service');
    eq(sm?.metadata?.labels?.release, 'kube-prometheus-stack', 'ServiceMonitor extra label');
    // The rules select job="dcdir": the job label comes from the Service's name label.
    eq(sm?.spec?.jobLabel, 'app.kubernetes.io/name', 'ServiceMonitor jobLabel');
    eq(service.metadata.labels['app.kubernetes.io/name'], 'dcdir', 'Service name label (job)');
    const rule = one('PrometheusRule', 'dcdir');
    const fileGroups = YAML.parse(fs.readFileSync(path.join(chartDir, 'files/dcdir-rules.yaml'), 'utf8')).groups;
    eq(rule?.spec?.groups, fileGroups, 'PrometheusRule groups (files/dcdir-rules.yaml)');
    check(fileGroups.length > 0, 'files/dcdir-rules.yaml has no groups');
    eq(rule?.metadata?.labels?.release, 'kube-prometheus-stack', 'PrometheusRule extra label');
    eq(argValue(args, 'audit_log'), '-', '--audit_log to stdout');
    check(!pod.volumes.some((v) => v.name === 'audit'), 'audit volume with output=stdout');
    break;
  }
  case 'tls':
  case 'tls-require': {
    // tls.clientCA.enabled alone verifies certificates when presented; require refuses the rest.
    eq(args.includes('--tls_require_client_cert'), scenario === 'tls-require',
      '--tls_require_client_cert only with tls.clientCA.require');
    eq(argValue(args, 'tls_cert_file'), '/run/secrets/dcdir/tls/tls.crt', '--tls_cert_file');
    eq(argValue(args, 'tls_key_file'), '/run/secrets/dcdir/tls/tls.key', '--tls_key_file');
    eq(argValue(args, 'tls_client_ca_file'), '/run/secrets/dcdir/tls/ca.crt', '--tls_client_ca_file');
    eq(pod.volumes.find((v) => v.name === 'tls')?.secret?.secretName, 'dcdir-tls', 'TLS Secret');
    eq(service.spec.ports[0].appProtocol, 'grpcs', 'grpc appProtocol with TLS');
    eq(argValue(args, 'audit_log'), '/var/log/dcdir/audit.log', '--audit_log to a file');
    eq(container.volumeMounts.find((m) => m.name === 'audit')?.mountPath, '/var/log/dcdir', 'audit mountPath');
    eq(pod.volumes.find((v) => v.name === 'audit')?.emptyDir, { sizeLimit: '256Mi' }, 'audit volume');
    break;
  }
  default:
    failures.push(`unknown scenario ${scenario}`);
}

if (failures.length) {
  console.error(`${scenario}: ${failures.length} failure(s):\n  ` + failures.join('\n  '));
  process.exit(1);
}
console.log(`${scenario}: ${docs.length} objects valid, all assertions passed`);
