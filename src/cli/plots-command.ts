import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { dim } from '../ui/format.js';
import { open, type Common } from './common.js';

/** `plots show`: DVC's command, drawing the plots of the stages' `plots:` entries and a dvc.yaml's top-level `plots:`. */
export function registerPlotsCommand(program: Command): void {
  program
    .command('plots')
    .description('plots of the workspace')
    .command('show')
    .description("draw every plot (stages' plots: entries, a dvc.yaml's top-level plots:) into one self-contained HTML page")
    .argument('[targets...]', 'plot ids or data files to draw; all when none')
    .option('-o, --out <dir>', 'where to write index.html', 'pipeline_plots')
    .action(async (targets: string[], options: { out: string }) => {
      const { plotPage } = await import('../plots/plot-page.js');
      const ws = open(program.opts<Common>());
      // A top-level definition of the same id replaces the stage's, as in DVC.
      const byId = new Map([...ws.project.instances.flatMap((i) => i.plotDefinitions), ...ws.project.plots].map((p) => [p.id, p]));
      const all = [...byId.values()];
      const plots = targets.length ? all.filter((p) => targets.includes(p.id) || Object.keys(p.y).some((f) => targets.includes(f))) : all;
      if (plots.length === 0) throw new UserError(targets.length ? `no plot named ${targets.join(', ')} (plots: ${all.map((p) => p.id).join(', ') || 'none'})` : 'no plots: add plots: entries to a stage (or a top-level plots: in dvc.yaml)');
      const html = await plotPage(plots, ws.project.dir);
      const file = path.resolve(options.out, 'index.html');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, html);
      process.stdout.write(`${plots.length} plots: ${path.relative(process.cwd(), file)}\n${dim(`  file://${file}`)}\n`);
    });
}
