import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ShowcaseError } from '../core/errors.js';
import { owned } from '../http/streams-routes.js';
import type { Authenticator, Principal } from '../http/auth.js';
import type { PublicProduct, WatchEventFeed } from '../http/watch-event-feed.js';
import type { ProductRecord } from '../store/commerce-types.js';
import type { Store, StreamRecord } from '../store/types.js';
import { soldCounts } from './conversion-routes.js';

/** What the product routes need. */
export interface ProductRoutesOptions {
  store: Store;
  auth: Authenticator;
  feed?: WatchEventFeed;
  maxProductsPerStream: number;
  bodyLimitBytes: number;
  /** A product was deleted (a highlight of it ends). */
  onDeleted?: (streamId: string, productId: string) => void;
}

const URL_MAX = 2048;
const Price = Type.Object({
  amount: Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,4})?$' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
}, { additionalProperties: false });
const fields = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  url: Type.String({ minLength: 1, maxLength: URL_MAX }),
  imageUrl: Type.Union([Type.String({ minLength: 1, maxLength: URL_MAX }), Type.Null()]),
  price: Type.Union([Price, Type.Null()]),
  ref: Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()]),
  description: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
};
const CreateBody = Type.Object({
  title: fields.title, url: fields.url, imageUrl: Type.Optional(fields.imageUrl), price: Type.Optional(fields.price),
  ref: Type.Optional(fields.ref), description: Type.Optional(fields.description),
}, { additionalProperties: false });
const PatchBody = Type.Object({
  title: Type.Optional(fields.title), url: Type.Optional(fields.url), imageUrl: Type.Optional(fields.imageUrl), price: Type.Optional(fields.price),
  ref: Type.Optional(fields.ref), description: Type.Optional(fields.description),
}, { additionalProperties: false, minProperties: 1 });
const ID = '^[A-Za-z0-9_-]{1,64}$';
const StreamParams = Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false });
const ProductParams = Type.Object({ id: Type.String({ pattern: ID }), pid: Type.String({ pattern: ID }) }, { additionalProperties: false });
const OrderBody = Type.Object({ ids: Type.Array(Type.String({ pattern: ID }), { maxItems: 500 }) }, { additionalProperties: false });

/**
 * An absolute http(s) URL without credentials, or a 400 SHOWCASE_ERR_COMMERCE_BAD_URL naming the
 * field: /go redirects shoppers to these, so javascript:, data: and relative URLs never get in.
 */
