// The Kubernetes manifests in deploy/kubernetes: they parse, the kustomizations hold together, and the
// workloads run the app the way it needs (see test/deploy/checks.ts). The second half breaks the manifests
// on purpose, one thing at a time, to show every check can fail.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  APP,
  at,
  cronJobProblems,
  deploymentProblems,
  findDoc,
  isObj,
  kustomizationProblems,
  literalSecretProblems,
  loadYamlFiles,
  migrateJobProblems,
  type Obj,
  parseYaml,
  secretExampleProblems,
  secretKeysRead,
  type YamlFile,
} from './checks.ts';
import { configOf, type Rendered, renderOverlay, shipped } from './render.ts';

const ROOT = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const files = loadYamlFiles(ROOT);
// Each workload is checked as its overlay renders it, with that overlay's settings only.
const cronjobOverlay = renderOverlay(files, 'overlays/cronjob');
const schedulerOverlay = renderOverlay(files, 'overlays/scheduler');
const env = configOf(cronjobOverlay);
const schedulerEnv = configOf(schedulerOverlay);
const cronJob = shipped(cronjobOverlay, 'CronJob');
const migrateJob = shipped(cronjobOverlay, 'Job', 'wecom-chain-sync-migrate');
const deployment = shipped(schedulerOverlay, 'Deployment');
const services = schedulerOverlay.docs.filter((d) => d.kind === 'Service');

const namesOf = (rendered: Rendered) =>
  rendered.docs.map((d) => `${String(d.kind)}/${String(at(d, 'metadata.name'))}`);
const kinds = (names: string[]) => names.map((r) => r.split('/')[0]);

