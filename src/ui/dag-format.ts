import type { StageGraph } from '../graph.js';

/** Mermaid flowchart (renders on GitHub and in most Markdown viewers). */
export function toMermaid(graph: StageGraph, selected: Set<string>): string {
  const ids = new Map<string, string>();
  const node = (id: string) => {
    if (!ids.has(id)) ids.set(id, `n${ids.size}`);
    return ids.get(id)!;
  };
  const lines = ['flowchart TD'];
  for (const instance of graph.order) {
    if (!selected.has(instance.id)) continue;
    lines.push(`  ${node(instance.id)}["${instance.id.replace(/"/g, '#quot;')}"]`);
  }
  for (const instance of graph.order) {
    if (!selected.has(instance.id)) continue;
    for (const down of graph.downstream.get(instance.id)!) {
      if (selected.has(down)) lines.push(`  ${node(instance.id)} --> ${node(down)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Graphviz dot: `pipeline dag --dot | dot -Tsvg > dag.svg`. */
export function toDot(graph: StageGraph, selected: Set<string>): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = ['digraph pipeline {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  for (const instance of graph.order) {
    if (!selected.has(instance.id)) continue;
    lines.push(`  ${q(instance.id)};`);
    for (const down of graph.downstream.get(instance.id)!) if (selected.has(down)) lines.push(`  ${q(instance.id)} -> ${q(down)};`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * A tree for the terminal: roots first, each stage under the stages that feed it. A stage fed
 * by several is printed in full once and referenced afterwards, so fan-in stays readable.
 */
export function toTextTree(graph: StageGraph, selected: Set<string>): string {
  const lines: string[] = [];
  const printed = new Set<string>();
  const visit = (id: string, prefix: string, last: boolean, root: boolean) => {
    const connector = root ? '' : last ? '└─ ' : '├─ ';
    const children = [...graph.downstream.get(id)!].filter((d) => selected.has(d));
    if (printed.has(id)) {
      lines.push(`${prefix}${connector}${id}${children.length ? ' (see above)' : ''}`);
      return;
    }
    printed.add(id);
    lines.push(`${prefix}${connector}${id}`);
    const childPrefix = root ? '' : prefix + (last ? '   ' : '│  ');
    children.forEach((child, i) => visit(child, childPrefix, i === children.length - 1, false));
  };
  for (const instance of graph.order) {
    if (!selected.has(instance.id)) continue;
    const ups = [...graph.upstream.get(instance.id)!].filter((u) => selected.has(u));
    if (ups.length === 0) visit(instance.id, '', true, true);
  }
  return lines.join('\n') + '\n';
}
