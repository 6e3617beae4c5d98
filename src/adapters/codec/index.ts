import { PlatformError } from '../../domain/errors.js';
import type { Codec } from '../../ports.js';
import { jsonCodec } from './json/index.js';
import { senmlCodec } from './senml/index.js';

/** Every codec the platform knows; a device profile names one. Add a codec = one line here. */
export const BUILTIN_CODECS: readonly Codec[] = [jsonCodec, senmlCodec];

export class CodecRegistry {
  private readonly byName = new Map<string, Codec>();
  private readonly byContentType = new Map<string, Codec>();

  constructor(codecs: readonly Codec[] = BUILTIN_CODECS) {
    for (const codec of codecs) {
      this.byName.set(codec.name, codec);
      for (const type of codec.contentTypes) if (!this.byContentType.has(type)) this.byContentType.set(type, codec);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The content type, when the transport has one, wins over the profile's codec. */
  resolve(profileCodec: string, contentType?: string): Codec {
    if (contentType) {
      const bare = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
      if (bare !== '') {
        const byType = this.byContentType.get(bare);
        if (!byType) throw new PlatformError('UNSUPPORTED_CONTENT', bare);
        return byType;
      }
    }
    const codec = this.byName.get(profileCodec);
    if (!codec) throw new PlatformError('UNSUPPORTED_CONTENT', `codec ${profileCodec}`);
    return codec;
  }
}
