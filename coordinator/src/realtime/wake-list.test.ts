/**
 * The wake list wakes the tabs that wait, longest first, at most its limit per wake (wakes in
 * one turn are one), never a tab that has work or left.
 */
import { describe, expect, it } from 'vitest';
import { WakeList } from './wake-list.ts';

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

function tabs(n: number) {
  const woken: string[] = [];
  const list = Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    connected: true,
    emit: () => woken.push(`s${i}`),
  }));
  return { list, woken };
}

describe('WakeList', () => {
  it('wakes the longest-waiting tabs first, at most its limit, and only those still waiting', async () => {
    const wake = new WakeList(3);
    const { list, woken } = tabs(6);
    for (const s of list) wake.waits(s);
    wake.waits(list[0]); // waited again: now the newest
    wake.drop(list[2]); // got a unit
    list[3].connected = false; // left without a disconnect seen yet
    wake.wake();
    wake.wake(); // the same turn: one wake
    await turn();
    expect(woken).toEqual(['s1', 's4', 's5']);
    expect(wake.size).toBe(1); // s0 is left, for the next wake
    wake.wake();
    await turn();
    expect(woken).toEqual(['s1', 's4', 's5', 's0']);
    expect(wake.size).toBe(0);
    wake.wake(); // nobody waits: nothing happens
    await turn();
    expect(woken).toHaveLength(4);
  });

  it('wakes a large list a slice per turn of the event loop', async () => {
    const wake = new WakeList(1000);
    const { list, woken } = tabs(500);
    for (const s of list) wake.waits(s);
    wake.wake();
    // The first turn runs the wake, the next writes the first slice only.
    await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    expect(woken.length).toBeGreaterThan(0);
    expect(woken.length).toBeLessThan(500);
    await turn();
    await turn();
    expect(woken).toHaveLength(500);
  });
});
