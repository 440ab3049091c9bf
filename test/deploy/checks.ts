// Structural checks of the Kubernetes manifests in deploy/kubernetes. Each check returns the problems it
// finds as sentences, so a test can assert there are none, and can also show that a manifest broken on
// purpose makes the check report it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Obj = Record<string, unknown>;

export interface YamlFile {
  /** Path relative to the manifests' root, with forward slashes. */
  path: string;
  /** The non-empty documents of the file, in order. */
  docs: Obj[];
  /** Parse errors and warnings, and documents that are not mappings. */
  errors: string[];
}

/** What the app and the manifests agree on. */
export const APP = {
  name: 'wecom-chain-sync',
  image: 'wecom-chain-sync',
  secretName: 'wecom-chain-sync',
  configMapName: 'wecom-chain-sync-config',
  secretKeys: ['DATABASE_URL', 'WECOM_CORP_ID', 'WECOM_CORP_SECRET'],
  uid: 1000,
  /** The app's defaults (src/config.ts). */
  shutdownTimeoutMs: 25_000,
  metricsPort: 9464,
  timeZone: 'Asia/Shanghai',
  /** The exit codes the pod failure policies are about (src/cli/exit-codes.ts). */
  exit: { internal: 1, usage: 2, config: 3, refused: 4, database: 5, failed: 6, partial: 7, locked: 8 },
  secretExample: 'base/secret.example.yaml',
} as const;

// ---------------------------------------------------------------------------------------------- reading

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path ("spec.template.spec"), or undefined where any step is missing. */
export function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(key)) current = current[Number(key)];
    else if (isObj(current)) current = current[key];
    else return undefined;
  }
  return current;
}

export function objects(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter(isObj) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function yamlPathsUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) found.push(full);
    }
  };
  walk(root);
  return found.sort();
}

