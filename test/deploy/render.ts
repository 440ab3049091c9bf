// An overlay as `kubectl kustomize` renders it, for what these manifests use: resources (files and
// kustomizations), components, and configMapGenerator literals with their `behavior`, in kustomize's order;
// the label and image transformers change no name or setting the checks read. A kustomization using anything
// else (a patch, a name prefix) is a problem here, not passed over: checks of the files as written would pass
// whatever it did to the workloads. Then every ConfigMap and Secret the workloads name must be one there is.
import { posix } from 'node:path';
import { APP, at, isDoc, isObj, type Obj, objects, podSpecOf, type YamlFile } from './checks.ts';

export interface Rendered {
  /** Every object the overlay ships; a generated ConfigMap by its generator's name (kustomize adds a hash). */
  docs: Obj[];
  problems: string[];
}

const MODELLED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'configMapGenerator',
  'labels',
  'images',
]);
const MODELLED_GENERATOR = new Set(['name', 'behavior', 'literals']);

export function renderOverlay(files: YamlFile[], dir: string): Rendered {
  const rendered: Rendered = { docs: [], problems: [] };
  accumulate(files, dir, rendered);
  rendered.problems.push(...referenceProblems(rendered.docs));
  return rendered;
}

/** The first object of that kind (and name) the overlay ships. */
export function shipped(rendered: Rendered, kind: string, name?: string): Obj | undefined {
  return rendered.docs.find((d) => isDoc(d, kind, name));
}

/** The settings the sync's containers read from the overlay's ConfigMap. */
export function configOf(rendered: Rendered): Record<string, string> {
  const data = at(shipped(rendered, 'ConfigMap', APP.configMapName), 'data');
  return isObj(data) ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)])) : {};
}

// kustomize's order, checked against kubectl 1.32 (kustomize 5.5): a kustomization's resources, then its own
// generators, then its components, each of them in the same order, on what has been gathered so far.
function accumulate(files: YamlFile[], dir: string, out: Rendered): void {
  const path = `${dir}/kustomization.yaml`;
  const k = files.find((f) => f.path === path)?.docs[0];
  if (!k) {
    out.problems.push(`${path}: not found`);
    return;
  }
  for (const key of Object.keys(k)) {
    if (!MODELLED.has(key))
      out.problems.push(
        `${path}: "${key}" is not rendered by test/deploy/render.ts; extend it to check the result`,
      );
  }
  for (const entry of list(k.resources)) {
    const target = posix.normalize(`${dir}/${entry}`);
    const file = files.find((f) => f.path === target);
    if (file) out.docs.push(...structuredClone(file.docs));
    else accumulate(files, target, out);
  }
  for (const generator of objects(k.configMapGenerator)) generate(generator, path, out);
  for (const entry of list(k.components)) accumulate(files, posix.normalize(`${dir}/${entry}`), out);
}

function generate(g: Obj, path: string, out: Rendered): void {
  const name = String(g.name);
  const where = `${path}: configMapGenerator ${name}`;
  for (const key of Object.keys(g)) {
    if (!MODELLED_GENERATOR.has(key))
      out.problems.push(`${where}: "${key}" is not rendered by test/deploy/render.ts`);
  }
  const data = Object.fromEntries(
    list(g.literals).map((literal) => {
      const eq = String(literal).indexOf('=');
      return [
        String(literal).slice(0, eq).trim(),
        String(literal)
          .slice(eq + 1)
          .trim(),
      ];
    }),
  );
  const existing = shipped(out, 'ConfigMap', name);
  const behavior = g.behavior ?? 'create';
  if (behavior === 'create') {
    if (existing) out.problems.push(`${where} exists already: its behavior must be merge or replace`);
    else out.docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  } else if (behavior !== 'merge' && behavior !== 'replace') {
    out.problems.push(`${where}: behavior ${String(behavior)} is none of create, merge, replace`);
  } else if (!existing) {
    out.problems.push(`${where} does not exist yet: it cannot ${behavior}`);
  } else {
    existing.data = behavior === 'merge' ? { ...(isObj(existing.data) ? existing.data : {}), ...data } : data;
  }
}

/**
 * kustomize writes the generated name into a reference only when it names the generator exactly, and a pod
 * naming a ConfigMap that is not there never starts (CreateContainerConfigError). The Secret is the user's
 * own, by the one documented name.
 */
function referenceProblems(docs: Obj[]): string[] {
  const problems: string[] = [];
  const configMaps = new Map(
    docs.filter((d) => d.kind === 'ConfigMap').map((d) => [at(d, 'metadata.name'), d]),
  );
  for (const doc of docs) {
    const pod = podSpecOf(doc);
    if (!pod) continue;
    const where = `${String(doc.kind)}/${String(at(doc, 'metadata.name'))}`;
    const containers = [...objects(pod.containers), ...objects(pod.initContainers)];
    const refs = [
      ...containers.flatMap((c) => objects(c.envFrom)),
      ...containers.flatMap((c) => list(c.env).map((e) => at(e, 'valueFrom'))).filter(isObj),
      ...objects(pod.volumes),
    ];
    for (const ref of refs) {
      for (const field of ['configMapRef', 'configMapKeyRef', 'configMap']) {
        const target = at(ref, field);
        if (!isObj(target) || target.optional === true) continue;
        const configMap = configMaps.get(target.name);
        if (!configMap)
          problems.push(`${where}: ${field} names ConfigMap ${String(target.name)}, which is not rendered`);
        else if (
          field === 'configMapKeyRef' &&
          !Object.hasOwn(isObj(configMap.data) ? configMap.data : {}, String(target.key))
        )
          problems.push(
            `${where}: configMapKeyRef names key ${String(target.key)}, which ConfigMap ${String(target.name)} lacks`,
          );
      }
      for (const field of ['secretRef', 'secretKeyRef']) {
        const target = at(ref, field);
        if (isObj(target) && target.name !== APP.secretName)
          problems.push(
            `${where}: ${field} names Secret ${String(target.name)}, not ${APP.secretName}, the documented one`,
          );
      }
    }
  }
  return problems;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
