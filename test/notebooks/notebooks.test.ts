import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const notebooksDir = path.join(root, 'notebooks');

/** Real Jupyter with Deno's kernel; `.ci/run` installs both (README: "Notebooks"). */
function jupyterWithDeno(): string | undefined {
  const jupyter = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { encoding: 'utf8' });
  if (jupyter.status !== 0) return 'jupyter is not installed';
  const specs = JSON.parse(jupyter.stdout) as { kernelspecs: Record<string, unknown> };
  if (!specs.kernelspecs.deno) return 'the Deno Jupyter kernel is not installed (npx deno jupyter --install)';
  return undefined;
}

interface Output { output_type: string; ename?: string; evalue?: string; text?: string | string[] }
interface Notebook { cells: { cell_type: string; outputs?: Output[] }[] }

const missing = jupyterWithDeno();
if (missing) console.warn(`[notebooks] skipped: ${missing}`);
const notebooks = fs.readdirSync(notebooksDir).filter((f) => f.endsWith('.ipynb')).sort();

describe.skipIf(Boolean(missing))('notebooks execute headlessly in real Jupyter', () => {
  for (const name of notebooks) {
    it(name, () => {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nb-')), name);
      execFileSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', `--ExecutePreprocessor.timeout=600`, '--output', out, name], {
        cwd: notebooksDir,
        env: { ...process.env, NB_SHIPMENTS: '3000', NB_EPOCHS: '3' },
        stdio: 'pipe',
      });
      const nb = JSON.parse(fs.readFileSync(out, 'utf8')) as Notebook;
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      const errors = outputs.filter((o) => o.output_type === 'error');
      expect(errors.map((e) => `${e.ename}: ${e.evalue}`)).toEqual([]);
      const text = outputs.map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''))).join('');
      expect(text.length).toBeGreaterThan(0);
    }, 900_000);
  }
});
