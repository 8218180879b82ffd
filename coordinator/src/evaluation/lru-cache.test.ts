/**
 * The LRU cache the evaluator keeps models and test sets in: what it keeps, what it drops and
 * that every dropped value reaches the eviction callback exactly once.
 */
import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.ts';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond capacity, through the callback', () => {
    const evicted: string[] = [];
    const cache = new LruCache<string, number>(2, (_v, k) => evicted.push(k));
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(evicted).toEqual(['b']);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.set('d', 4);
    expect(evicted).toEqual(['b', 'a']);
  });

  it('hands a replaced value to the callback, and everything on clear', () => {
    const evicted: number[] = [];
    const cache = new LruCache<string, number>(3, (v) => evicted.push(v));
    cache.set('a', 1);
    cache.set('a', 10);
    cache.set('b', 2);
    expect(evicted).toEqual([1]);
    cache.clear();
    expect(evicted.sort((x, y) => x - y)).toEqual([1, 2, 10]);
    expect(cache.size).toBe(0);
  });

  it('refuses a capacity below one', () => {
    expect(() => new LruCache(0)).toThrow(/at least one/);
  });
});