describe('deploy/kubernetes', () => {
  it('has the kustomize layout and the README', () => {
    for (const path of [
      'base/kustomization.yaml',
      APP.secretExample,
      'overlays/cronjob/kustomization.yaml',
      'overlays/scheduler/kustomization.yaml',
      'README.md',
    ]) {
      expect(existsSync(`${ROOT}${path}`), path).toBe(true);
    }
  });

  it('parses every YAML file, every document of it', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(files.flatMap((f) => f.errors)).toEqual([]);
    expect(files.filter((f) => f.docs.length === 0).map((f) => f.path)).toEqual([]);
  });

  it('parses multi-document files document by document', () => {
    const parsed = parseYaml('x.yaml', 'kind: A\n---\nkind: B\n---\n');
    expect(parsed.docs.map((d) => d.kind)).toEqual(['A', 'B']);
    expect(parseYaml('x.yaml', 'kind: A\n---\nkind: [B\n').errors).not.toEqual([]);
  });

  it('names only paths that exist in its kustomizations, and uses every manifest', () => {
    expect(kustomizationProblems(ROOT, files)).toEqual([]);
  });

  it('renders each overlay as kustomize does, every ConfigMap and Secret its workloads name resolved', () => {
    expect(cronjobOverlay.problems).toEqual([]);
    expect(schedulerOverlay.problems).toEqual([]);
  });

  it('ships the CronJob and the migrate Job in the cronjob overlay, and no Deployment', () => {
    const names = namesOf(cronjobOverlay);
    expect(names).toContain(`ConfigMap/${APP.configMapName}`);
    expect(names).toContain('CronJob/wecom-chain-sync');
    expect(names).toContain('Job/wecom-chain-sync-migrate');
    expect(kinds(names)).not.toContain('Deployment');
    expect(kinds(names)).not.toContain('Secret');
  });

  it('ships the Deployment and its Service in the scheduler overlay, and no CronJob', () => {
    const names = namesOf(schedulerOverlay);
    expect(names).toContain(`ConfigMap/${APP.configMapName}`);
    expect(kinds(names)).toContain('Deployment');
    expect(kinds(names)).toContain('Service');
    expect(kinds(names)).not.toContain('CronJob');
    expect(kinds(names)).not.toContain('Secret');
  });

  it('labels everything and lets users set the image', () => {
    const base = findDoc(files, 'Component') ?? findDoc(files, 'Kustomization');
    const labelled = [base?.labels, base?.commonLabels].flat().some(
      // labels: [{pairs: {...}}]; the older commonLabels: {...}. Label keys contain dots: no at() here.
      (l) =>
        isObj(l) &&
        ((isObj(l.pairs) && l.pairs['app.kubernetes.io/name'] === APP.name) ||
          l['app.kubernetes.io/name'] === APP.name),
    );
    expect(labelled, 'base sets the label app.kubernetes.io/name').toBe(true);
    const images = Array.isArray(base?.images) ? base.images : [];
    expect(images.some((i) => isObj(i) && i.name === APP.image && typeof i.newTag === 'string')).toBe(true);
  });

  it('has a CronJob that runs `run` once at a time, bounded, retried sensibly and hardened', () => {
    expect(cronJobProblems(cronJob, env)).toEqual([]);
  });

  it('has a migrate Job that runs `migrate` and cleans up after itself', () => {
    expect(migrateJobProblems(migrateJob)).toEqual([]);
  });

  it('has a scheduler Deployment: one replica, Recreate, probes on the metrics port', () => {
    expect(deploymentProblems(deployment, services, schedulerEnv)).toEqual([]);
  });

  it('keeps secrets out of the manifests', () => {
    expect(literalSecretProblems(files)).toEqual([]);
  });

  it('documents the Secret the workloads read, in an example that is never applied', () => {
    const keysRead = [cronJob, migrateJob, deployment].flatMap((w) => (w ? secretKeysRead(w) : []));
    expect(new Set(keysRead)).toEqual(new Set(APP.secretKeys));
    const example = files.find((f) => f.path === APP.secretExample)?.docs[0];
    expect(secretExampleProblems(example, keysRead)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------- the checks can fail

const CJ_POD = 'spec.jobTemplate.spec.template.spec';
const CJ = `${CJ_POD}.containers.0`;
const JOB_POD = 'spec.template.spec';
const JOB = `${JOB_POD}.containers.0`;
const DEP_POD = 'spec.template.spec';
const DEP = `${DEP_POD}.containers.0`;
const REMOVE = Symbol('remove');

/** A copy of the document with the value at the path replaced, or removed; the path must exist. */
function edited(doc: Obj | undefined, path: string, value: unknown): Obj {
  const copy = structuredClone(doc ?? {});
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  const parent = at(copy, keys.join('.'));
  if (!isObj(parent) && !Array.isArray(parent)) throw new Error(`no ${keys.join('.')} to edit`);
  const container = parent as Record<string, unknown>;
  if (value === REMOVE) {
    if (!(last in container)) throw new Error(`no ${path} to remove`);
    delete container[last];
  } else container[last] = value;
  return copy;
}

function envEntry(doc: Obj, containerPath: string, name: string): Obj {
  const entry = (at(doc, `${containerPath}.env`) as Obj[]).find((e) => e.name === name);
  if (!entry) throw new Error(`no env ${name}`);
  return entry;
}

function without(settings: Record<string, string>, name: string): Record<string, string> {
  const { [name]: _gone, ...rest } = settings;
  return rest;
}

function withEnv(doc: Obj | undefined, containerPath: string, name: string, value: string): Obj {
  const copy = structuredClone(doc ?? {});
  const list = at(copy, `${containerPath}.env`) as Obj[];
  const existing = list.find((e) => e.name === name);
  if (existing) {
    delete existing.valueFrom;
    existing.value = value;
  } else list.push({ name, value });
  return copy;
}

const secretRef = (key: string) => ({ secretKeyRef: { name: APP.secretName, key } });

type Case = [what: string, broken: () => string[], reported: string];

const cronJobCases: Case[] = [
  [
    'no concurrencyPolicy',
    () => cronJobProblems(edited(cronJob, 'spec.concurrencyPolicy', REMOVE), env),
    'concurrencyPolicy',
  ],
  [
    'concurrencyPolicy Allow',
    () => cronJobProblems(edited(cronJob, 'spec.concurrencyPolicy', 'Allow'), env),
    'concurrencyPolicy',
  ],
  [
    'concurrencyPolicy Replace',
    () => cronJobProblems(edited(cronJob, 'spec.concurrencyPolicy', 'Replace'), env),
    'concurrencyPolicy',
  ],
  [
    'no startingDeadlineSeconds',
    () => cronJobProblems(edited(cronJob, 'spec.startingDeadlineSeconds', REMOVE), env),
    'startingDeadlineSeconds',
  ],
  [
    'no successfulJobsHistoryLimit',
    () => cronJobProblems(edited(cronJob, 'spec.successfulJobsHistoryLimit', REMOVE), env),
    'successfulJobsHistoryLimit',
  ],
  [
    'no failedJobsHistoryLimit',
    () => cronJobProblems(edited(cronJob, 'spec.failedJobsHistoryLimit', REMOVE), env),
    'failedJobsHistoryLimit',
  ],
  ['no timeZone', () => cronJobProblems(edited(cronJob, 'spec.timeZone', REMOVE), env), 'timeZone'],
  [
    'a six-field schedule',
    () => cronJobProblems(edited(cronJob, 'spec.schedule', '0 7 * * * *'), env),
    'schedule',
  ],
  [
    'no backoffLimit',
    () => cronJobProblems(edited(cronJob, 'spec.jobTemplate.spec.backoffLimit', REMOVE), env),
    'backoffLimit',
  ],
  [
    'no activeDeadlineSeconds',
    () => cronJobProblems(edited(cronJob, 'spec.jobTemplate.spec.activeDeadlineSeconds', REMOVE), env),
    'activeDeadlineSeconds',
  ],
  [
    'no podFailurePolicy',
    () => cronJobProblems(edited(cronJob, 'spec.jobTemplate.spec.podFailurePolicy', REMOVE), env),
    'exit code 3 gets Count',
  ],
  [
    'exit 8 ignored (a replacement pod at once, in a loop)',
    () => {
      const copy = structuredClone(cronJob ?? {});
      const rules = at(copy, 'spec.jobTemplate.spec.podFailurePolicy.rules') as Obj[];
      rules.unshift({ action: 'Ignore', onExitCodes: { operator: 'In', values: [8] } });
      return cronJobProblems(copy, env);
    },
    'exit code 8 gets Ignore',
  ],
  [
    'a catch-all FailJob (no retry of transient failures)',
    () => {
      const copy = structuredClone(cronJob ?? {});
      const rules = at(copy, 'spec.jobTemplate.spec.podFailurePolicy.rules') as Obj[];
      rules.push({ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [0] } });
      return cronJobProblems(copy, env);
    },
    'exit code 5 gets FailJob',
  ],
  [
    'disruptions counted',
    () => {
      const copy = structuredClone(cronJob ?? {});
      const rules = at(copy, 'spec.jobTemplate.spec.podFailurePolicy.rules') as Obj[];
      rules.splice(0, rules.length, ...rules.filter((r) => r.onPodConditions === undefined));
      return cronJobProblems(copy, env);
    },
    'DisruptionTarget',
  ],
  [
    'restartPolicy OnFailure',
    () => cronJobProblems(edited(cronJob, `${CJ_POD}.restartPolicy`, 'OnFailure'), env),
    'restartPolicy',
  ],
  ['args schedule', () => cronJobProblems(edited(cronJob, `${CJ}.args`, ['schedule']), env), 'args'],
  ['no args', () => cronJobProblems(edited(cronJob, `${CJ}.args`, REMOVE), env), 'args'],
  ['a command', () => cronJobProblems(edited(cronJob, `${CJ}.command`, ['sh']), env), 'command'],
  [
    'no limits',
    () => cronJobProblems(edited(cronJob, `${CJ}.resources.limits`, REMOVE), env),
    'resources.limits.memory',
  ],
  [
    'no cpu request',
    () => cronJobProblems(edited(cronJob, `${CJ}.resources.requests.cpu`, REMOVE), env),
    'resources.requests.cpu',
  ],
  [
    'a 4Gi memory limit',
    () => cronJobProblems(edited(cronJob, `${CJ}.resources.limits.memory`, '4Gi'), env),
    'memory limit',
  ],
  [
    'request above limit',
    () => cronJobProblems(edited(cronJob, `${CJ}.resources.requests.cpu`, '2'), env),
    'cpu request',
  ],
  [
    'runAsNonRoot false',
    () => cronJobProblems(edited(cronJob, `${CJ_POD}.securityContext.runAsNonRoot`, false), env),
    'runAsNonRoot',
  ],
  [
    'runAsUser 0',
    () => cronJobProblems(edited(cronJob, `${CJ_POD}.securityContext.runAsUser`, 0), env),
    'runAsUser',
  ],
  [
    'container runAsUser 0 over the pod',
    () => cronJobProblems(edited(cronJob, `${CJ}.securityContext.runAsUser`, 0), env),
    'runAsUser',
  ],
  [
    'no seccompProfile',
    () => cronJobProblems(edited(cronJob, `${CJ_POD}.securityContext.seccompProfile`, REMOVE), env),
    'seccompProfile',
  ],
  [
    'writable root',
    () => cronJobProblems(edited(cronJob, `${CJ}.securityContext.readOnlyRootFilesystem`, false), env),
    'readOnlyRootFilesystem',
  ],
  [
    'no allowPrivilegeEscalation',
    () => cronJobProblems(edited(cronJob, `${CJ}.securityContext.allowPrivilegeEscalation`, REMOVE), env),
    'allowPrivilegeEscalation',
  ],
  [
    'capabilities kept',
    () => cronJobProblems(edited(cronJob, `${CJ}.securityContext.capabilities.drop`, []), env),
    'drop ALL',
  ],
  ['no /tmp', () => cronJobProblems(edited(cronJob, `${CJ}.volumeMounts`, []), env), '/tmp'],
  [
    '/tmp not an emptyDir',
    () => cronJobProblems(edited(cronJob, `${CJ_POD}.volumes.0.emptyDir`, REMOVE), env),
    '/tmp',
  ],
  ['no ConfigMap', () => cronJobProblems(edited(cronJob, `${CJ}.envFrom`, []), env), 'envFrom'],
  [
    'the corp secret as a literal',
    () => cronJobProblems(withEnv(cronJob, CJ, 'WECOM_CORP_SECRET', 'x'), env),
    'WECOM_CORP_SECRET',
  ],
  [
    'the database URL from another Secret',
    () => {
      const copy = structuredClone(cronJob ?? {});
      envEntry(copy, CJ, 'DATABASE_URL').valueFrom = { secretKeyRef: { name: 'other', key: 'DATABASE_URL' } };
      return cronJobProblems(copy, env);
    },
    'DATABASE_URL',
  ],
  [
    'a 20 s grace period',
    () => cronJobProblems(edited(cronJob, `${CJ_POD}.terminationGracePeriodSeconds`, 20), env),
    'terminationGracePeriodSeconds',
  ],
  [
    'no grace period',
    () => cronJobProblems(edited(cronJob, `${CJ_POD}.terminationGracePeriodSeconds`, REMOVE), env),
    'terminationGracePeriodSeconds',
  ],
  [
    'SHUTDOWN_TIMEOUT_MS 40000 in the env',
    () => cronJobProblems(withEnv(cronJob, CJ, 'SHUTDOWN_TIMEOUT_MS', '40000'), env),
    'SHUTDOWN_TIMEOUT_MS 40000',
  ],
  [
    'SHUTDOWN_TIMEOUT_MS 30000 in the ConfigMap',
    () => cronJobProblems(cronJob, { ...env, SHUTDOWN_TIMEOUT_MS: '30000' }),
    'SHUTDOWN_TIMEOUT_MS 30000',
  ],
];

const migrateCases: Case[] = [
  ['args run', () => migrateJobProblems(edited(migrateJob, `${JOB}.args`, ['run'])), 'args'],
  [
    'no ttlSecondsAfterFinished',
    () => migrateJobProblems(edited(migrateJob, 'spec.ttlSecondsAfterFinished', REMOVE)),
    'ttlSecondsAfterFinished',
  ],
  [
    'no backoffLimit',
    () => migrateJobProblems(edited(migrateJob, 'spec.backoffLimit', REMOVE)),
    'backoffLimit',
  ],
  [
    'no readOnlyRootFilesystem',
    () => migrateJobProblems(edited(migrateJob, `${JOB}.securityContext.readOnlyRootFilesystem`, REMOVE)),
    'readOnlyRootFilesystem',
  ],
  [
    'given the WeCom secret',
    () => {
      const copy = structuredClone(migrateJob ?? {});
      (at(copy, `${JOB}.env`) as Obj[]).push({
        name: 'WECOM_CORP_SECRET',
        valueFrom: secretRef('WECOM_CORP_SECRET'),
      });
      return migrateJobProblems(copy);
    },
    'WECOM_CORP_SECRET',
  ],
  [
    'no podFailurePolicy',
    () => migrateJobProblems(edited(migrateJob, 'spec.podFailurePolicy', REMOVE)),
    'bad configuration',
  ],
  [
    'reading the ConfigMap',
    () =>
      migrateJobProblems(
        edited(migrateJob, `${JOB}.envFrom`, [{ configMapRef: { name: APP.configMapName } }]),
      ),
    'pod template cannot change',
  ],
];

const deploymentCases: Case[] = [
  [
    'two replicas',
    () => deploymentProblems(edited(deployment, 'spec.replicas', 2), services, schedulerEnv),
    'replicas',
  ],
  [
    'no replicas (defaults to 1, but say it)',
    () => deploymentProblems(edited(deployment, 'spec.replicas', REMOVE), services, schedulerEnv),
    'replicas',
  ],
  [
    'RollingUpdate',
    () =>
      deploymentProblems(
        edited(deployment, 'spec.strategy', { type: 'RollingUpdate' }),
        services,
        schedulerEnv,
      ),
    'Recreate',
  ],
  [
    'no strategy (defaults to RollingUpdate)',
    () => deploymentProblems(edited(deployment, 'spec.strategy', REMOVE), services, schedulerEnv),
    'Recreate',
  ],
  [
    'args run',
    () => deploymentProblems(edited(deployment, `${DEP}.args`, ['run']), services, schedulerEnv),
    'args',
  ],
  [
    'liveness on /readyz',
    () =>
      deploymentProblems(
        edited(deployment, `${DEP}.livenessProbe.httpGet.path`, '/readyz'),
        services,
        schedulerEnv,
      ),
    'livenessProbe path',
  ],
  [
    'no readiness probe',
    () => deploymentProblems(edited(deployment, `${DEP}.readinessProbe`, REMOVE), services, schedulerEnv),
    'readinessProbe is not set',
  ],
  [
    'readiness on another port',
    () =>
      deploymentProblems(
        edited(deployment, `${DEP}.readinessProbe.httpGet.port`, 8080),
        services,
        schedulerEnv,
      ),
    'readinessProbe port',
  ],
  [
    'port not named metrics',
    () => deploymentProblems(edited(deployment, `${DEP}.ports.0.name`, 'http'), services, schedulerEnv),
    'named metrics',
  ],
  [
    'METRICS_PORT elsewhere',
    () => deploymentProblems(withEnv(deployment, DEP, 'METRICS_PORT', '9000'), services, schedulerEnv),
    'listens on 9000',
  ],
  [
    'no SYNC_CRON',
    () => deploymentProblems(deployment, services, without(schedulerEnv, 'SYNC_CRON')),
    'SYNC_CRON is not set',
  ],
  [
    'a bad SYNC_CRON',
    () => deploymentProblems(deployment, services, { ...schedulerEnv, SYNC_CRON: 'hourly' }),
    'SYNC_CRON',
  ],
  [
    'no SYNC_TZ',
    () => deploymentProblems(deployment, services, without(schedulerEnv, 'SYNC_TZ')),
    'SYNC_TZ is not set',
  ],
  [
    'the scheduler overlay without its schedule component',
    () => {
      const cut = withFirstDoc(SCHEDULER, (k) => ({ ...k, components: ['../../base'] }));
      return deploymentProblems(deployment, services, configOf(renderOverlay(cut, 'overlays/scheduler')));
    },
    'SYNC_CRON is not set',
  ],
  [
    'SYNC_TZ in the env, over the ConfigMap',
    () => deploymentProblems(withEnv(deployment, DEP, 'SYNC_TZ', 'UTC'), services, schedulerEnv),
    "SYNC_TZ is in env, overriding the ConfigMap's",
  ],
  [
    'a metrics Service without the pods that are not ready',
    () =>
      deploymentProblems(
        deployment,
        services.map((s) => edited(s, 'spec.publishNotReadyAddresses', REMOVE)),
        schedulerEnv,
      ),
    'no metrics in an outage',
  ],
  [
    'no scrape annotation',
    () =>
      deploymentProblems(
        edited(deployment, 'spec.template.metadata.annotations', {}),
        services,
        schedulerEnv,
      ),
    'prometheus.io/scrape',
  ],
  ['no Service', () => deploymentProblems(deployment, [], schedulerEnv), 'no Service'],
  [
    'Service on the wrong port',
    () =>
      deploymentProblems(
        deployment,
        services.map((s) => edited(s, 'spec.ports.0.targetPort', 80)),
        schedulerEnv,
      ),
    'metrics port',
  ],
  [
    'selector off the template',
    () =>
      deploymentProblems(
        edited(deployment, 'spec.selector.matchLabels', { app: 'other' }),
        services,
        schedulerEnv,
      ),
    'selector',
  ],
  [
    'capabilities kept',
    () =>
      deploymentProblems(
        edited(deployment, `${DEP}.securityContext.capabilities`, REMOVE),
        services,
        schedulerEnv,
      ),
    'drop ALL',
  ],
  [
    'a 20 s grace period',
    () =>
      deploymentProblems(
        edited(deployment, `${DEP_POD}.terminationGracePeriodSeconds`, 20),
        services,
        schedulerEnv,
      ),
    'terminationGracePeriodSeconds',
  ],
];

function withDoc(path: string, doc: Obj): YamlFile[] {
  return files.map((f) => (f.path === path ? { ...f, docs: [...f.docs, doc] } : f));
}

/** The files (these by default) with the first document of one replaced by what `edit` makes of a copy of it. */
function withFirstDoc(path: string, edit: (doc: Obj) => Obj, from = files): YamlFile[] {
  return from.map((f) =>
    f.path === path ? { ...f, docs: f.docs.map((d, i) => (i === 0 ? edit(structuredClone(d)) : d)) } : f,
  );
}

const fileCases: Case[] = [
  [
    'a resource that does not exist',
    () =>
      kustomizationProblems(
        ROOT,
        withFirstDoc('overlays/cronjob/kustomization.yaml', (k) => ({
          ...k,
          resources: [...(k.resources as string[]), 'nope.yaml'],
        })),
      ),
    '"nope.yaml" does not exist',
  ],
  [
    'a patch that does not exist',
    () =>
      kustomizationProblems(
        ROOT,
        withFirstDoc('overlays/scheduler/kustomization.yaml', (k) => ({
          ...k,
          patches: [{ path: 'gone.yaml' }],
        })),
      ),
    '"gone.yaml" does not exist',
  ],
  [
    'a file outside the kustomization (kustomize refuses it)',
    () =>
      kustomizationProblems(
        ROOT,
        withFirstDoc('overlays/scheduler/kustomization.yaml', (k) => ({
          ...k,
          resources: [...(k.resources as string[]), '../cronjob/cronjob.yaml'],
        })),
      ),
    'outside',
  ],
  [
    'the base as a resource instead of a component',
    () =>
      kustomizationProblems(
        ROOT,
        withFirstDoc('overlays/cronjob/kustomization.yaml', (k) => ({
          ...k,
          resources: [...(k.resources as string[]), '../../base'],
          components: [],
        })),
      ),
    'needs a Kustomization',
  ],
  [
    'an unused manifest',
    () =>
      kustomizationProblems(
        ROOT,
        withFirstDoc('overlays/cronjob/kustomization.yaml', (k) => ({
          ...k,
          resources: ['cronjob.yaml'],
        })),
      ),
    'migrate-job.yaml is not used',
  ],
  [
    'the example Secret applied',
    () =>
      kustomizationProblems(
        ROOT,
        withFirstDoc('overlays/cronjob/kustomization.yaml', (k) => ({
          ...k,
          resources: [...(k.resources as string[]), '../../base/secret.example.yaml'],
        })),
      ),
    'must never be applied',
  ],
  [
    'a Secret in a manifest',
    () =>
      literalSecretProblems(
        withDoc('overlays/cronjob/cronjob.yaml', { kind: 'Secret', metadata: { name: 'x' } }),
      ),
    'a Secret',
  ],
  [
    'a secret in a ConfigMap',
    () =>
      literalSecretProblems(
        withDoc('overlays/cronjob/cronjob.yaml', { kind: 'ConfigMap', data: { WECOM_CORP_SECRET: 'x' } }),
      ),
    'WECOM_CORP_SECRET',
  ],
  [
    'a literal DATABASE_URL in the generator',
    () =>
      literalSecretProblems(
        withFirstDoc('base/kustomization.yaml', (k) => {
          const literals = at(k, 'configMapGenerator.0.literals') as string[];
          literals.push('DATABASE_URL=postgres://u@db/x');
          return k;
        }),
      ),
    'DATABASE_URL=',
  ],
  [
    'a literal secret env value',
    () =>
      literalSecretProblems(
        files.map((f) =>
          f.path === 'overlays/cronjob/cronjob.yaml'
            ? { ...f, docs: [withEnv(cronJob, CJ, 'WECOM_CORP_SECRET', 'x')] }
            : f,
        ),
      ),
    'env WECOM_CORP_SECRET has a literal value',
  ],
  [
    'a password in a URL',
    () =>
      literalSecretProblems(
        withDoc('overlays/cronjob/cronjob.yaml', {
          kind: 'ConfigMap',
          data: { PUSHGATEWAY_URL: 'http://u:pw@push:9091' },
        }),
      ),
    'URL with a password',
  ],
  [
    'a secretGenerator with literals',
    () =>
      literalSecretProblems(
        withFirstDoc('base/kustomization.yaml', (k) => ({
          ...k,
          secretGenerator: [{ name: 's', literals: ['A=b'] }],
        })),
      ),
    'secretGenerator',
  ],
  [
    'an example Secret missing a key',
    () =>
      secretExampleProblems(
        edited(files.find((f) => f.path === APP.secretExample)?.docs[0], 'stringData.WECOM_CORP_ID', REMOVE),
        [...APP.secretKeys],
      ),
    'keys',
  ],
];

const SCHEDULER = 'overlays/scheduler/kustomization.yaml';
const SCHEDULE = 'overlays/scheduler/schedule/kustomization.yaml';
const CRONJOB_FILE = 'overlays/cronjob/cronjob.yaml';

const renderCases: Case[] = [
  [
    'a component merging into a ConfigMap without behavior: merge',
    () =>
      renderOverlay(
        withFirstDoc(SCHEDULE, (k) => edited(k, 'configMapGenerator.0.behavior', REMOVE)),
        'overlays/scheduler',
      ).problems,
    'exists already: its behavior must be merge or replace',
  ],
  [
    'the schedule component listed before the base',
    () =>
      renderOverlay(
        withFirstDoc(SCHEDULER, (k) => ({ ...k, components: ['schedule', '../../base'] })),
        'overlays/scheduler',
      ).problems,
    'does not exist yet: it cannot merge',
  ],
  [
    'a CronJob reading a ConfigMap name that is not rendered',
    () =>
      renderOverlay(
        withFirstDoc(CRONJOB_FILE, (d) =>
          edited(d, `${CJ}.envFrom.0.configMapRef.name`, 'wecom-chain-sync-configs'),
        ),
        'overlays/cronjob',
      ).problems,
    'names ConfigMap wecom-chain-sync-configs, which is not rendered',
  ],
  [
    'a CronJob reading another Secret',
    () =>
      renderOverlay(
        withFirstDoc(CRONJOB_FILE, (d) => {
          const entry = (at(d, `${CJ}.env`) as Obj[]).find((e) => at(e, 'valueFrom.secretKeyRef'));
          (at(entry, 'valueFrom.secretKeyRef') as Obj).name = 'wecom';
          return d;
        }),
        'overlays/cronjob',
      ).problems,
    'secretKeyRef names Secret wecom, not wecom-chain-sync',
  ],
  [
    'a patch in an overlay, which the checks would not see',
    () =>
      renderOverlay(
        withFirstDoc('overlays/cronjob/kustomization.yaml', (k) => ({
          ...k,
          patches: [
            {
              target: { kind: 'CronJob' },
              patch: '- op: replace\n  path: /spec/concurrencyPolicy\n  value: Replace',
            },
          ],
        })),
        'overlays/cronjob',
      ).problems,
    '"patches" is not rendered',
  ],
  [
    "the CronJob's shutdown timeout from its own overlay, not from the scheduler's",
    () => {
      const cut = withFirstDoc('base/kustomization.yaml', (k) => {
        const literals = at(k, 'configMapGenerator.0.literals') as string[];
        literals.splice(
          literals.findIndex((l) => l.startsWith('SHUTDOWN_TIMEOUT_MS=')),
          1,
          'SHUTDOWN_TIMEOUT_MS=40000',
        );
        return k;
      });
      const both = withFirstDoc(
        SCHEDULE,
        (k) => {
          (at(k, 'configMapGenerator.0.literals') as string[]).push('SHUTDOWN_TIMEOUT_MS=20000');
          return k;
        },
        cut,
      );
      const overlay = renderOverlay(both, 'overlays/cronjob');
      return cronJobProblems(shipped(overlay, 'CronJob'), configOf(overlay));
    },
    'SHUTDOWN_TIMEOUT_MS',
  ],
];

describe('the manifest checks catch', () => {
  it.each([...cronJobCases, ...migrateCases, ...deploymentCases, ...fileCases, ...renderCases])(
    '%s',
    (_what, broken, reported) => {
      const problems = broken();
      expect(
        problems.some((p) => p.includes(reported)),
        `${JSON.stringify(problems)} should mention "${reported}"`,
      ).toBe(true);
    },
  );
});
