import path from 'node:path';
import { k6OnPath } from '../../../load/k6/run.ts';
import { k6OperatorTestRun, k6Script, type K6Load } from '../../../load/k6/script.ts';
import { writeFileAtomic } from '../../results/write.ts';

/** `dbproof load … --k6-script FILE [--k6-operator N]`: writes the script (and the TestRun), says how to run it. */
export async function writeK6(file: string, load: K6Load, parallelism?: number): Promise<number> {
  const script = path.resolve(file);
  await writeFileAtomic(script, k6Script(load));
  console.log(`wrote ${script}`);
  if (parallelism !== undefined) {
    const manifest = `${script}.testrun.yaml`;
    const name =
      path
        .basename(script)
        .replace(/\.[^.]+$/, '')
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-') || 'dbproof-load';
    await writeFileAtomic(manifest, k6OperatorTestRun(name, name, path.basename(script), parallelism));
    console.log(`wrote ${manifest} (parallelism ${parallelism})`);
  }
  console.log(
    k6OnPath()
      ? `run it: k6 run ${file}`
      : `k6 is not on PATH here: run it where k6 is installed (k6 run ${path.basename(script)})`,
  );
  return 0;
}