export function parseYaml(path: string, text: string): YamlFile {
  const file: YamlFile = { path, docs: [], errors: [] };
  parseAllDocuments(text).forEach((doc, i) => {
    for (const e of [...doc.errors, ...doc.warnings])
      file.errors.push(`${path} document ${i + 1}: ${e.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (isObj(value)) file.docs.push(value);
    else file.errors.push(`${path} document ${i + 1}: is not a mapping`);
  });
  return file;
}

export function loadYamlFiles(root: string): YamlFile[] {
  return yamlPathsUnder(root).map((full) =>
    parseYaml(relative(root, full).split(sep).join('/'), readFileSync(full, 'utf8')),
  );
}

/** Whether `doc` is of that kind (and name). */
export const isDoc = (doc: Obj, kind: string, name?: string): boolean =>
  doc.kind === kind && (name === undefined || at(doc, 'metadata.name') === name);

export function findDoc(files: YamlFile[], kind: string, name?: string): Obj | undefined {
  for (const f of files) {
    for (const d of f.docs) if (isDoc(d, kind, name)) return d;
  }
  return undefined;
}

// --------------------------------------------------------------------------------------- kustomizations

const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

function isKustomizationFile(path: string): boolean {
  return KUSTOMIZATION_NAMES.some((n) => path === n || path.endsWith(`/${n}`));
}

function isRemote(ref: string): boolean {
  return /^[a-z]+:\/\//.test(ref) || ref.startsWith('github.com/') || ref.startsWith('git@');
}

function kustomizationIn(dir: string): string | undefined {
  return KUSTOMIZATION_NAMES.map((n) => join(dir, n)).find((p) => existsSync(p));
}

interface Reference {
  /** The field it came from, for messages. */
  field: string;
  ref: string;
  /** Files must be inside the kustomization's directory (kustomize's default load restrictor). */
  mustBeFile: boolean;
  /** resources may be files or kustomization directories; components must be Component directories. */
  dirKind?: 'Kustomization' | 'Component';
}

function referencesOf(k: Obj): Reference[] {
  const refs: Reference[] = [];
  for (const r of strings(k.resources))
    refs.push({ field: 'resources', ref: r, mustBeFile: false, dirKind: 'Kustomization' });
  for (const c of strings(k.components))
    refs.push({ field: 'components', ref: c, mustBeFile: false, dirKind: 'Component' });
  for (const p of objects(k.patches)) {
    if (typeof p.path === 'string') refs.push({ field: 'patches', ref: p.path, mustBeFile: true });
  }
  for (const p of strings(k.patchesStrategicMerge)) {
    // An inline patch is YAML text, not a path.
    if (!p.includes('\n')) refs.push({ field: 'patchesStrategicMerge', ref: p, mustBeFile: true });
  }
  for (const p of objects(k.patchesJson6902)) {
    if (typeof p.path === 'string') refs.push({ field: 'patchesJson6902', ref: p.path, mustBeFile: true });
  }
  for (const field of ['configMapGenerator', 'secretGenerator'] as const) {
    for (const g of objects(k[field])) {
      for (const f of strings(g.files)) refs.push({ field, ref: f.replace(/^[^=]*=/, ''), mustBeFile: true });
      for (const f of strings(g.envs)) refs.push({ field, ref: f, mustBeFile: true });
      if (typeof g.env === 'string') refs.push({ field, ref: g.env, mustBeFile: true });
    }
  }
  return refs;
}

function kindOfKustomizationAt(file: string): unknown {
  const parsed = parseYaml(file, readFileSync(file, 'utf8'));
  return parsed.docs[0]?.kind ?? 'Kustomization';
}

/**
 * Every path a kustomization names exists, is of the right sort, and would be loaded by kustomize with its
 * default restrictions; every other manifest is used by some kustomization; the example Secret by none.
 */
export function kustomizationProblems(root: string, files: YamlFile[]): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  const kustomizations = files.filter((f) => isKustomizationFile(f.path));
  if (kustomizations.length === 0) problems.push('no kustomization.yaml found');
  for (const file of kustomizations) {
    const dir = dirname(join(root, file.path));
    const k = file.docs[0];
    if (!k) {
      problems.push(`${file.path}: empty`);
      continue;
    }
    if (!['Kustomization', 'Component'].includes(String(k.kind))) {
      problems.push(`${file.path}: kind is ${String(k.kind)}, not Kustomization or Component`);
    }
    if (typeof k.apiVersion !== 'string' || !k.apiVersion.startsWith('kustomize.config.k8s.io/')) {
      problems.push(`${file.path}: apiVersion ${String(k.apiVersion)} is not kustomize.config.k8s.io/*`);
    }
    for (const { field, ref, mustBeFile, dirKind } of referencesOf(k)) {
      if (isRemote(ref)) continue;
      const target = resolve(dir, ref);
      const where = `${file.path}: ${field} "${ref}"`;
      if (!existsSync(target)) {
        problems.push(`${where} does not exist`);
        continue;
      }
      if (statSync(target).isDirectory()) {
        const inner = kustomizationIn(target);
        if (mustBeFile || !inner) {
          problems.push(`${where} is a directory${inner ? '' : ' without a kustomization.yaml'}`);
          continue;
        }
        used.add(relative(root, inner).split(sep).join('/'));
        const kind = kindOfKustomizationAt(inner);
        if (kind !== dirKind) problems.push(`${where} is a ${String(kind)}, but ${field} needs a ${dirKind}`);
        continue;
      }
      if (field === 'components') problems.push(`${where} is a file; components must be directories`);
      if (relative(dir, target).startsWith('..')) {
        problems.push(`${where} is outside the kustomization's directory, which kustomize refuses to load`);
      }
      used.add(relative(root, target).split(sep).join('/'));
    }
  }
  for (const file of files) {
    if (isKustomizationFile(file.path)) continue;
    if (file.path === APP.secretExample) {
      if (used.has(file.path))
        problems.push(`${file.path} is listed by a kustomization: it must never be applied`);
    } else if (!used.has(file.path)) {
      problems.push(`${file.path} is not used by any kustomization`);
    }
  }
  return problems;
}

// --------------------------------------------------------------------------------------------- secrets

/** Environment-style names that hold secrets. Case matters: `automountServiceAccountToken` is no secret. */
const SECRET_NAME = /^(?:[A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY)[A-Z0-9_]*|DATABASE_URL)$/;
const URL_WITH_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i;

/** No manifest but the example carries a secret value: no Secret, no literal env value, no literal data. */
export function literalSecretProblems(files: YamlFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    if (file.path === APP.secretExample) continue;
    const walk = (value: unknown, where: string) => {
      if (typeof value === 'string') {
        const literal = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(value);
        if (literal?.[1] && SECRET_NAME.test(literal[1]))
          problems.push(`${where}: literal "${literal[1]}=..." in a manifest`);
        if (URL_WITH_PASSWORD.test(value)) problems.push(`${where}: a URL with a password in a manifest`);
        return;
      }
      if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) walk(v, `${where}[${i}]`);
        return;
      }
      if (!isObj(value)) return;
      if (value.kind === 'Secret')
        problems.push(`${where}: a Secret belongs in the cluster, not in the repository`);
      if (typeof value.name === 'string' && SECRET_NAME.test(value.name) && 'value' in value) {
        problems.push(`${where}: env ${value.name} has a literal value; use secretKeyRef`);
      }
      for (const [key, v] of Object.entries(value)) {
        if (SECRET_NAME.test(key) && (typeof v === 'string' || typeof v === 'number')) {
          problems.push(`${where}.${key}: a secret as a literal value`);
        }
        if (key === 'secretGenerator' && objects(v).some((g) => strings(g.literals).length > 0)) {
          problems.push(`${where}.secretGenerator: literals put secrets in the repository`);
        }
        walk(v, `${where}.${key}`);
      }
    };
    for (const [i, doc] of file.docs.entries()) walk(doc, `${file.path}#${i + 1}`);
  }
  return problems;
}

/** The example Secret is a Secret named as the workloads expect, with exactly the keys they read. */
export function secretExampleProblems(example: Obj | undefined, keysRead: string[]): string[] {
  if (!example) return [`${APP.secretExample} has no Secret`];
  const problems: string[] = [];
  if (example.kind !== 'Secret') problems.push(`${APP.secretExample}: kind is ${String(example.kind)}`);
  if (at(example, 'metadata.name') !== APP.secretName)
    problems.push(`${APP.secretExample}: name is not ${APP.secretName}`);
  const keys = Object.keys({
    ...(isObj(example.data) ? example.data : {}),
    ...(isObj(example.stringData) ? example.stringData : {}),
  });
  const want = [...new Set(keysRead)].sort();
  if (JSON.stringify(keys.sort()) !== JSON.stringify(want)) {
    problems.push(
      `${APP.secretExample}: keys ${keys.join(', ')} differ from those the workloads read: ${want.join(', ')}`,
    );
  }
  return problems;
}

// -------------------------------------------------------------------------------------------- workloads

export function podSpecOf(workload: Obj): Obj | undefined {
  const path = workload.kind === 'CronJob' ? 'spec.jobTemplate.spec.template.spec' : 'spec.template.spec';
  const spec = at(workload, path);
  return isObj(spec) ? spec : undefined;
}

export function mainContainer(pod: Obj | undefined): Obj | undefined {
  const containers = objects(pod?.containers);
  return containers.find((c) => c.name === APP.name) ?? containers[0];
}

/** The secret keys a workload's main container reads through secretKeyRef. */
export function secretKeysRead(workload: Obj): string[] {
  return objects(mainContainer(podSpecOf(workload))?.env)
    .filter((e) => at(e, 'valueFrom.secretKeyRef.name') === APP.secretName)
    .map((e) => String(at(e, 'valueFrom.secretKeyRef.key')));
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
};

export function bytes(quantity: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity ?? ''));
  return m?.[1] === undefined ? undefined : Number(m[1]) * (MEMORY_UNITS[m[2] ?? ''] ?? Number.NaN);
}

