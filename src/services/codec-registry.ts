import { PlatformError } from '../domain/errors.js';
import type { Codec } from '../ports.js';

/** Picks a device's codec; the codecs themselves are adapters (adapters/codec/builtin.ts lists them). */
export class CodecRegistry {
  private readonly byName = new Map<string, Codec>();
  private readonly byContentType = new Map<string, Codec>();

  constructor(codecs: readonly Codec[]) {
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
