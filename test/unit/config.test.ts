import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultSettings, resolveSettings, SETTINGS } from '../../core/config';
import { ROOT } from '../support/paths';

describe('settings schema (core/config)', () => {
  it('gives every default when nothing is set', () => {
    const { settings, problems } = resolveSettings(undefined);
    assert.deepEqual(problems, []);
    assert.equal(settings.server.enable, true);
    assert.equal(settings.index.maxFiles, 5000);
    assert.ok(settings.index.exclude.includes('**/build/**'));
  });

  it('keeps valid values and replaces odd ones with the default plus a readable problem', () => {
    const { settings, problems } = resolveSettings({
      trace: { server: 'verbose' },
      index: { maxFiles: 'lots', maxFileSizeKB: -3, include: ['**/*.c', 42] },
    });
    assert.equal(settings.trace.server, 'verbose');
    assert.equal(settings.index.maxFiles, 5000);
    assert.equal(settings.index.maxFileSizeKB, 2048);
    assert.deepEqual(settings.index.include, defaultSettings().index.include);
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /allocLens\.index\.maxFiles: expected an integer from 1 to 100000; using the default 5000/);
  });

  it('does not share default arrays between results', () => {
    const a = defaultSettings();
    a.index.exclude.push('mutated');
    assert.ok(!defaultSettings().index.exclude.includes('mutated'));
  });

  it('matches package.json contributes.configuration key for key, default for default', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties as Record<string, { default: unknown; description?: string; markdownDescription?: string }>;
    const contributed = Object.keys(props).sort();
    const schema = SETTINGS.map((s) => `allocLens.${s.key}`).sort();
    assert.deepEqual(contributed, schema);
    for (const spec of SETTINGS) {
      const prop = props[`allocLens.${spec.key}`];
      assert.deepEqual(prop.default, spec.default, `default of allocLens.${spec.key}`);
      assert.ok(prop.description ?? prop.markdownDescription, `allocLens.${spec.key} needs a description`);
      assert.equal(spec.check(spec.default), undefined, `default of ${spec.key} must pass its own check`);
    }
  });
});
