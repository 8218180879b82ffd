/**
 * The list of op suites, one per kernel folder. Tests, the browser harness and `verifyKernels`
 * all run from this list, so a kernel cannot be registered without being checked.
 */

import { CONV_SUITES } from '../conv/conv.suite.ts';
import { checkDense, type DenseParams } from '../dense/dense.suite.ts';
import {
  DENSE_BACKPROP_BIAS,
  DENSE_BACKPROP_FILTER,
  DENSE_BACKPROP_INPUT,
  FUSED_DENSE,
} from '../dense/dense-kernel.ts';
import { checkOptimizer, type OptimizerParams } from '../optimizer/optimizer.suite.ts';
import { ADAM_STEP, MOMENTUM_STEP } from '../optimizer/optimizer-kernel.ts';
import { POOL_GRAD_SUITES } from '../pool-grad/pool-grad.suite.ts';
import { checkQuantize, type QuantizeParams } from '../quantize/quantize.suite.ts';
import { DEQUANTIZE_INT8, QUANTIZE_INT8 } from '../quantize/quantize-kernel.ts';
import { checkSoftmaxXent, type SoftmaxXentParams } from '../softmax-xent/softmax-xent.suite.ts';
import { SOFTMAX_XENT } from '../softmax-xent/softmax-xent-kernel.ts';
import { checkTopK, type TopKParams } from '../topk/topk.suite.ts';
import { TOPK_HISTOGRAM, TOPK_SELECT } from '../topk/topk-kernel.ts';
import { checkWeightedSum, type WeightedSumParams } from '../weighted-sum/weighted-sum.suite.ts';
import { WEIGHTED_SUM } from '../weighted-sum/weighted-sum-kernel.ts';
import {
  denseCases,
  optimizerCases,
  quantizeCases,
  softmaxXentCases,
  topkCases,
  weightedSumCases,
} from './cases.ts';
import type { SuiteCase } from './check.ts';
import type { OpSuite } from './run.ts';

export const SUITES: OpSuite[] = [
  {
    op: 'dense',
    kernels: [FUSED_DENSE, DENSE_BACKPROP_INPUT, DENSE_BACKPROP_FILTER, DENSE_BACKPROP_BIAS],
    cases: denseCases,
    check: (c) => checkDense(c as SuiteCase<unknown> as SuiteCase<DenseParams>),
  },
  {
    op: 'softmax-xent',
    kernels: [SOFTMAX_XENT],
    cases: softmaxXentCases,
    check: (c) => checkSoftmaxXent(c as SuiteCase<unknown> as SuiteCase<SoftmaxXentParams>),
  },
  {
    op: 'quantize',
    kernels: [QUANTIZE_INT8, DEQUANTIZE_INT8],
    cases: quantizeCases,
    check: (c) => checkQuantize(c as SuiteCase<unknown> as SuiteCase<QuantizeParams>),
  },
  {
    op: 'weighted-sum',
    kernels: [WEIGHTED_SUM],
    cases: weightedSumCases,
    check: (c) => checkWeightedSum(c as SuiteCase<unknown> as SuiteCase<WeightedSumParams>),
  },
  {
    op: 'optimizer',
    kernels: [ADAM_STEP, MOMENTUM_STEP],
    cases: optimizerCases,
    check: (c) => checkOptimizer(c as SuiteCase<unknown> as SuiteCase<OptimizerParams>),
  },
  {
    op: 'topk',
    kernels: [TOPK_HISTOGRAM, TOPK_SELECT],
    cases: topkCases,
    check: (c) => checkTopK(c as SuiteCase<unknown> as SuiteCase<TopKParams>),
  },
  ...CONV_SUITES,
  ...POOL_GRAD_SUITES,
];

export function suiteFor(op: string): OpSuite {
  const suite = SUITES.find((s) => s.op === op);
  if (!suite) throw new Error(`no suite for op ${op}`);
  return suite;
}
