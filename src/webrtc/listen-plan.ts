import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { types } from 'mediasoup';
import type { Logger } from '../core/logger.js';

/** What os.networkInterfaces() returns (injectable so the plan is testable without the host's NICs). */
export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Where the announced addresses came from. */
export type AnnouncedSource = 'config' | 'interfaces' | 'listenIp';

/** The WebRTC transports' sockets and the ICE candidates they announce (one plan for WHIP, WHEP and signaling). */
export interface WebRtcListenPlan {
  /** Handed to every createWebRtcTransport: UDP for each address first (preferred), then TCP. */
  listenInfos: types.TransportListenInfo[];
  /** The addresses (IPs or host names) that ICE candidates carry, in preference order. */
  announced: string[];
  source: AnnouncedSource;
  /** Only loopback addresses would be announced: clients on other hosts (phones) cannot connect. */
  loopbackOnly: boolean;
}

/** What the plan is made from (the webrtc.* config keys it reads). */
export interface ListenPlanInput {
  listenIp: string;
  announcedAddress: string | readonly string[];
  enableTcp: boolean;
  /** ICE ports (each bind address has a range of its own); absent: the worker's range. */
  rtcMinPort?: number;
  rtcMaxPort?: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** True for 0.0.0.0 and :: (listen on every interface). */
export function isWildcard(ip: string): boolean {
  return WILDCARDS.has(ip);
}

/** True for 127.0.0.0/8, ::1 and "localhost": addresses no other host can reach. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return a === 'localhost' || a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** webrtc.announcedAddress as a list: a string may hold several, comma-separated (handy in the environment). */
export function announcedAddressList(value: string | readonly string[]): string[] {
  const parts = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set(parts)];
}

/**
 * The host's own addresses, as MediaMTX's webrtcIPsFromInterfaces: every non-internal IPv4, then
 * every non-internal IPv6. IPv6 link-local (fe80::/10) is left out: it only works with a zone id
 * (fe80::1%eth0) that neither an SDP candidate nor mediasoup's bind can carry, and it never crosses
 * a router anyway.
 */
export function interfaceAddresses(table: InterfaceTable = networkInterfaces()): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const infos of Object.values(table)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') v4.push(info.address);
      else if (!/^fe[89ab]/i.test(info.address)) v6.push(info.address);
    }
  }
  return [...new Set([...v4, ...v6])];
}

/** The loopback addresses present (what is announced when the host has nothing else). */
function loopbackAddresses(table: InterfaceTable): string[] {
  const out: string[] = [];
  for (const infos of Object.values(table)) for (const info of infos ?? []) if (info.internal && info.family === 'IPv4') out.push(info.address);
  return out.length > 0 ? [...new Set(out)] : ['127.0.0.1'];
}

/**
 * UDP sockets for every address first, then TCP: mediasoup lowers the ICE preference per listen
 * entry, in order. The port range goes on each entry (mediasoup 3.19 deprecates the worker's).
 */
function withProtocols(entries: Array<{ ip: string; announcedAddress?: string }>, input: ListenPlanInput): types.TransportListenInfo[] {
  const range = input.rtcMinPort !== undefined && input.rtcMaxPort !== undefined ? { portRange: { min: input.rtcMinPort, max: input.rtcMaxPort } } : {};
  const udp = entries.map((e) => ({ protocol: 'udp' as const, ...e, ...range }));
  return input.enableTcp ? [...udp, ...entries.map((e) => ({ protocol: 'tcp' as const, ...e, ...range }))] : udp;
}

/**
 * Decides what WebRTC transports listen on and announce:
 * - announcedAddress set (NAT, a DNS name): one socket per announced address on listenIp, each
 *   candidate carrying that address (an IPv6 literal announced over listenIp 0.0.0.0 listens on ::).
 * - listenIp a specific address: that address, as before.
 * - listenIp 0.0.0.0 or :: (the default): one socket bound to each of the host's own addresses. A
 *   wildcard socket announcing several addresses would answer from whatever source address the
 *   kernel's route picks, which ICE on a multi-homed host rejects; a bound socket answers from the
 *   address the client reached. mediasoup keeps one port range per bind address, so this costs no
 *   extra ports out of rtcMinPort..rtcMaxPort per address.
 */
