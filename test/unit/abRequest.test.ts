import * as assert from 'node:assert/strict';
import { defaultSettings } from '../../core/config';
import type { ExperimentResult } from '../../core/ab/types';
import { validateConfig } from '../../core/ab/validate';
import { AbRequestError, buildExperiment, exitCodeOf, taskName } from '../../src/ab/abConfig';

// src/ab/abConfig.ts is the one place the commands and tasks.json turn a request into the engine's config.
const settings = () => defaultSettings().ab;
const FOLDER = '/w/allocator';

describe('A/B requests from the commands and tasks (src/ab/abConfig)', () => {
  it('a flag is A = its value a, B = b, on the settings\' commands and budget', () => {
    const s = { ...settings(), minPairs: 5, maxPairs: 8, marginPct: 1 };
    const c = buildExperiment(FOLDER, { flag: 'QUILL_CLASS_STATS_COMPILED', a: 1, b: 0 }, s);
    assert.deepEqual(
      c.variants.map((v) => v.defines),
      [{ QUILL_CLASS_STATS_COMPILED: '1' }, { QUILL_CLASS_STATS_COMPILED: '0' }],
    );
    assert.equal(c.flag, 'QUILL_CLASS_STATS_COMPILED');
    assert.deepEqual([c.minPairs, c.maxPairs, c.marginPct], [5, 8, 1]);
    assert.deepEqual(c.build?.argv, s.buildCommand);
    assert.deepEqual(c.cleanEnvPrefixes, ['QUILL_']);
    assert.deepEqual(c.profiles, [], 'no profile unless asked for');
    assert.deepEqual(validateConfig(c), []);
  });

  it('the request overrides the settings; maxPairs never falls below minPairs', () => {
    const c = buildExperiment(FOLDER, { flag: 'QUILL_DIAG_COMPILED', margin: 0.25, minPairs: 10, maxPairs: 4, metric: 'instructions' }, settings());
    assert.equal(c.marginPct, 0.25);
    assert.equal(c.minPairs, 10);
    assert.equal(c.maxPairs, 10);
    assert.equal(c.metric.kind, 'instructions');
  });

  it('defines and ENV are B\'s change; without a flag A is the plain default build', () => {
    const c = buildExperiment(FOLDER, { defines: { QUILL_FREE_STATS_COMPILED: 1 }, env: { QUILL_RING_ENABLED: '1' } }, settings());
    assert.equal(c.flag, undefined);
    assert.deepEqual(c.variants, [
      { name: 'A', defines: {}, env: {} },
      { name: 'B', defines: { QUILL_FREE_STATS_COMPILED: '1' }, env: { QUILL_RING_ENABLED: '1' } },
    ]);
    assert.match(c.name, /^[A-Za-z0-9._-]+$/);
    assert.deepEqual(validateConfig(c), []);
  });

  it('profiles come from allocLens.ab.profiles: one, or several as a matrix', () => {
    const s = { ...settings(), profiles: { LEGACY: { QUILL_MODE: 'legacy' }, C7_SAFE: { QUILL_MODE: 'c7safe' } } };
    const one = buildExperiment(FOLDER, { flag: 'QUILL_DIAG_COMPILED', profile: 'LEGACY' }, s);
    assert.deepEqual(one.profiles, [{ name: 'LEGACY', env: { QUILL_MODE: 'legacy' } }]);
    const matrix = buildExperiment(FOLDER, { flag: 'QUILL_DIAG_COMPILED', profiles: ['LEGACY', 'C7_SAFE'] }, s);
    assert.deepEqual(matrix.profiles.map((p) => p.name), ['LEGACY', 'C7_SAFE']);
    assert.notEqual(matrix.name, one.name, 'different experiments, different out dirs');
    assert.throws(() => buildExperiment(FOLDER, { flag: 'QUILL_DIAG_COMPILED', profile: 'NOPE' }, s), /unknown profile "NOPE": known profiles are LEGACY, C7_SAFE/);
  });

  it('refuses names that are not C identifiers, and requests that change nothing', () => {
    for (const req of [{ flag: 'QUILL X; rm -rf /' }, { flag: '1ABC' }, { defines: { 'A=B': '1' } }, { env: { 'PATH=/tmp': 'x' } }]) {
      assert.throws(() => buildExperiment(FOLDER, req, settings()), (e: unknown) => e instanceof AbRequestError && /not a C identifier/.test(e.message), JSON.stringify(req));
    }
    assert.throws(() => buildExperiment(FOLDER, {}, settings()), /needs a flag, or defines or env/);
  });

  it('task exit statuses mirror alloc-lens ab', () => {
    const r = (over: Partial<ExperimentResult>) => ({ status: 'completed', error: null, cells: [{ verdict: 'NO-GO' }], ...over }) as unknown as ExperimentResult;
    assert.equal(exitCodeOf(r({})), 0);
    assert.equal(exitCodeOf(r({}), { failOn: 'nogo' }), 3);
    assert.equal(exitCodeOf(r({ cells: [{ verdict: 'GO' }] } as Partial<ExperimentResult>), { failOn: 'nogo' }), 0);
    assert.equal(exitCodeOf(r({}), { unsaved: true }), 1);
    assert.equal(exitCodeOf(r({ status: 'cancelled' })), 130);
    assert.equal(exitCodeOf(r({ status: 'failed', error: { phase: 'build', message: 'make failed' } })), 2);
    assert.equal(exitCodeOf(r({ status: 'failed', error: { phase: 'run', message: 'SIGSEGV' } })), 1);
  });

  it('names tasks after what they compare', () => {
    assert.equal(taskName({ flag: 'QUILL_DIAG_COMPILED' }), 'A/B QUILL_DIAG_COMPILED (0 vs 1)');
    assert.equal(taskName({ flag: 'QUILL_DIAG_COMPILED', a: 1, b: 0, profile: 'LEGACY', metric: 'instructions' }), 'A/B QUILL_DIAG_COMPILED (1 vs 0) · LEGACY · instructions');
    assert.equal(taskName({ env: { QUILL_RING_ENABLED: '1' } }), 'A/B QUILL_RING_ENABLED=1');
  });
});
