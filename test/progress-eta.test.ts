import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEta } from '../stages/runtime/progress-eta.js';

describe('progress ETA', () => {
  it('adds the seconds left at the rate since a count was first reported; none before a rate or after the end', () => {
    const sent: Record<string, unknown>[] = [];
    let clock = 0;
    const progress = withEta((data) => sent.push(data), () => clock);
    progress({ decode: '0/100' });
    clock = 10_000;
    progress({ decode: '20/100' });
    clock = 20_000;
    progress({ decode: '40/100', note: 'x' });
    progress({ decode: '100/100' });
    progress({ fold: 0, val_auc: '0.91' });
    assert.deepEqual(sent, [{ decode: '0/100' }, { decode: '20/100', eta_s: 40 }, { decode: '40/100', note: 'x', eta_s: 30 }, { decode: '100/100' }, { fold: 0, val_auc: '0.91' }]);
  });

  it('a count that starts again (the next fold\'s epochs) restarts its rate', () => {
    const sent: Record<string, unknown>[] = [];
    let clock = 0;
    const progress = withEta((data) => sent.push(data), () => clock);
    progress({ epoch: '1/4' });
    clock = 1000;
    progress({ epoch: '2/4' });
    progress({ epoch: '1/4' });
    clock = 5000;
    progress({ epoch: '3/4' });
    assert.deepEqual(sent.map((d) => d.eta_s), [undefined, 2, undefined, 2]);
  });
});
