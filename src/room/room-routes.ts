import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { Authenticator } from '../http/auth.js';
import type { StreamRecord, Store } from '../store/types.js';
import { chatEvent } from './room-server.js';

export interface RoomRoutesOptions {
  store: Store;
  auth: Authenticator;
  /** Tells the stream's room sockets a message was deleted. */
  messageDeleted: (streamId: string, messageId: string) => void;
}

const StreamParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });
const MessageParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  mid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
}, { additionalProperties: false });
const MessagesQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 40 })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
}, { additionalProperties: false });

/** A mediaTime given as ISO 8601 or epoch milliseconds; BAD_REQUEST otherwise. */
function parseMediaTime(v: string): number {
  const ms = /^[0-9]{1,16}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'after must be an ISO 8601 time or epoch milliseconds', { fields: [{ field: '/after', message: 'invalid' }] });
  return ms;
}

/** The room's HTTP side: replay pages of messages (anyone) and deletes (owner or operator). */
export async function roomRoutes(app: FastifyInstance, o: RoomRoutesOptions): Promise<void> {
  /** The stream if the caller may moderate it (the owner or the operator), else 404 so ids cannot be probed. */
  const moderated = async (req: Parameters<Authenticator['requireAuthenticated']>[0], id: string): Promise<StreamRecord> => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await o.store.getStream(id);
    if (!rec || (p.role === 'creator' && rec.ownerId !== p.creator.id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    return rec;
  };

  app.get<{ Params: Static<typeof StreamParams>; Querystring: Static<typeof MessagesQuery> }>('/v1/streams/:id/room/messages',
    { schema: { params: StreamParams, querystring: MessagesQuery } }, async (req) => {
      if (!(await o.store.getStream(req.params.id))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
      const limit = Math.min(Math.max(Number(req.query.limit ?? 100), 1), 500);
      const after = req.query.after === undefined ? undefined : parseMediaTime(req.query.after);
      const items = (await o.store.listRoomMessages(req.params.id, { after, limit })).map(chatEvent);
      // The next page starts after the last mediaTime returned (null at the end).
      return { items, nextAfter: items.length === limit ? items[items.length - 1]!.mediaTime : null };
    });

  app.delete<{ Params: Static<typeof MessageParams> }>('/v1/streams/:id/room/messages/:mid', { schema: { params: MessageParams } }, async (req, reply) => {
    await moderated(req, req.params.id);
    if (!(await o.store.deleteRoomMessage(req.params.id, req.params.mid, Date.now()))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such message');
    o.messageDeleted(req.params.id, req.params.mid);
    return reply.status(204).send();
  });
}
