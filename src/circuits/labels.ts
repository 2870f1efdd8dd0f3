// Feature labels ("clerps") for graph nodes, from feature databases built with `loupe features build`: one
// database per transcoder layer, each feature labelled by its newest successful explanation.
import { InputError } from '../errors.js';
import { databaseInfo, openFeatureDb } from '../features/database.js';

/** "2=runs/feat-l2.duckdb" -> [2, path]. */
export function parseLabelSpec(spec: string, nLayers: number): [number, string] {
  const m = /^(\d+)=(.+)$/.exec(spec);
  if (!m) throw new InputError(`--labels expects LAYER=FEATURE_DB (e.g. 2=runs/features-l2.duckdb), got "${spec}"`);
  const layer = Number(m[1]);
  if (layer >= nLayers) throw new InputError(`--labels ${spec}: the model has layers 0-${nLayers - 1}`);
  return [layer, m[2]!];
}

/**
 * Labels of the given features by `${layer}:${feature}`. A database whose dictionary has another size than
 * the layer's transcoder is refused (it belongs to another dictionary).
 */
export async function loadLabels(dbs: ReadonlyMap<number, string>, wanted: ReadonlyMap<number, ReadonlySet<number>>, sizes: readonly number[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [layer, file] of dbs) {
    const features = wanted.get(layer);
    if (!features || features.size === 0) continue;
    const store = await openFeatureDb(file, { readOnly: true });
    try {
      const info = await databaseInfo(store);
      if (info.nFeatures !== sizes[layer]) {
        throw new InputError(`${file} describes a dictionary of ${info.nFeatures} features; layer ${layer}'s transcoder has ${sizes[layer]} (labels from another dictionary?)`);
      }
      const list = [...features];
      const rows = await store.all<{ feature: number; text: string }>(
        `SELECT feature, text FROM explanations WHERE status = 'ok' AND feature IN (${list.map(() => '?').join(',')}) ORDER BY id DESC`,
        list,
      );
      for (const r of rows) {
        const key = `${layer}:${Number(r.feature)}`;
        if (!out.has(key)) out.set(key, String(r.text));
      }
    } finally {
      store.close();
    }
  }
  return out;
}
