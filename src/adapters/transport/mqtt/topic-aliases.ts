/**
 * MQTT 5 Topic Aliases of one connection, both directions (MQTT 5.0 §3.3.2.3.4). Created on the
 * first PUBLISH that needs one, so idle connections and MQTT 3.1.1 clients carry none.
 */

/** Why an inbound alias is refused: the reason code for DISCONNECT and a log text. */
export interface AliasRefusal {
  readonly reasonCode: number;
  readonly why: string;
}

export class TopicAliases {
  /** Aliases the client set: alias → topic. */
  private inbound: Map<number, string> | undefined;
  /** Aliases we set for the client: topic → alias (1..its Topic Alias Maximum). */
  private outbound: Map<string, number> | undefined;

  /**
   * The topic of an inbound PUBLISH carrying `alias`. A topic with an alias sets it; an empty topic
   * uses it. 0 or over our maximum is 0x94 [MQTT-3.3.2-8/9]; an unset alias is a protocol error.
   */
  resolve(topic: string, alias: unknown, maximum: number): string | AliasRefusal {
    if (typeof alias !== 'number' || alias === 0 || alias > maximum) return { reasonCode: 0x94, why: `topic alias ${String(alias)} invalid` };
    if (topic !== '') {
      (this.inbound ??= new Map()).set(alias, topic);
      return topic;
    }
    return this.inbound?.get(alias) ?? { reasonCode: 0x82, why: `topic alias ${alias} not set on this connection` };
  }

  /** The alias to send `topic` with: a known one, a new one while the client's table has room, or none. */
  assign(topic: string, maximum: number): { alias: number; isNew: boolean } | undefined {
    const aliases = (this.outbound ??= new Map());
    const known = aliases.get(topic);
    if (known !== undefined) return { alias: known, isNew: false };
    if (aliases.size >= maximum) return undefined;
    const alias = aliases.size + 1;
    aliases.set(topic, alias);
    return { alias, isNew: true };
  }

  /** Takes back a new alias whose PUBLISH was never sent (the client would not know it). */
  unassign(topic: string): void {
    this.outbound?.delete(topic);
  }
}
