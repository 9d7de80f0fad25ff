/**
 * The OpenAPI 3.1 document (@fastify/swagger), generated from the route
 * schemas of route-docs.ts and served at GET /v1/openapi.json (no
 * authentication: it holds no secret).
 *
 * The schemas are attached to each route as it is registered (an onRoute
 * hook), with a validator and a serializer that do nothing: input is still
 * parsed by the protocol schemas where the handlers always parsed it (so
 * error answers keep their codes, fields and rules), and answers are
 * serialized as before (a response schema must not drop fields).
 */
import swagger from '@fastify/swagger';
import { PROTOCOL_VERSION } from '@holdfast/protocol';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { OPENAPI_PATH, ROUTE_DOCS, type RouteDoc, WIRE_ERROR_SCHEMA } from './route-docs.js';

const ERROR_REF = { $ref: '#/components/schemas/WireError' };

/** The Fastify route schema documenting `doc`. */
function routeSchema(doc: RouteDoc): Record<string, unknown> {
  const object = (props: Record<string, unknown>) => ({ type: 'object', properties: props });
  return {
    summary: doc.summary,
    tags: [doc.tag],
    ...(doc.auth === 'operator' ? { security: [{ operatorToken: [] }] } : {}),
    ...(doc.auth === 'metrics' ? { security: [{ metricsToken: [] }] } : {}),
    ...(doc.body ? { body: doc.body } : {}),
    ...(doc.params ? { params: { ...object(doc.params), required: Object.keys(doc.params) } } : {}),
    ...(doc.query ? { querystring: object(doc.query) } : {}),
    response: {
      200: doc.produces
        ? { description: 'OK', content: { [doc.produces]: { schema: doc.response } } }
        : { description: 'OK', ...doc.response },
      '4XX': { description: 'Refused: nothing was applied', ...ERROR_REF },
      '5XX': { description: 'Overloaded, not ready or failed: nothing was applied; retry', ...ERROR_REF },
    },
  };
}

const accept = () => () => true;
const asJson = () => (data: unknown) => JSON.stringify(data);

/** Registers the document generator and GET /v1/openapi.json; call before any route. */
export function registerOpenApi(app: FastifyInstance): void {
  // Called at once, not through app.register: the plugin collects routes with
  // an onRoute hook, and routes declared on the root instance are added as
  // they are declared, before a registered plugin would have loaded. The
  // plugin is a skip-override plugin (it decorates the root either way).
  swagger(
    app,
    {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Holdfast settlement server',
          version: String(PROTOCOL_VERSION),
          description: 'Offline-first transaction settlement. Protocol, bodies and errors: docs/protocol.md.',
        },
        components: {
          schemas: { WireError: WIRE_ERROR_SCHEMA },
          securitySchemes: {
            operatorToken: { type: 'http', scheme: 'bearer', description: 'The operator token' },
            metricsToken: { type: 'http', scheme: 'bearer', description: 'The metrics token' },
          },
        },
      },
    },
    (error) => {
      if (error) throw error;
    },
  );

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const doc = ROUTE_DOCS[`${methods[0]} ${route.url}`];
    if (!doc) return; // HEAD twins of GET routes, OPTIONS; an undocumented route fails the OpenAPI test
    route.schema = routeSchema(doc);
    route.validatorCompiler = accept;
    route.serializerCompiler = asJson;
  });

  app.get(OPENAPI_PATH, async () => app.swagger());
}
