import { open, stat } from 'node:fs/promises';
import type { ServerLog } from '../../topology/types.ts';

/**
 * A native node's server log: the file its postmaster's stderr is appended to. A mark is
 * the file's size; `since` reads the bytes after it (every process of the server appends
 * through one O_APPEND descriptor, so what was written before the mark stays before it).
 */
export function fileServerLog(logFile: string): ServerLog {
  return {
    mark: async () => (await stat(logFile)).size,
    since: async (mark) => {
      const file = await open(logFile, 'r');
      try {
        const { size } = await file.stat();
        if (size <= mark) return '';
        const buffer = Buffer.alloc(size - mark);
        const { bytesRead } = await file.read(buffer, 0, buffer.length, mark);
        return buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await file.close();
      }
    },
  };
}
