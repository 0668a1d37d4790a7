import type { IncomingMessage, ServerResponse } from 'node:http';
import { isatty } from 'node:tty';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import pino, { DestinationStream, LogFn, Logger } from 'pino';
import type { Options } from 'pino-http';
import { prettyFactory } from 'pino-pretty';
import { requestIdOf } from 'src/common/request-context';
import { AppConfig } from 'src/config/app-config';

/**
 * Nest's own wiring report (one line per module and route at every start). It says nothing about
 * what the gateway is doing, so it is logged at debug instead of info.
 */
const WIRING_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** What pino-http says when a response is a 5xx without an error of its own. */
const SYNTHETIC_ERROR = /^failed with status code \d+$/;

/** Fields the readable line already shows in its message, or that only machines need. */
const PRETTY_IGNORE = 'pid,hostname,context,req,res,responseTime,requestId';

/** The options of `LoggerModule.forRoot`: JSON lines for machines, or one readable line each. */
export function loggerModuleParams(
  config: Pick<AppConfig, 'logLevel' | 'logFormat'>,
  out: number | DestinationStream = 1,
): Params {
  const pretty = config.logFormat === 'pretty';
  const options: Options = {
    level: config.logLevel,
    genReqId: (req) => requestIdOf(req as never),
    // Tokens, cookies, bodies and query strings (search terms, filters) never reach the log.
    redact: [
      'req.headers.authorization',
      'req.headers.cookie',
      'req.body',
      'req.query',
      'res.headers["set-cookie"]',
    ],
    serializers: { req: withoutQueryString },
    hooks: { logMethod: wiringAtDebug },
    // A terminal wants to see what went wrong, not every request; a log collector wants them all.
    customLogLevel: pretty
      ? (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'debug')
      : (_req, res, err) =>
          err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    ...(pretty
      ? {
          customSuccessMessage: (req, res, ms) => requestLine(req, res, `${ms} ms`),
          // pino-http's 4th argument, missing from its types.
          customErrorMessage: (req, res, err, ms?: number) =>
            requestLine(req, res, SYNTHETIC_ERROR.test(err.message) ? `${ms} ms` : err.message),
          // The exception and its stack are logged once, by the exception filter; a 5xx request
          // line without one would carry a made-up error with pino-http's own stack.
          customErrorObject: (_req, _res, _err, { err: _e, ...rest }: Record<string, unknown>) =>
            rest,
        }
      : {}),
  };
  return {
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: [options, pretty ? prettyDestination(out) : syncDestination(out)],
  };
}

/**
 * Written synchronously: lines stay in order with the start-up banner (plain stdout) and nothing
 * is lost when the process exits at once. The gateway writes a few lines per request at most.
 */
function syncDestination(out: number | DestinationStream): DestinationStream {
  return typeof out === 'number' ? pino.destination({ dest: out, sync: true }) : out;
}

/**
 * pino-pretty's formatter called in-line on each JSON line, not as a transport: no worker
 * thread, no stream pipeline, so it behaves the same under jest and in a short-lived command.
 */
function prettyDestination(out: number | DestinationStream): DestinationStream {
  const target = syncDestination(out);
  const format = prettyFactory({
    // Colours only on a terminal: a file, a pipe or CI gets plain text.
    colorize: typeof out === 'number' && isatty(out) && !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: PRETTY_IGNORE,
    singleLine: true,
    messageFormat: (log, messageKey) => {
      const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
      const requestId =
        typeof log.requestId === 'string'
          ? log.requestId
          : (log.level as number) >= 50 && typeof (log.req as { id?: unknown })?.id === 'string'
            ? (log.req as { id: string }).id
            : undefined;
      return `${context}${String(log[messageKey] ?? '')}${requestId ? ` (request ${requestId})` : ''}`;
    },
  });
  return { write: (line: string) => target.write(format(line)) };
}

function requestLine(req: IncomingMessage, res: ServerResponse, tail: string): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  return `${req.method} ${stripQuery(url)} ${res.statusCode} ${tail}`;
}

function stripQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?[Redacted]`;
}

function withoutQueryString(req: { url?: string; query?: unknown }): object {
  const { query: _query, ...rest } = req;
  return { ...rest, url: rest.url === undefined ? undefined : stripQuery(rest.url) };
}

function wiringAtDebug(this: Logger, args: Parameters<LogFn>, method: LogFn, level: number): void {
  const first = args[0] as { context?: unknown } | undefined;
  const isWiring =
    level === this.levels.values.info &&
    typeof first === 'object' &&
    first !== null &&
    WIRING_CONTEXTS.has(first.context as string);
  if (!isWiring) return method.apply(this, args);
  if (this.isLevelEnabled('debug')) (this.debug as LogFn).apply(this, args);
}
