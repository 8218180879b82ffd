import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AckTimeout, ask, Disconnected } from './ask.ts';

// A socket as `ask` sees it: something that emits 'disconnect'.
const socket = () => new EventEmitter();

describe('ask', () => {
  it('answers the acknowledgement and stops listening for a disconnect', async () => {
    const s = socket();
    await expect(ask(s, 1000, async () => ({ ok: true, data: 7 }))).resolves.toEqual({ ok: true, data: 7 });
    expect(s.listenerCount('disconnect')).toBe(0);
  });

  it('gives up with Disconnected when the socket drops before the answer', async () => {
    const s = socket();
    const waiting = ask(s, 60_000, () => new Promise<never>(() => {}));
    s.emit('disconnect');
    await expect(waiting).rejects.toBeInstanceOf(Disconnected);
    expect(s.listenerCount('disconnect')).toBe(0);
  });

  it('gives up with AckTimeout when no answer comes in time', async () => {
    const s = socket();
    await expect(ask(s, 20, () => new Promise<never>(() => {}))).rejects.toBeInstanceOf(AckTimeout);
    expect(s.listenerCount('disconnect')).toBe(0);
  });

  it('passes a failed send on as it is', async () => {
    await expect(ask(socket(), 1000, () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });
});