export function cores(quantity: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(String(quantity ?? ''));
  return m?.[1] === undefined ? undefined : Number(m[1]) / (m[2] ? 1000 : 1);
}

function isWholeNumber(value: unknown, min = 0): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

/** A container's literal env value, else the ConfigMap's, else undefined. */
export function envValue(
  container: Obj | undefined,
  name: string,
  env: Record<string, string>,
): string | undefined {
  const entry = objects(container?.env).find((e) => e.name === name);
  if (entry && 'value' in entry) return String(entry.value);
  return env[name];
}

interface PodExpectations {
  /** The accepted argument lists: the command, and any options it may take. */
  args: string[][];
  /** Secret keys the container must get from the Secret. */
  secretKeys: readonly string[];
  /** Secret keys the container must NOT get (least privilege). */
  forbiddenSecretKeys?: readonly string[];
  restartPolicies: readonly string[];
  /** The ConfigMap's settings, for a pod that reads them (envFrom); none for one that must not. */
  env: Record<string, string> | null;
}

/** What every pod of the app needs: command, resources, hardening, /tmp, configuration, shutdown time. */
export function podProblems(label: string, pod: Obj | undefined, want: PodExpectations): string[] {
  if (!pod) return [`${label}: no pod spec`];
  const problems: string[] = [];
  const p = (message: string) => problems.push(`${label}: ${message}`);
  const c = mainContainer(pod);
  if (!c) return [`${label}: no container`];

  if (!want.args.some((a) => JSON.stringify(a) === JSON.stringify(c.args)))
    p(`args are ${JSON.stringify(c.args)}, not ${want.args.map((a) => JSON.stringify(a)).join(' or ')}`);
  if (c.command !== undefined)
    p('sets command, which would replace the image entrypoint (node src/cli/main.ts)');
  if (typeof c.image !== 'string' || !c.image.startsWith(APP.image)) p(`image is ${String(c.image)}`);
  if (!want.restartPolicies.includes(String(pod.restartPolicy ?? 'Always')))
    p(`restartPolicy is ${String(pod.restartPolicy)}, not ${want.restartPolicies.join(' or ')}`);

  // Resources: requests and limits for both, memory limit around 256Mi, requests within limits.
  for (const kind of ['requests', 'limits'] as const) {
    for (const r of ['cpu', 'memory'] as const) {
      if (at(c, `resources.${kind}.${r}`) === undefined) p(`resources.${kind}.${r} is not set`);
    }
  }
  const memLimit = bytes(at(c, 'resources.limits.memory'));
  const memRequest = bytes(at(c, 'resources.requests.memory'));
  const cpuLimit = cores(at(c, 'resources.limits.cpu'));
  const cpuRequest = cores(at(c, 'resources.requests.cpu'));
  if (memLimit !== undefined && (memLimit < 128 * 2 ** 20 || memLimit > 512 * 2 ** 20))
    p(`memory limit ${String(at(c, 'resources.limits.memory'))} is outside 128Mi..512Mi`);
  if (memLimit !== undefined && memRequest !== undefined && memRequest > memLimit)
    p('memory request exceeds its limit');
  if (cpuLimit !== undefined && cpuRequest !== undefined && cpuRequest > cpuLimit)
    p('cpu request exceeds its limit');

  // Hardening: container settings win over the pod's.
  const effective = (key: string) => at(c, `securityContext.${key}`) ?? at(pod, `securityContext.${key}`);
  if (effective('runAsNonRoot') !== true) p('runAsNonRoot is not true');
  if (effective('runAsUser') !== APP.uid) p(`runAsUser is ${String(effective('runAsUser'))}, not ${APP.uid}`);
  if (at(effective('seccompProfile'), 'type') !== 'RuntimeDefault') p('seccompProfile is not RuntimeDefault');
  if (at(c, 'securityContext.allowPrivilegeEscalation') !== false) p('allowPrivilegeEscalation is not false');
  if (at(c, 'securityContext.readOnlyRootFilesystem') !== true) p('readOnlyRootFilesystem is not true');
  if (!strings(at(c, 'securityContext.capabilities.drop')).includes('ALL')) p('capabilities do not drop ALL');
  if (strings(at(c, 'securityContext.capabilities.add')).length > 0) p('capabilities add some');
  if (at(c, 'securityContext.privileged') === true) p('privileged');

  // A writable /tmp on an emptyDir, the only place the read-only root filesystem leaves to write.
  const tmp = objects(c.volumeMounts).find((m) => m.mountPath === '/tmp');
  const tmpVolume = objects(pod.volumes).find((v) => v.name === tmp?.name);
  if (!tmp || !isObj(tmpVolume?.emptyDir)) p('/tmp is not an emptyDir volume');

  // Configuration: the ConfigMap through envFrom, the secrets through secretKeyRef (or the whole Secret).
  const envFrom = objects(c.envFrom);
  const readsConfigMap = envFrom.some((e) => at(e, 'configMapRef.name') === APP.configMapName);
  if (want.env !== null && !readsConfigMap) p(`envFrom does not read the ConfigMap ${APP.configMapName}`);
  if (want.env === null && readsConfigMap)
    p(
      `reads the ConfigMap ${APP.configMapName}, whose generated name changes with every setting: a Job's pod ` +
        'template cannot change, so the next apply would fail',
    );
  const wholeSecret = envFrom.some((e) => at(e, 'secretRef.name') === APP.secretName);
  const env = objects(c.env);
  for (const key of want.secretKeys) {
    const entry = env.find((e) => e.name === key);
    const fromSecret =
      at(entry, 'valueFrom.secretKeyRef.name') === APP.secretName &&
      at(entry, 'valueFrom.secretKeyRef.key') === key;
    if (!fromSecret && !(wholeSecret && entry === undefined))
      p(`${key} does not come from the Secret ${APP.secretName} (secretKeyRef or envFrom secretRef)`);
  }
  for (const key of want.forbiddenSecretKeys ?? []) {
    if (wholeSecret || env.some((e) => e.name === key || at(e, 'valueFrom.secretKeyRef.key') === key))
      p(`gets ${key}, which it does not need`);
  }

  // Shutdown: Kubernetes must not SIGKILL the app before its own deadline has passed.
  const grace = pod.terminationGracePeriodSeconds;
  if (!isWholeNumber(grace, 1)) p('terminationGracePeriodSeconds is not set');
  else {
    const raw = envValue(c, 'SHUTDOWN_TIMEOUT_MS', want.env ?? {});
    const shutdownMs = raw === undefined ? APP.shutdownTimeoutMs : Number(raw);
    if (!(grace * 1000 > shutdownMs))
      p(
        `terminationGracePeriodSeconds ${grace} s does not exceed SHUTDOWN_TIMEOUT_MS ${String(raw ?? shutdownMs)} ms`,
      );
  }
  return problems;
}

