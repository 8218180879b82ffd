export { type Coordinator, type CoordinatorDeps, createCoordinator, type RunningCoordinator } from './app.ts';
export { type CoordinatorConfig, configFromEnv } from './config.ts';
