/**
 * A TypeBox type provider for Fastify in five lines (saves the @fastify/type-provider-typebox
 * dependency): request parts and replies are typed from the route's TypeBox schemas.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyTypeProvider, RawServerDefault } from 'fastify';

export interface TypeBoxProvider extends FastifyTypeProvider {
  readonly validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  readonly serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

/** A route plugin typed by TypeBox schemas. */
export type ApiPlugin<Options extends object = Record<never, never>> = FastifyPluginAsync<Options, RawServerDefault, TypeBoxProvider>;
