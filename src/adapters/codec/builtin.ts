import type { Codec } from '../../ports.js';
import { jsonCodec } from './json/index.js';
import { senmlCodec } from './senml/index.js';

/** Every codec the platform knows; a device profile names one. Add a codec = one line here. */
export const BUILTIN_CODECS: readonly Codec[] = [jsonCodec, senmlCodec];
