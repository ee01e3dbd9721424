// The suites project's setup file (vitest.config.ts): every suite file waits for its turn
// on the shared topology before its first hook and gives it back after its last (turns.ts).
import { afterAll, beforeAll, inject } from 'vitest';
import '../../harness/vitest/provided.ts';
import { giveTurn, takeTurn, turnDir } from './turns.ts';

const dir = turnDir(inject('dbproof'));
// As long as every other suite file may take: the suites together take about 5 minutes.
beforeAll(() => takeTurn(dir), 30 * 60_000);
afterAll(() => giveTurn(dir));
