// Test runner settings: real processes and disks are slow on 2 cores; give them time.
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/** The longest files (the crash sweeps) start first, so the last minutes are not one file running alone. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const long = (f: TestSpecification): number => (/\/crash-[^/]*\.test\.ts$/.test(f.moduleId) ? 0 : 1);
    return [...sorted].sort((x, y) => long(x) - long(y));
  }
}

/** A project per kind of test, each its own directories: `npm run test:unit` is the fast tier. */
const project = (name: string, dirs: string[]) => ({ extends: true as const, test: { name, include: dirs.map((d) => `test/${d}/**/*.test.ts`) } });

export default defineConfig({
  test: {
    projects: [
      // The engine and the modules alone, no process started: seconds.
      project('unit', ['unit']),
      // Real files and child processes: runs, `mdsync serve`, one regression test per bug fixed, the benchmark's smoke run.
      project('integration', ['integration', 'regression', 'bench']),
      // A real sshd and a real Dovecot.
      project('interop', ['interop']),
      // Kills, full disks, hostile peers, odd Maildirs, concurrent writers.
      project('fault', ['fault']),
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most of a test's time is spent waiting on child processes, sshd logins and fsync: two files
    // at once on two cores (the default would be one).
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
