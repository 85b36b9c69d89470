/**
 * onMetaData (what OBS and ffmpeg send in @setDataFrame) to MediaInfo. Values come from the
 * publisher, so each is type-checked and range-checked; anything odd is left out rather than trusted.
 */
import type { MediaInfo } from '../../core/media.js';
import type { AmfValue } from './amf0.js';

const VIDEO_CODECS: Record<string, string> = {
  '2': 'h263', '3': 'screen', '4': 'vp6', '5': 'vp6a', '6': 'screen2', '7': 'h264', '12': 'hevc', '13': 'av1',
  avc1: 'h264', hvc1: 'hevc', av01: 'av1', vp09: 'vp9',
};
const AUDIO_CODECS: Record<string, string> = {
  '0': 'pcm', '1': 'adpcm', '2': 'mp3', '3': 'pcm', '4': 'nellymoser', '5': 'nellymoser', '6': 'nellymoser',
  '7': 'g711a', '8': 'g711u', '10': 'aac', '11': 'speex', '14': 'mp3', '.mp3': 'mp3', mp4a: 'aac', Opus: 'opus', opus: 'opus',
};

function num(raw: Record<string, AmfValue>, key: string, max: number): number | undefined {
  const v = raw[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 && n <= max ? n : undefined;
}

function codec(v: AmfValue, names: Record<string, string>): string | undefined {
  if (typeof v !== 'number' && typeof v !== 'string') return undefined;
  const key = String(v).slice(0, 16);
  return Object.hasOwn(names, key) ? names[key] : key || undefined;
}

/** Picks the onMetaData object out of a data message's values (with or without @setDataFrame). */
export function findMetadata(values: AmfValue[]): Record<string, AmfValue> | undefined {
  const i = values[0] === '@setDataFrame' ? 1 : 0;
  if (values[i] !== 'onMetaData') return undefined;
  const raw = values[i + 1];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Date) return undefined;
  return raw;
}

/** The MediaInfo an onMetaData object describes; bitrates are in kbit/s as encoders write them. */
export function mediaInfoFromMetadata(raw: Record<string, AmfValue>): MediaInfo {
  const info: MediaInfo = {};
  const width = num(raw, 'width', 16384);
  const height = num(raw, 'height', 16384);
  const frameRate = num(raw, 'framerate', 1000) ?? num(raw, 'fps', 1000);
  const videoCodec = codec(raw.videocodecid, VIDEO_CODECS);
  const audioCodec = codec(raw.audiocodecid, AUDIO_CODECS);
  const videoBitrateKbps = num(raw, 'videodatarate', 1_000_000);
  const audioBitrateKbps = num(raw, 'audiodatarate', 100_000);
  if (width !== undefined) info.width = Math.round(width);
  if (height !== undefined) info.height = Math.round(height);
  if (frameRate !== undefined) info.frameRate = frameRate;
  if (videoCodec !== undefined) info.videoCodec = videoCodec;
  if (audioCodec !== undefined) info.audioCodec = audioCodec;
  if (videoBitrateKbps !== undefined) info.videoBitrateKbps = videoBitrateKbps;
  if (audioBitrateKbps !== undefined) info.audioBitrateKbps = audioBitrateKbps;
  if (typeof raw.encoder === 'string' && raw.encoder.length > 0) info.encoder = raw.encoder.slice(0, 100);
  return info;
}
