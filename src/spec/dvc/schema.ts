type JsonSchema = { properties?: Record<string, unknown>; definitions?: Record<string, JsonSchema>; [key: string]: unknown };

const vars = {
  description: 'DVC vars: params files (`file`, `file:key1,key2`) or values written inline, for `${...}`.',
  type: 'array',
  items: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'object' }] },
};

const plotEntry = {
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: { oneOf: [{ type: 'null' }, { type: 'object' }] } },
  ],
};

/**
 * The schema of a dvc.yaml: ours plus what only DVC's files have (dvc.org's dvc.yaml reference):
 * `vars` and `wdir`, top-level `metrics`, `plots`, `artifacts` and `datasets`, and a top-level `params`
 * that lists files a stage writes (dvclive's) rather than files to read.
 */
export function dvcSchema(base: JsonSchema): JsonSchema {
  const schema = structuredClone(base);
  const top = schema.properties!;
  top.vars = vars;
  top.params = { description: 'Params files your stages write (dvclive): accepted; pipeline does not read them (they are outputs).', type: 'array', items: { type: 'string', minLength: 1 } };
  top.metrics = { description: 'Metrics files (JSON/YAML) for exp show and metrics diff.', type: 'array', items: { type: 'string', minLength: 1 } };
  top.plots = { description: 'DVC plot definitions: a path, or { id: { x, y, template, ... } }.', type: 'array', items: plotEntry };
  top.artifacts = {
    description: 'DVC artifacts (model registry entries): name -> { path, type, desc, labels, meta }.',
    type: 'object',
    additionalProperties: { type: 'object', required: ['path'], properties: { path: { type: 'string' }, type: { type: 'string' }, desc: { type: 'string' }, labels: { type: 'array' }, meta: {} }, additionalProperties: false },
  };
  // DVC 3's datasets (for `dvc ds` and `ds://` deps): metadata, accepted; a `ds://` dep is refused by name.
  top.datasets = {
    description: 'DVC datasets (dvc ds): a list of { name, url, type: dvc | dvcx | url, path?, rev? }; accepted as metadata.',
    type: 'array',
    items: { type: 'object', required: ['name', 'url', 'type'], properties: { name: { type: 'string' }, url: { type: 'string' }, type: { enum: ['dvc', 'dvcx', 'url'] }, path: { type: 'string' }, rev: { type: 'string' } }, additionalProperties: false },
  };
  const stage = schema.definitions!.stage.properties!;
  stage.vars = vars;
  stage.wdir = { description: 'DVC wdir: the folder the command runs in; paths are relative to it.', type: 'string', minLength: 1 };
  return schema;
}
