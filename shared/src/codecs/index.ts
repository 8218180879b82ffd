/**
 * The update codecs (`@gridtab/shared/codecs`): one Codec per wire format, and `codecFor` to
 * get the one a job's spec names. A separate entry point from `@gridtab/shared` because int8
 * and top-k use the kernels package, which the schema-only users of shared should not load.
 */
import type { Codec } from './codec.ts';
import { Fp16Codec } from './fp16.ts';
import { Fp32Codec } from './fp32.ts';
import { Int8Codec } from './int8.ts';
import type { CodecSpec } from './spec.ts';
import { TopKCodec } from './topk.ts';

export { type Codec, CodecError, type CodecState } from './codec.ts';
export { CODEC_NAMES, type CodecName, type CodecSpec, codecSpecSchema } from './spec.ts';
export { Fp16Codec, Fp32Codec, Int8Codec, TopKCodec };

export function codecFor(spec: CodecSpec): Codec {
  switch (spec.name) {
    case 'fp32':
      return new Fp32Codec();
    case 'fp16':
      return new Fp16Codec();
    case 'int8':
      return new Int8Codec(spec.blockSize);
    case 'topk':
      return new TopKCodec(spec.fraction);
  }
}
