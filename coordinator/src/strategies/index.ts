/**
 * The strategies a job may name, registered here: a new strategy is its own file exporting a
 * StrategyKind, and one line below (registry.ts).
 */
import { buffered } from './buffered.ts';
import { diloco } from './diloco.ts';
import { registerStrategy } from './registry.ts';
import { fedavg } from './sync.ts';

registerStrategy(fedavg);
registerStrategy(buffered);
registerStrategy(diloco);

export { jobStrategy, registerStrategy, type StrategyKind, strategyFor } from './registry.ts';
export type {
  BufferSchedule,
  RoundSchedule,
  Schedule,
  Strategy,
  StrategyStep,
  StrategyUpdate,
  StreamingStep,
} from './strategy.ts';