/** What the Job's podFailurePolicy does with a container's exit code: the first matching rule decides. */
export function actionForExitCode(job: Obj | undefined, code: number): string {
  const container = mainContainer(at(job, 'template.spec') as Obj | undefined)?.name;
  for (const rule of objects(at(job, 'podFailurePolicy.rules'))) {
    const on = rule.onExitCodes;
    if (!isObj(on)) continue;
    if (on.containerName !== undefined && on.containerName !== container) continue;
    const values = Array.isArray(on.values) ? on.values : [];
    const matches = on.operator === 'NotIn' ? !values.includes(code) : values.includes(code);
    if (matches) return String(rule.action);
  }
  return 'Count';
}

function actionForPodCondition(job: Obj | undefined, type: string): string | undefined {
  const rule = objects(at(job, 'podFailurePolicy.rules')).find((r) =>
    objects(r.onPodConditions).some((c) => c.type === type && (c.status ?? 'True') === 'True'),
  );
  return rule ? String(rule.action) : undefined;
}

function cronFields(expr: unknown): number {
  return typeof expr === 'string' ? expr.trim().split(/\s+/).length : 0;
}

export function cronJobProblems(cronJob: Obj | undefined, env: Record<string, string>): string[] {
  if (!cronJob) return ['no CronJob'];
  const label = `CronJob ${String(at(cronJob, 'metadata.name'))}`;
  const problems: string[] = [];
  const p = (message: string) => problems.push(`${label}: ${message}`);
  const spec = isObj(cronJob.spec) ? cronJob.spec : {};
  if (spec.concurrencyPolicy !== 'Forbid')
    p(`concurrencyPolicy is ${String(spec.concurrencyPolicy)}, not Forbid`);
  if (!isWholeNumber(spec.startingDeadlineSeconds, 10)) p('startingDeadlineSeconds is not set (at least 10)');
  if (!isWholeNumber(spec.successfulJobsHistoryLimit)) p('successfulJobsHistoryLimit is not set');
  if (!isWholeNumber(spec.failedJobsHistoryLimit, 1)) p('failedJobsHistoryLimit is not set (at least 1)');
  if (spec.timeZone !== APP.timeZone) p(`timeZone is ${String(spec.timeZone)}, not ${APP.timeZone}`);
  if (cronFields(spec.schedule) !== 5)
    p(`schedule "${String(spec.schedule)}" is not a five-field cron expression`);
  if (spec.suspend === true) p('suspended');

  const job = at(spec, 'jobTemplate.spec') as Obj | undefined;
  if (!isWholeNumber(job?.backoffLimit)) p('jobTemplate backoffLimit is not set');
  if (!isWholeNumber(job?.activeDeadlineSeconds, 1)) p('jobTemplate activeDeadlineSeconds is not set');
  const x = APP.exit;
  for (const [code, want] of [
    [x.config, 'FailJob'],
    [x.refused, 'FailJob'],
    [x.usage, 'FailJob'],
    [x.locked, 'FailJob'],
    [x.internal, 'Count'],
    [x.database, 'Count'],
    [x.failed, 'Count'],
    [x.partial, 'Count'],
  ] as const) {
    const action = actionForExitCode(job, code);
    if (action !== want) p(`podFailurePolicy: exit code ${code} gets ${action}, not ${want}`);
  }
  if (actionForPodCondition(job, 'DisruptionTarget') !== 'Ignore')
    p('podFailurePolicy does not Ignore disruptions (DisruptionTarget)');

  problems.push(
    ...podProblems(label, podSpecOf(cronJob), {
      args: [['run']],
      secretKeys: APP.secretKeys,
      restartPolicies: ['Never'],
      env,
    }),
  );
  return problems;
}

