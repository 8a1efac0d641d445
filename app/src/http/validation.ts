/**
 * JSON-schema validation at the edge, with two Ajv instances because the parts of a request differ:
 * - bodies are JSON, so types must match as sent: `"2"` is not a quantity;
 * - path and query values always arrive as text, so `?limit=20` is coerced to the integer 20.
 * Neither removes unknown properties (Fastify's default does, silently): with `additionalProperties: false`,
 * an unknown field is a 400 that names it.
 *
 * One trap, found by the fuzz test: with coercion on, Ajv 8's `strictNumbers` (its default) lets the text
 * `Infinity` through as an integer, past `minimum` and `maximum` alike, and PostgreSQL then rejects it (a 500).
 * With `strictNumbers` off the bounds do reject it, so text parts run with it off and every integer in a path or
 * query schema carries both `minimum` and `maximum`. Bodies keep it on: JSON's `1e400` parses to Infinity, and
 * without coercion strictNumbers rejects it as it should.
 */
import Ajv from "ajv";
import type { FastifySchemaCompiler } from "fastify";

const common = { allErrors: true, removeAdditional: false, useDefaults: true, strict: true } as const;
const forBodies = new Ajv({ ...common, coerceTypes: false, strictNumbers: true });
const forText = new Ajv({ ...common, coerceTypes: true, strictNumbers: false });

/** Fastify validator compiler: strict types for bodies, coercion for params, querystring and headers. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === "body" ? forBodies : forText).compile(schema);
