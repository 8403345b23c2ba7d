import { builtinDeclarations } from '../../stages/registry.js';
import type { Port } from '../protocol/stage-protocol.js';
import { bold, dim } from '../ui/format.js';

const ports = (list: Record<string, Port>) =>
  Object.entries(list).map(([name, p]) => `    ${name} ${dim(`(${p.kind}${p.required === false ? ', optional' : ''})`)}  ${p.description}`);

/** `pipeline stages`: every built-in with its named inputs, outputs and `with:` options, as declared. */
export function stagesCommand(): number {
  for (const d of builtinDeclarations) {
    const options = Object.entries((d.options.properties as Record<string, { description?: string }> | undefined) ?? {});
    const lines = [
      `${bold(`uses: ${d.name}`)} ${dim(`v${d.version}`)}  ${d.description}`,
      '  deps:',
      ...(Object.keys(d.inputs).length ? ports(d.inputs) : ['    (none)']),
      '  outs:',
      ...ports(d.outputs),
      ...(options.length ? ['  with:', ...options.map(([name, o]) => `    ${name}${o.description ? `  ${o.description}` : ''}`)] : []),
    ];
    process.stdout.write(lines.join('\n') + '\n\n');
  }
  return 0;
}
