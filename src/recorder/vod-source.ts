import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/types.js';
import { MASTER_FILE } from './finalize.js';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const NAME = /^[a-z0-9_-]{1,16}$/;
const FILE = /^(index\.m3u8|init\d{1,9}\.mp4|s\d{1,12}\.m4s)$/;

/**
 * Replays an ended stream from its recording on disk, at the live URLs (/hls/:id/master.m3u8,
 * /hls/:id/:rendition/index.m3u8, init<run>.mp4, s<msn>.m4s): the VOD playlists finalize wrote and
 * the very segment files recorded live. Shaped as hls-routes' `vod` option: a file path or undefined.
 */
export class RecordingVodSource {
  readonly #root: string;
  readonly #store: Pick<Store, 'getStream'>;

  constructor(o: { root: string; store: Pick<Store, 'getStream'> }) {
    this.#root = o.root;
    this.#store = o.store;
  }

  /**
   * The file answering a replay request, undefined when there is none: only for ended streams whose
   * VOD playlists exist (a live stream belongs to the live origin), names matched strictly.
   */
  async file(streamId: string, rendition: string | undefined, file: string): Promise<string | undefined> {
    if (!ID.test(streamId) || (await this.#store.getStream(streamId))?.state !== 'ended') return undefined;
    const dir = join(this.#root, streamId);
    if (!existsSync(join(dir, MASTER_FILE))) return undefined;
    let path: string;
    if (rendition === undefined) {
      if (file !== MASTER_FILE) return undefined;
      path = join(dir, MASTER_FILE);
    } else {
      if (!NAME.test(rendition) || !FILE.test(file)) return undefined;
      path = join(dir, rendition, file);
    }
    return existsSync(path) ? path : undefined;
  }
}
