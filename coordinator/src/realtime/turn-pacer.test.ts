import { describe, expect, it } from 'vitest';
import { TurnPacer } from './turn-pacer.ts';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('TurnPacer', () => {
  it('runs queued work in order, perTurn items per turn of the loop, other callbacks between', async () => {
    const pacer = new TurnPacer(8);
    const ran: number[] = [];
    for (let i = 0; i < 20; i++) pacer.run(() => ran.push(i));
    expect(ran).toEqual([]);
    const seen: number[] = [];
    for (let turn = 0; turn < 3; turn++) {
      await nextTurn();
      seen.push(ran.length);
    }
    expect(seen).toEqual([8, 16, 20]);
    expect(ran).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pacer.waiting).toBe(0);
  });
});