export function planWebRtcListen(input: ListenPlanInput, interfaces: InterfaceTable | (() => InterfaceTable) = networkInterfaces): WebRtcListenPlan {
  const configured = announcedAddressList(input.announcedAddress);
  if (configured.length > 0) {
    const entries = configured.map((announcedAddress) => ({
      ip: input.listenIp === '0.0.0.0' && isIP(announcedAddress) === 6 ? '::' : input.listenIp,
      announcedAddress,
    }));
    return { listenInfos: withProtocols(entries, input), announced: configured, source: 'config', loopbackOnly: configured.every(isLoopback) };
  }
  if (!isWildcard(input.listenIp)) {
    return { listenInfos: withProtocols([{ ip: input.listenIp }], input), announced: [input.listenIp], source: 'listenIp', loopbackOnly: isLoopback(input.listenIp) };
  }
  const table = typeof interfaces === 'function' ? interfaces() : interfaces;
  const own = interfaceAddresses(table);
  const addresses = own.length > 0 ? own : loopbackAddresses(table);
  return { listenInfos: withProtocols(addresses.map((ip) => ({ ip })), input), announced: addresses, source: 'interfaces', loopbackOnly: own.length === 0 };
}

/** Logs what WebRTC announces (info), and a coded warning when only loopback would be announced. */
export function logListenPlan(plan: WebRtcListenPlan, log: Pick<Logger, 'info' | 'warn'>): void {
  log.info({ announced: plan.announced, source: plan.source, listen: plan.listenInfos.map((l) => `${l.protocol}:${l.ip}`) }, 'WebRTC announces these addresses in ICE candidates');
  if (plan.loopbackOnly) {
    log.warn({ code: 'SHOWCASE_ERR_WEBRTC_LOOPBACK_ONLY', announced: plan.announced },
      'WebRTC announces only loopback addresses: phones and other hosts cannot connect (set webrtc.announcedAddress or listen on a reachable interface)');
  }
}

/** What WHIP, WHEP and signaling are handed: fixed listen entries, or a function asked for each new transport. */
export type ListenInfosSource = types.TransportListenInfo[] | (() => types.TransportListenInfo[]);

/** The listen entries for a transport being created now. */
export function currentListenInfos(source: ListenInfosSource): types.TransportListenInfo[] {
  return typeof source === 'function' ? source() : source;
}

/**
 * The plan as the host's addresses change (DHCP, a VPN coming up, a test's veth going away): a
 * socket bound to an address that vanished would fail every new transport, so with the interfaces
 * as the source the table is read again for new transports, at most once per refreshMs, and a
 * change is logged as at start-up. Configured addresses never change.
 */
export class WebRtcListenPlanner {
  readonly #input: ListenPlanInput;
  readonly #log: Pick<Logger, 'info' | 'warn'>;
  readonly #table: () => InterfaceTable;
  readonly #refreshMs: number;
  #plan: WebRtcListenPlan;
  #readAt: number;

  constructor(input: ListenPlanInput, log: Pick<Logger, 'info' | 'warn'>, opts: { table?: () => InterfaceTable; refreshMs?: number } = {}) {
    this.#input = input;
    this.#log = log;
    this.#table = opts.table ?? networkInterfaces;
    this.#refreshMs = opts.refreshMs ?? 1000;
    this.#plan = planWebRtcListen(input, this.#table);
    this.#readAt = Date.now();
    logListenPlan(this.#plan, log);
  }

  /** The plan in force (the last one read). */
  get plan(): WebRtcListenPlan {
    return this.#plan;
  }

  /** Listen entries for a new transport: re-planned from the interfaces when the last read is older than refreshMs. */
  readonly listenInfos = (): types.TransportListenInfo[] => {
    if (this.#plan.source === 'interfaces' && Date.now() - this.#readAt >= this.#refreshMs) {
      this.#readAt = Date.now();
      const next = planWebRtcListen(this.#input, this.#table);
      if (next.announced.join(' ') !== this.#plan.announced.join(' ')) logListenPlan(next, this.#log);
      this.#plan = next;
    }
    return this.#plan.listenInfos;
  };
}
