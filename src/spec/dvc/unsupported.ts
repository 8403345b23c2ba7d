import { UserError } from '../../errors.js';
import { isPlainObject } from '../params.js';
import type { YamlSource } from '../yaml-source.js';

/** DVC features pipeline does not have, each with what to do instead; checked before the schema so the error names the feature. */
const unsupportedStageKeys: Record<string, string> = {
  live: "dvclive's `live:` section (DVC 2.x) is not supported: write the metrics with dvclive as usual and list its files under metrics: (e.g. - dvclive/metrics.json: { cache: false }) and its plots under plots:",
};

export function refuseUnsupportedDvc(source: YamlSource): void {
  const stages = isPlainObject(source.data) ? source.data.stages : undefined;
  if (!isPlainObject(stages)) return;
  for (const [name, stage] of Object.entries(stages)) {
    for (const [body, at] of [[stage, ['stages', name]], [isPlainObject(stage) ? stage.do : undefined, ['stages', name, 'do']]] as const) {
      if (!isPlainObject(body)) continue;
      for (const [key, why] of Object.entries(unsupportedStageKeys)) {
        if (key in body) throw new UserError(why, source.locate([...at, key], true));
      }
    }
  }
}
