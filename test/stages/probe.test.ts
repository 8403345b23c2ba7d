import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeVerdict } from '../../stages/report/probe.js';

describe("the report's verdict on the baseline probe", () => {
  const probe = { name: 'probe', auc: 0.9 };
  it('networks within 0.02 AUC match it: a shortcut, or nothing more learnt', () => {
    assert.match(probeVerdict(probe, [{ name: 'a', auc: 0.91 }, { name: 'b', auc: 0.97 }]), /^1 of 2 networks \(a\) come within 0\.02 AUC of the baseline probe \(probe: logistic regression on pixels, AUC 0\.900\): the task has a pixel-level shortcut/);
  });
  it('networks further below are said to learn less than the probe', () => {
    assert.match(probeVerdict(probe, [{ name: 'a', auc: 0.7 }]), /1 of 1 networks \(a\) score below the baseline probe .*learn less than a linear model/);
  });
  it('all networks clear of it', () => {
    assert.match(probeVerdict(probe, [{ name: 'a', auc: 0.95 }]), /^Every network here beats the baseline probe/);
  });
});