export function checkHttpUrl(field: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw badUrl(field, 'not an absolute URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badUrl(field, `scheme ${u.protocol} is not http or https`);
  if (u.username || u.password) throw badUrl(field, 'credentials in a URL are refused');
  return u.toString();
}

function badUrl(field: string, why: string): ShowcaseError {
  return new ShowcaseError('SHOWCASE_ERR_COMMERCE_BAD_URL', `${field} must be an absolute http(s) URL: ${why}`, { field, fields: [{ field: `/${field}`, message: why }] });
}

/** A new product id: short, URL-safe, not enumerable. */
function newProductId(): string {
  return `pr_${randomBytes(9).toString('base64url')}`;
}

/** The /go link of a product (relative: the page and the API share the origin). */
export function buyUrl(streamId: string, productId: string): string {
  return `/go/${streamId}/${productId}`;
}

/** A product as viewers see it. */
export function publicProduct(p: ProductRecord): PublicProduct {
  return { id: p.id, position: p.position, title: p.title, imageUrl: p.imageUrl, price: p.price, description: p.description, buyUrl: buyUrl(p.streamId, p.id) };
}

/** A product as its creator and the operator see it: the shop URL and ref too. */
export function ownerProduct(p: ProductRecord): Record<string, unknown> {
  return { ...publicProduct(p), url: p.url, ref: p.ref, createdAt: new Date(p.createdAt).toISOString(), updatedAt: new Date(p.updatedAt).toISOString() };
}

function canManage(p: Principal, rec: StreamRecord): boolean {
  return p.role === 'operator' || (p.role === 'creator' && rec.ownerId === p.creator.id);
}

/** /v1/streams/:id/products: the carousel, edited by its creator or the operator, read by anyone. */
export async function productRoutes(app: FastifyInstance, o: ProductRoutesOptions): Promise<void> {
  const bodyLimit = o.bodyLimitBytes;
  const pushList = async (streamId: string): Promise<void> => {
    if (!o.feed) return;
    const items = (await o.store.listProducts(streamId)).map(publicProduct);
    o.feed.publish(streamId, { type: 'products', items });
  };
  const notFound = (): ShowcaseError => new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no product with that id on this stream');

  app.post<{ Params: Static<typeof StreamParams>; Body: Static<typeof CreateBody> }>('/v1/streams/:id/products', { bodyLimit, schema: { params: StreamParams, body: CreateBody } }, async (req, reply) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const b = req.body;
    const now = Date.now();
    let created: ProductRecord;
    try {
      created = await o.store.createProduct({
        id: newProductId(), streamId: rec.id, title: b.title, url: checkHttpUrl('url', b.url),
        imageUrl: b.imageUrl ? checkHttpUrl('imageUrl', b.imageUrl) : null, price: b.price ?? null, ref: b.ref ?? null, description: b.description ?? null,
        createdAt: now, updatedAt: now,
      }, o.maxProductsPerStream);
    } catch (err) {
      if (err instanceof ShowcaseError && err.code === 'SHOWCASE_ERR_CONFLICT' && err.details?.limit !== undefined) {
        throw new ShowcaseError('SHOWCASE_ERR_COMMERCE_PRODUCT_LIMIT', `a stream holds at most ${o.maxProductsPerStream} products`, { limit: o.maxProductsPerStream });
      }
      throw err;
    }
    await pushList(rec.id);
    reply.header('location', `/v1/streams/${rec.id}/products/${created.id}`);
    return reply.status(201).send(ownerProduct(created));
  });

  app.get<{ Params: Static<typeof StreamParams> }>('/v1/streams/:id/products', { schema: { params: StreamParams } }, async (req) => {
    const p = await o.auth.resolve(req);
    const rec = await o.store.getStream(req.params.id);
    if (!rec) throw new ShowcaseError('SHOWCASE_ERR_NOT_FOUND', 'no stream with that id');
    const manager = canManage(p, rec);
    const view: (x: ProductRecord) => Record<string, unknown> = manager ? ownerProduct : (x) => ({ ...publicProduct(x) });
    // Units sold during the stream: for viewers only while the creator shows them (GET/PATCH .../commerce).
    const [products, settings] = await Promise.all([o.store.listProducts(rec.id), o.store.getStreamCommerce(rec.id)]);
    const sold = manager || settings.showSoldCounts ? await soldCounts(o.store, rec.id) : undefined;
    return { items: products.map((x) => (sold ? { ...view(x), sold: sold[x.id] ?? 0 } : view(x))) };
  });

  app.patch<{ Params: Static<typeof ProductParams>; Body: Static<typeof PatchBody> }>('/v1/streams/:id/products/:pid', { bodyLimit, schema: { params: ProductParams, body: PatchBody } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const b = req.body;
    const patch = {
      ...b,
      ...(b.url !== undefined ? { url: checkHttpUrl('url', b.url) } : {}),
      ...(b.imageUrl ? { imageUrl: checkHttpUrl('imageUrl', b.imageUrl) } : {}),
    };
    const updated = await o.store.updateProduct(rec.id, req.params.pid, patch, Date.now());
    if (!updated) throw notFound();
    await pushList(rec.id);
    return ownerProduct(updated);
  });

  app.delete<{ Params: Static<typeof ProductParams> }>('/v1/streams/:id/products/:pid', { schema: { params: ProductParams } }, async (req, reply) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    if (!(await o.store.deleteProduct(rec.id, req.params.pid))) throw notFound();
    o.onDeleted?.(rec.id, req.params.pid);
    await pushList(rec.id);
    return reply.status(204).send();
  });

  app.put<{ Params: Static<typeof StreamParams>; Body: Static<typeof OrderBody> }>('/v1/streams/:id/products/order', { bodyLimit, schema: { params: StreamParams, body: OrderBody } }, async (req) => {
    const p = await o.auth.requireAuthenticated(req);
    const rec = await owned(o.store, p, req.params.id);
    const items = await o.store.reorderProducts(rec.id, req.body.ids, Date.now());
    o.feed?.publish(rec.id, { type: 'products', items: items.map(publicProduct) });
    return { items: items.map(ownerProduct) };
  });
}
