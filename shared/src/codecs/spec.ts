/**
 * Which codec a job's updates travel in, as the job spec names it. Kept apart from the codec
 * implementations so the job schema and the protocol can name codecs without pulling in TF.js
 * or the kernels package (the inference SDK imports the schemas too).
 */
import { z } from 'zod';

export const CODEC_NAMES = ['fp32', 'fp16', 'int8', 'topk'] as const;
export type CodecName = (typeof CODEC_NAMES)[number];

export const codecSpecSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('fp32') }).strict(),
  z.object({ name: z.literal('fp16') }).strict(),
  z
    .object({
      name: z.literal('int8'),
      /** Values per scale; the kernels' int8 codec needs a multiple of 4. */
      blockSize: z.number().int().min(4).max(65_536).multipleOf(4).default(256),
    })
    .strict(),
  z
    .object({
      name: z.literal('topk'),
      /** Fraction of the update's entries sent each unit; the rest waits in the tab's residual. */
      fraction: z.number().gt(0).max(1).default(0.01),
    })
    .strict(),
]);

export type CodecSpec = z.output<typeof codecSpecSchema>;
