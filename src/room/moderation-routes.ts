import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import type { Authenticator } from '../http/auth.js';
import type { RoomBanRecord, RoomBanScope, StreamRecord, Store } from '../store/types.js';
import { validBlockedWords, MAX_BLOCKED_WORDS } from './blocked-words.js';
import { MAX_SLOW_MODE_SECONDS, roomSettingsFromExtra, type RoomSettings } from './room-settings.js';

/** What the moderation routes tell the room server after a change. */
export interface ModerationHooks {
  bansChanged(streamId: string, shopperId: string, scope: RoomBanScope, scopeId: string): void;
  settingsChanged(streamId: string, settings: RoomSettings): void;
  blockedWordsChanged(creatorId: string, words: readonly string[]): void;
}

export interface ModerationRoutesOptions {
  store: Store;
  auth: Authenticator;
  room: ModerationHooks;
}

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const StreamParams = Type.Object({ id: Id }, { additionalProperties: false });
const BanParams = Type.Object({ id: Id, shopperId: Id }, { additionalProperties: false });
const Scope = Type.Union([Type.Literal('stream'), Type.Literal('creator')]);
const BanBody = Type.Object({
  shopperId: Id,
  /** A time-out of this many minutes (a year at most); without it, until lifted. */
  minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 525_600 })),
  scope: Type.Optional(Scope),
}, { additionalProperties: false });
const LiftQuery = Type.Object({ scope: Type.Optional(Scope) }, { additionalProperties: false });
const SettingsBody = Type.Object({
  slowModeSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SLOW_MODE_SECONDS })),
  open: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 });
const WordsBody = Type.Object({
  words: Type.Array(Type.String({ maxLength: 256 }), { maxItems: MAX_BLOCKED_WORDS }),
}, { additionalProperties: false });

function banView(b: RoomBanRecord): Record<string, unknown> {
  return {
    shopperId: b.shopperId, scope: b.scope, scopeId: b.scopeId, by: b.by,
    createdAt: new Date(b.createdAt).toISOString(), until: b.until === null ? null : new Date(b.until).toISOString(),
  };
}

/**
 * Room moderation over HTTP, for the stream's owner or the operator (anyone else gets 404, so ids
 * cannot be probed): bans (time-outs), the room's settings (slow mode, open) and a creator's
 * blocked words. Each change is applied to the open sockets at once.
 */
export async function moderationRoutes(app: FastifyInstance, o: ModerationRoutesOptions): Promise<void> {
  /** The stream and who moderates it, if the caller may. */
  const moderated = async (req: FastifyRequest, id: string): Promise<{ rec: StreamRecord; by: string }> => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await o.store.getStream(id);
    if (!rec || (p.role === 'creator' && rec.ownerId !== p.creator.id)) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    return { rec, by: p.role === 'creator' ? p.creator.id : 'operator' };
  };
  /** The creator if the caller is that creator or the operator. */
  const creatorOf = async (req: FastifyRequest, id: string): Promise<string> => {
    const p = await o.auth.requireAuthenticated(req);
    if (p.role === 'creator' && p.creator.id !== id) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
    if (!(await o.store.getCreator(id))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
    return id;
  };

  app.post<{ Params: Static<typeof StreamParams>; Body: Static<typeof BanBody> }>('/v1/streams/:id/room/bans',
    { schema: { params: StreamParams, body: BanBody } }, async (req, reply) => {
      const { rec, by } = await moderated(req, req.params.id);
      const scope = req.body.scope ?? 'stream';
      if (scope === 'creator' && !rec.ownerId) {
        throw new ShowcaseError('SHOWCASE_ERR_VALIDATION', 'the operator\'s streams have no creator to ban from', { fields: [{ field: '/scope', message: 'no creator' }] });
      }
      if (!(await o.store.getShopper(req.body.shopperId))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no shopper with that id');
      const now = Date.now();
      const ban: RoomBanRecord = {
        scope, scopeId: scope === 'stream' ? rec.id : rec.ownerId!, shopperId: req.body.shopperId,
        until: req.body.minutes === undefined ? null : now + req.body.minutes * 60_000, createdAt: now, by,
      };
      await o.store.putRoomBan(ban);
      o.room.bansChanged(rec.id, ban.shopperId, ban.scope, ban.scopeId);
      return reply.status(201).send(banView(ban));
    });

  app.get<{ Params: Static<typeof StreamParams> }>('/v1/streams/:id/room/bans', { schema: { params: StreamParams } }, async (req) => {
    const { rec } = await moderated(req, req.params.id);
    return { items: (await o.store.listRoomBans({ streamId: rec.id, creatorId: rec.ownerId, now: Date.now() })).map(banView) };
  });

  app.delete<{ Params: Static<typeof BanParams>; Querystring: Static<typeof LiftQuery> }>('/v1/streams/:id/room/bans/:shopperId',
    { schema: { params: BanParams, querystring: LiftQuery } }, async (req, reply) => {
      const { rec } = await moderated(req, req.params.id);
      // Without a scope both are lifted: "let this shopper talk here again".
      const scopes: Array<[RoomBanScope, string]> = [];
      if (req.query.scope !== 'creator') scopes.push(['stream', rec.id]);
      if (req.query.scope !== 'stream' && rec.ownerId) scopes.push(['creator', rec.ownerId]);
      let lifted = false;
      for (const [scope, scopeId] of scopes) {
        if (await o.store.deleteRoomBan(scope, scopeId, req.params.shopperId)) {
          lifted = true;
          o.room.bansChanged(rec.id, req.params.shopperId, scope, scopeId);
        }
      }
      if (!lifted) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no such ban');
      return reply.status(204).send();
    });

  app.patch<{ Params: Static<typeof StreamParams>; Body: Static<typeof SettingsBody> }>('/v1/streams/:id/room',
    { schema: { params: StreamParams, body: SettingsBody } }, async (req) => {
      const { rec } = await moderated(req, req.params.id);
      const settings: RoomSettings = { ...roomSettingsFromExtra(rec.extra), ...req.body };
      if (!(await o.store.updateStream(rec.id, { extra: { room: settings } }))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
      o.room.settingsChanged(rec.id, settings);
      return { streamId: rec.id, ...settings };
    });

  app.get<{ Params: Static<typeof StreamParams> }>('/v1/creators/:id/room/blocked-words', { schema: { params: StreamParams } }, async (req) => {
    const id = await creatorOf(req, req.params.id);
    return { creatorId: id, words: await o.store.getBlockedWords(id) };
  });

  app.put<{ Params: Static<typeof StreamParams>; Body: Static<typeof WordsBody> }>('/v1/creators/:id/room/blocked-words',
    { schema: { params: StreamParams, body: WordsBody } }, async (req) => {
      const id = await creatorOf(req, req.params.id);
      const words = validBlockedWords(req.body.words);
      if (!(await o.store.putBlockedWords(id, words, Date.now()))) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no creator with that id');
      o.room.blockedWordsChanged(id, words);
      return { creatorId: id, words };
    });
}
