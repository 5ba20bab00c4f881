// TLS-ALPN-01 (RFC 8737): a TLS listener that speaks only acme-tls/1 and,
// for the name in the SNI, presents the validation certificate of the answer
// its source holds for that identifier. A handshake offering other protocols
// is refused; once it completes, the connection is closed (RFC 8737 §4).
import type { Socket } from 'node:net';
import { createSecureContext, createServer, type SecureContext } from 'node:tls';
import { ACME_TLS_PROTOCOL, createTlsAlpnCertificate, type Identifier, identifierFromServerName } from '../pki/index.ts';
import { type AnswerSource, MemoryAnswers } from './answers.ts';
import { type ListenAdvice, listenOn } from './listen.ts';
import type { ChallengeSolver, ChallengeTask } from './solver.ts';

/** A CA connects a few times per challenge (Pebble three, Let's Encrypt from several places): one certificate serves them all. */
const CACHED_CERTIFICATES = 256;

export interface TlsAlpnResponderOptions {
  host?: string;
  port: number;
  /** Key authorizations keyed by identifier value (a lower-case DNS name or a canonical IP). */
  answers: AnswerSource;
  /** The option that chose the port, for the error when it is taken: --tls-port (default) or --tls-alpn-listen. */
  option?: string;
}

export interface TlsAlpnResponder {
  port: number;
  close(): Promise<void>;
}

export async function startTlsAlpnResponder(options: TlsAlpnResponderOptions): Promise<TlsAlpnResponder> {
  const contexts = new CertificateCache();
  const server = createServer({
    minVersion: 'TLSv1.2', // RFC 8737 §4
    ALPNCallback: ({ protocols }) => (protocols.includes(ACME_TLS_PROTOCOL) ? ACME_TLS_PROTOCOL : undefined),
    SNICallback: (serverName, reply) => {
      const identifier = identifierFromServerName(serverName);
      Promise.resolve(options.answers.keyAuthorization(identifier.value))
        .then((keyAuthorization) => {
          if (!keyAuthorization) throw new Error(`no TLS-ALPN-01 challenge pending for ${serverName}`);
          return contexts.get(identifier, keyAuthorization);
        })
        .then(
          (context) => reply(null, context),
          (error: Error) => reply(error),
        );
    },
  });
  // The protocol carries no application data: the handshake is the answer.
  server.on('secureConnection', (socket) => socket.end());
  // A refused handshake (no answer for the name, another protocol) concerns only that client.
  server.on('tlsClientError', () => {});
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await listenOn(server, options.host ?? '0.0.0.0', options.port, listenAdvice(options.option ?? '--tls-port'));
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A client stalled mid-handshake must not hold the port.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function listenAdvice(option: string): ListenAdvice {
  if (option !== '--tls-port') {
    return { what: 'TLS-ALPN-01', inUse: `stop what listens there or choose another ${option}`, denied: `run as root, grant CAP_NET_BIND_SERVICE, or choose another ${option}` };
  }
  return {
    what: 'TLS-ALPN-01',
    inUse: 'stop what listens there (a web server on 443 must be stopped while certkeep issues), pass --tls-port N and forward port 443 to it, or use --challenge http-01 or dns-01',
    denied: 'run as root, grant CAP_NET_BIND_SERVICE, or pass --tls-port N and forward port 443 to it',
  };
}

/** Validation certificates by identifier and key authorization, the oldest dropped first. */
class CertificateCache {
  readonly #contexts = new Map<string, Promise<SecureContext>>();

  get(identifier: Identifier, keyAuthorization: string): Promise<SecureContext> {
    const key = `${identifier.value} ${keyAuthorization}`;
    let context = this.#contexts.get(key);
    if (!context) {
      context = createTlsAlpnCertificate(identifier, keyAuthorization).then(({ certPem, keyPem }) => createSecureContext({ cert: certPem, key: keyPem }));
      this.#contexts.set(key, context);
      context.catch(() => this.#contexts.delete(key));
      if (this.#contexts.size > CACHED_CERTIFICATES) this.#contexts.delete(this.#contexts.keys().next().value!);
    }
    return context;
  }
}

/** The solver over a responder this process runs itself (the CLI): answers held in memory by identifier. */
export class TlsAlpnSolver implements ChallengeSolver {
  readonly type = 'tls-alpn-01' as const;
  readonly #answers: MemoryAnswers;
  readonly #responder: TlsAlpnResponder;

  constructor(answers: MemoryAnswers, responder: TlsAlpnResponder) {
    this.#answers = answers;
    this.#responder = responder;
  }

  static async start(options: { host?: string; port: number }): Promise<TlsAlpnSolver> {
    const answers = new MemoryAnswers();
    return new TlsAlpnSolver(answers, await startTlsAlpnResponder({ ...options, answers }));
  }

  async present(task: ChallengeTask): Promise<void> {
    this.#answers.set(task.identifier.value, task.keyAuthorization);
  }

  async cleanup(task: ChallengeTask): Promise<void> {
    this.#answers.delete(task.identifier.value, task.keyAuthorization);
  }

  close(): Promise<void> {
    return this.#responder.close();
  }
}
