import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** The server's root logger: pino JSON on stdout; secrets are redacted by path. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { svc: 'showcase' },
    redact: { paths: ['req.headers.authorization', 'streamKey', 'token', '*.streamKey', '*.token'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination as never) : pino(options);
}

/** A short, log-safe prefix of a secret (stream key or token): enough to correlate, useless to replay. */
export function secretPrefix(secret: string): string {
  return secret.length <= 4 ? '****' : `${secret.slice(0, 4)}…`;
}
