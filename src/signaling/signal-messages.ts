import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ShowcaseError, type ErrorCode } from '../core/errors.js';

/*
 * The WebSocket signaling protocol (/v1/signal): JSON text frames. A client sends requests
 * `{ id, type, ...fields }` and gets exactly one reply per request, `{ id, ok: true, data }` or
 * `{ id, ok: false, error: { code, message, details? } }`; the server also sends notices
 * `{ notice: 'closed', code, reason }` when what a socket joined goes away. The shapes below are the
 * outer schema only: mediasoup validates RTP and DTLS parameters itself (ortc), and its refusals
 * come back as SHOWCASE_ERR_VALIDATION.
 */

const RequestId = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });
const ObjectId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Kind = Type.Union([Type.Literal('audio'), Type.Literal('video')]);
const Params = Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 256 }), Type.Number()]));
const Feedback = Type.Array(Type.Object({ type: Type.String({ maxLength: 32 }), parameter: Type.Optional(Type.String({ maxLength: 32 })) }), { maxItems: 16 });

/** A codec as mediasoup-client describes it (RtpCodecParameters / RtpCodecCapability). */
const Codec = Type.Object({
  kind: Type.Optional(Kind),
  mimeType: Type.String({ minLength: 3, maxLength: 64 }),
  payloadType: Type.Optional(Type.Integer({ minimum: 0, maximum: 127 })),
  preferredPayloadType: Type.Optional(Type.Integer({ minimum: 0, maximum: 127 })),
  clockRate: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
  parameters: Type.Optional(Params),
  rtcpFeedback: Type.Optional(Feedback),
});
const HeaderExtension = Type.Object({
  uri: Type.String({ minLength: 1, maxLength: 256 }),
  id: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
  preferredId: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
  kind: Type.Optional(Kind),
  encrypt: Type.Optional(Type.Boolean()),
  preferredEncrypt: Type.Optional(Type.Boolean()),
  direction: Type.Optional(Type.String({ maxLength: 16 })),
  parameters: Type.Optional(Params),
});

const RtpParameters = Type.Object({
  mid: Type.Optional(Type.String({ maxLength: 32 })),
  codecs: Type.Array(Codec, { minItems: 1, maxItems: 16 }),
  headerExtensions: Type.Optional(Type.Array(HeaderExtension, { maxItems: 32 })),
  // Simulcast layers at most: four encodings is already more than a phone sends.
  encodings: Type.Optional(Type.Array(Type.Record(Type.String({ maxLength: 32 }), Type.Unknown()), { maxItems: 4 })),
  rtcp: Type.Optional(Type.Object({ cname: Type.Optional(Type.String({ maxLength: 256 })), reducedSize: Type.Optional(Type.Boolean()), mux: Type.Optional(Type.Boolean()) })),
  msid: Type.Optional(Type.String({ maxLength: 256 })),
});

const RtpCapabilities = Type.Object({
  codecs: Type.Optional(Type.Array(Codec, { maxItems: 64 })),
  headerExtensions: Type.Optional(Type.Array(HeaderExtension, { maxItems: 64 })),
});

const DtlsParameters = Type.Object({
  role: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('client'), Type.Literal('server')])),
  fingerprints: Type.Array(Type.Object({ algorithm: Type.String({ maxLength: 16 }), value: Type.String({ maxLength: 256 }) }), { minItems: 1, maxItems: 8 }),
});

const msg = <T extends string, P extends Record<string, TSchema>>(type: T, props: P) =>
  Type.Object({ id: RequestId, type: Type.Literal(type), ...props }, { additionalProperties: false });

/** Every request a client may send, keyed by its `type`. */
export const SignalRequestSchemas = {
  join: Type.Union([
    msg('join', {
      role: Type.Literal('publisher'),
      streamKey: Type.String({ minLength: 1, maxLength: 256 }),
      /** The tracks the stream goes live with once all are produced (default both; video is required). */
      kinds: Type.Optional(Type.Array(Kind, { minItems: 1, maxItems: 2, uniqueItems: true })),
    }),
    msg('join', { role: Type.Literal('viewer'), streamId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }),
  ]),
  getRouterRtpCapabilities: msg('getRouterRtpCapabilities', {}),
  createTransport: msg('createTransport', {}),
  connectTransport: msg('connectTransport', { transportId: ObjectId, dtlsParameters: DtlsParameters }),
  produce: msg('produce', { transportId: ObjectId, kind: Kind, rtpParameters: RtpParameters, appData: Type.Optional(Type.Record(Type.String({ maxLength: 32 }), Type.Unknown())) }),
  consume: msg('consume', { transportId: ObjectId, kind: Kind, rtpCapabilities: RtpCapabilities }),
  resume: msg('resume', { consumerId: ObjectId }),
  unpublish: msg('unpublish', {}),
  leave: msg('leave', {}),
} as const;

export type SignalType = keyof typeof SignalRequestSchemas;
export type SignalRequest = { [K in SignalType]: Static<(typeof SignalRequestSchemas)[K]> }[SignalType];
export type SignalRequestOf<K extends SignalType> = Static<(typeof SignalRequestSchemas)[K]>;

const checks = new Map<string, TypeCheck<TSchema>>(Object.entries(SignalRequestSchemas).map(([k, s]) => [k, TypeCompiler.Compile(s as TSchema)]));

/** A reply frame. */
export type SignalReply =
  | { id: number; ok: true; data: Record<string, unknown> }
  | { id: number | null; ok: false; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

/** A notice the server sends on its own (not a reply). */
export interface SignalNotice {
  notice: 'closed';
  code: ErrorCode;
  reason: string;
}

/** The request id of a frame that failed validation, when it has a usable one (so the client can match the error). */
function idOf(v: unknown): number | null {
  const id = (v as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < 2 ** 31 ? id : null;
}

/** A frame that cannot be turned into a request: its error and the id to answer it with. */
export class SignalFrameError extends ShowcaseError {
  readonly requestId: number | null;
  constructor(requestId: number | null, code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.requestId = requestId;
  }
}

/**
 * Parses and validates one text frame (already size-checked): throws SignalFrameError with
 * SHOWCASE_ERR_SIGNAL_BAD_MESSAGE for text that is not JSON, an unknown type or a schema violation.
 */
export function parseSignalRequest(text: string): SignalRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SignalFrameError(null, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'the message is not JSON');
  }
  const id = idOf(v);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SignalFrameError(id, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'the message must be a JSON object');
  const type = (v as { type?: unknown }).type;
  const check = typeof type === 'string' ? checks.get(type) : undefined;
  if (!check) {
    throw new SignalFrameError(id, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', 'unknown message type', { type: typeof type === 'string' ? type.slice(0, 64) : null, known: [...checks.keys()] });
  }
  if (!check.Check(v)) {
    const first = check.Errors(v).First();
    throw new SignalFrameError(id, 'SHOWCASE_ERR_SIGNAL_BAD_MESSAGE', `invalid ${type} message: ${first ? `${first.path || '/'} ${first.message}` : 'schema violation'}`, { type, path: first?.path ?? '' });
  }
  return v as SignalRequest;
}