export function migrateJobProblems(job: Obj | undefined): string[] {
  if (!job) return ['no migrate Job'];
  const label = `Job ${String(at(job, 'metadata.name'))}`;
  const problems: string[] = [];
  const p = (message: string) => problems.push(`${label}: ${message}`);
  const spec = isObj(job.spec) ? job.spec : {};
  if (!isWholeNumber(spec.ttlSecondsAfterFinished)) p('ttlSecondsAfterFinished is not set');
  if (!isWholeNumber(spec.backoffLimit)) p('backoffLimit is not set');
  if (!isWholeNumber(spec.activeDeadlineSeconds, 1)) p('activeDeadlineSeconds is not set');
  if (actionForExitCode(spec, APP.exit.config) !== 'FailJob')
    p('podFailurePolicy retries bad configuration (3)');
  if (actionForExitCode(spec, APP.exit.database) !== 'Count') p('podFailurePolicy does not retry exit 5');
  problems.push(
    ...podProblems(label, podSpecOf(job), {
      args: [['migrate']],
      secretKeys: ['DATABASE_URL'],
      forbiddenSecretKeys: ['WECOM_CORP_SECRET'],
      restartPolicies: ['Never'],
      // `migrate` reads only DATABASE_URL; the ConfigMap's hashed name would tie this Job to every setting.
      env: null,
    }),
  );
  return problems;
}

