import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec to an SVG string in Node (no browser, no network). */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile({ background: 'white', config: { font: 'sans-serif' }, ...spec } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
