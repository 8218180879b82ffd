/**
 * Times every Store call (and its registry's) through a Proxy, so store latency is measured in
 * one place whatever the implementation (SQLite now, PostgreSQL later) and whether a method
 * returns a value or a Promise. Each call is reported with its method name and seconds.
 */
import type { Store } from '../storage/store.ts';

export type StoreCallObserver = (method: string, seconds: number) => void;

function timed<T extends object>(target: T, prefix: string, observe: StoreCallObserver): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      const method = `${prefix}${key}`;
      return function (this: unknown, ...args: unknown[]) {
        const started = performance.now();
        const done = () => observe(method, (performance.now() - started) / 1000);
        const result = value.apply(obj, args);
        if (result instanceof Promise) return result.finally(done);
        done();
        return result;
      };
    },
  });
}

export function timedStore(store: Store, observe: StoreCallObserver): Store {
  const registry = timed(store.registry, 'registry.', observe);
  const proxied = timed(store, '', observe);
  return new Proxy(proxied, {
    get: (obj, key, receiver) => (key === 'registry' ? registry : Reflect.get(obj, key, receiver)),
  });
}
