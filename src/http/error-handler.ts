import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyError } from 'fastify';
import { ShowcaseError } from '../core/errors.js';

/** Maps every error to {error:{code,message}} with the registry's status; never a stack trace. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ShowcaseError | Error, req, reply) => {
    if (err instanceof ShowcaseError) {
      if (err.status === 429 && err.details?.retryAfterSeconds) reply.header('retry-after', String(err.details.retryAfterSeconds));
      return reply.status(err.status).send(err.toJSON());
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const fields = fe.validation.map((v) => ({ field: v.instancePath || (v.params as { missingProperty?: string; additionalProperty?: string })?.missingProperty || (v.params as { additionalProperty?: string })?.additionalProperty || '/', message: v.message ?? 'invalid' }));
      return reply.status(400).send(new ShowcaseError('SHOWCASE_ERR_VALIDATION', `${fe.validationContext ?? 'request'} failed validation`, { fields }).toJSON());
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(new ShowcaseError('SHOWCASE_ERR_PAYLOAD_TOO_LARGE').toJSON());
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(new ShowcaseError('SHOWCASE_ERR_BAD_REQUEST', fe.message).toJSON());
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(new ShowcaseError('SHOWCASE_ERR_INTERNAL').toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`).toJSON());
  });
}

/** The error mapping as a root-level plugin (not encapsulated: it covers every route). */
export const errorHandling = fp(async (app) => installErrorHandling(app), { name: 'showcase-errors', fastify: '5.x' });
