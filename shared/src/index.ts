export * from './console.ts';
export * from './errors.ts';
export * from './hash.ts';
export * from './inference.ts';
export * from './job.ts';
export * from './models.ts';
export * from './protocol.ts';
export * from './shard.ts';