function probeProblems(
  label: string,
  probe: unknown,
  path: string,
  port: number,
  portName: unknown,
): string[] {
  if (!isObj(probe)) return [`${label} is not set`];
  const get = probe.httpGet;
  if (!isObj(get)) return [`${label} is not an httpGet probe`];
  const problems: string[] = [];
  if (get.path !== path) problems.push(`${label} path is ${String(get.path)}, not ${path}`);
  if (get.port !== port && (portName === undefined || get.port !== portName))
    problems.push(`${label} port is ${String(get.port)}, not the metrics port`);
  return problems;
}

function selects(selector: unknown, labels: unknown): boolean {
  if (!isObj(selector) || !isObj(labels) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function deploymentProblems(
  deployment: Obj | undefined,
  services: Obj[],
  env: Record<string, string>,
): string[] {
  if (!deployment) return ['no Deployment'];
  const label = `Deployment ${String(at(deployment, 'metadata.name'))}`;
  const problems: string[] = [];
  const p = (message: string) => problems.push(`${label}: ${message}`);
  const spec = isObj(deployment.spec) ? deployment.spec : {};
  if (spec.replicas !== 1) p(`replicas is ${String(spec.replicas)}, not 1`);
  if (at(spec, 'strategy.type') !== 'Recreate')
    p(`strategy is ${String(at(spec, 'strategy.type'))}, not Recreate`);
  if (at(spec, 'strategy.rollingUpdate') !== undefined) p('strategy has rollingUpdate settings');
  const podLabels = at(spec, 'template.metadata.labels');
  if (!selects(at(spec, 'selector.matchLabels'), podLabels))
    p("selector does not match the pod template's labels");

  const pod = podSpecOf(deployment);
  const c = mainContainer(pod);
  const metricsPort = Number(envValue(c, 'METRICS_PORT', env) ?? APP.metricsPort);
  const port = objects(c?.ports).find((x) => x.name === 'metrics');
  if (!port) p('no container port named metrics');
  else if (port.containerPort !== metricsPort)
    p(`container port metrics is ${String(port.containerPort)}, but the app listens on ${metricsPort}`);
  const portName = port ? 'metrics' : undefined;
  problems.push(
    ...probeProblems(`${label}: livenessProbe`, c?.livenessProbe, '/healthz', metricsPort, portName),
    ...probeProblems(`${label}: readinessProbe`, c?.readinessProbe, '/readyz', metricsPort, portName),
  );
  const cron = envValue(c, 'SYNC_CRON', env);
  if (cron === undefined) p('SYNC_CRON is not set');
  else if (![5, 6].includes(cronFields(cron))) p(`SYNC_CRON "${cron}" is not a cron expression`);
  if (envValue(c, 'SYNC_TZ', env) === undefined) p('SYNC_TZ is not set');
  // A setting in the container's env overrides the ConfigMap's: an overlay changing it there changes nothing.
  for (const name of ['SYNC_CRON', 'SYNC_TZ'])
    if (objects(c?.env).some((e) => e.name === name)) p(`${name} is in env, overriding the ConfigMap's`);

  // Annotation keys contain dots: index them directly, not through at().
  const annotations = at(spec, 'template.metadata.annotations');
  const annotation = (key: string) => (isObj(annotations) ? annotations[key] : undefined);
  if (annotation('prometheus.io/scrape') !== 'true') p('pod template lacks prometheus.io/scrape: "true"');
  if (annotation('prometheus.io/port') !== String(metricsPort))
    p(`prometheus.io/port is ${String(annotation('prometheus.io/port'))}, not ${metricsPort}`);

  const service = services.find((s) => selects(at(s, 'spec.selector'), podLabels));
  if (!service) p('no Service selects its pods');
  else if (at(service, 'spec.publishNotReadyAddresses') !== true)
    p(
      `Service ${String(at(service, 'metadata.name'))} drops the pod while not ready: no metrics in an outage`,
    );
  else if (
    !objects(at(service, 'spec.ports')).some(
      (sp) => sp.targetPort === 'metrics' || sp.targetPort === metricsPort,
    )
  )
    p(`Service ${String(at(service, 'metadata.name'))} does not target the metrics port`);

  problems.push(
    ...podProblems(label, pod, {
      args: [['schedule'], ['schedule', '--now']],
      secretKeys: APP.secretKeys,
      restartPolicies: ['Always'],
      env,
    }),
  );
  return problems;
}
