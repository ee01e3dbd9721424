import { describe, expect, test } from 'vitest';
import { spreadKey, stickyInstance } from '../../harness/http/spread.ts';

describe('sticky spreading', () => {
  test('a key always reaches the same instance', () => {
    for (const key of ['dbproof-over1', 'dbproof-under2', '127.0.0.3', ''])
      expect(new Set(Array.from({ length: 20 }, () => stickyInstance(key, 3))).size).toBe(1);
  });

  test('many keys reach every instance', () => {
    const reached = new Set(Array.from({ length: 100 }, (_, i) => stickyInstance(`client-${i}`, 4)));
    expect([...reached].sort()).toEqual([0, 1, 2, 3]);
  });

  test('the key is the header named (any case), the source address, or none for round-robin', () => {
    const client = { headers: { 'X-Api-Key': 'k1' }, localAddress: '127.0.0.5' };
    expect(spreadKey({ byHeader: 'x-api-key' }, client)).toBe('k1');
    expect(spreadKey({ byHeader: 'x-user' }, client)).toBe('');
    expect(spreadKey('client-address', client)).toBe('127.0.0.5');
    expect(spreadKey('client-address', { headers: {} })).toBe('127.0.0.1');
    expect(spreadKey('round-robin', client)).toBeUndefined();
  });
});
