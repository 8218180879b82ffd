/**
 * Held unit requests: answered with a unit when a wake finds one, oldest first; with the answer
 * they had once their wait ends, their socket leaves or the server closes; a request whose try is
 * running when its wait ends gets that try's unit, never loses it.
 */
import type { UnitOffer, WorkUnit } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { HeldRequests } from './held-requests.ts';

const NONE: UnitOffer = { unit: null, retryMs: 2000 };
const unitFor = (id: string) => ({ unit: { unitId: id } as WorkUnit });
const tick = () => new Promise((r) => setTimeout(r, 5));

/** A pool of `free` units; each ask takes one, or answers none. */
function pool() {
  const asked: string[] = [];
  let free = 0;
  let n = 0;
  return {
    asked,
    add: (k: number) => {
      free += k;
    },
    ask: async (contributorId: string): Promise<UnitOffer> => {
      asked.push(contributorId);
      await tick();
      if (free === 0) return NONE;
      free--;
      return unitFor(`u${n++}`);
    },
  };
}

const tab = (id: string) => ({ id, connected: true });

describe('HeldRequests', () => {
  it('answers held requests oldest first as units open, and only as many as there are', async () => {
    const units = pool();
    const held = new HeldRequests(units.ask);
    const answers: Record<string, UnitOffer> = {};
    for (const id of ['a', 'b', 'c'])
      void held.hold(tab(id), id, NONE, 60_000, held.mark()).then((o) => {
        answers[id] = o;
      });
    units.add(2);
    held.wake();
    await new Promise((r) => setTimeout(r, 50));
    expect(answers.a?.unit?.unitId).toBe('u0');
    expect(answers.b?.unit?.unitId).toBe('u1');
    expect(answers.c).toBeUndefined();
    // c was tried once and found none: the pass stopped there.
    expect(units.asked).toEqual(['a', 'b', 'c']);
    expect(held.size).toBe(1);
    units.add(1);
    held.wake();
    await new Promise((r) => setTimeout(r, 30));
    expect(answers.c?.unit?.unitId).toBe('u2');
    expect(held.size).toBe(0);
  });

  it('gives the first answer back when the wait ends, the socket leaves, or the server closes', async () => {
    const held = new HeldRequests(pool().ask);
    const waited = held.hold(tab('a'), 'a', NONE, 20, held.mark());
    expect(await waited).toBe(NONE);
    const gone = tab('b');
    const left = held.hold(gone, 'b', NONE, 60_000, held.mark());
    held.drop(gone);
    expect(await left).toBe(NONE);
    const closing = held.hold(tab('c'), 'c', NONE, 60_000, held.mark());
    held.close();
    expect(await closing).toBe(NONE);
    expect(held.size).toBe(0);
  });

  it('keeps a unit found by a try that outlasted the wait', async () => {
    let release: (o: UnitOffer) => void = () => {};
    const held = new HeldRequests(() => new Promise((r) => (release = r)));
    const answer = held.hold(tab('a'), 'a', NONE, 10, held.mark());
    held.wake(); // the try starts, and is still running when the 10 ms are up
    await new Promise((r) => setTimeout(r, 40));
    release(unitFor('late'));
    expect((await answer).unit?.unitId).toBe('late');
  });

  it('tries a request at once when units opened between its first ask and its hold', async () => {
    const units = pool();
    const held = new HeldRequests(units.ask);
    const mark = held.mark();
    // The wake came while the first ask was out: nobody was held to hear it.
    units.add(1);
    held.wake();
    const answer = await held.hold(tab('a'), 'a', NONE, 60_000, mark);
    expect(answer.unit?.unitId).toBe('u0');
  });

  it('answers a refused try with its error and goes on with the next', async () => {
    let calls = 0;
    const held = new HeldRequests(async (id) => {
      calls++;
      if (id === 'bad') throw new Error('QUARANTINED');
      return unitFor(`for-${id}`);
    });
    const bad = held.hold(tab('bad'), 'bad', NONE, 60_000, held.mark());
    const good = held.hold(tab('good'), 'good', NONE, 60_000, held.mark());
    held.wake();
    await expect(bad).rejects.toThrow('QUARANTINED');
    expect((await good).unit?.unitId).toBe('for-good');
    expect(calls).toBe(2);
  });
});
