// A real SMTP server on loopback (the smtp-server package) that keeps what
// arrives, with authentication required. It can be stopped and started again
// on the same port, made to refuse logins, or to refuse chosen recipients.
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/rig/ports.ts';

export interface ReceivedMail {
  /** RCPT TO addresses, as the server saw them. */
  envelopeTo: string[];
  /** Header names in lower case; folded lines joined. */
  headers: Map<string, string>;
  subject: string;
  to: string[];
  /** The text body, transfer encoding undone. */
  text: string;
}

export interface SmtpSink {
  port: number;
  user: string;
  password: string;
  received: ReceivedMail[];
  /** Logins presented while this is set are refused with 535. */
  refuseAuth: boolean;
  /** RCPT TO these addresses is answered 550. */
  refuseRecipients: Set<string>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSmtpSink(user = 'certkeep', password = 's3cret-Pa55word'): Promise<SmtpSink> {
  const port = await freePort();
  let server: SMTPServer | undefined;
  const sink: SmtpSink = {
    port,
    user,
    password,
    received: [],
    refuseAuth: false,
    refuseRecipients: new Set(),
    async start() {
      server = new SMTPServer({
        logger: false,
        // Plain text on loopback: the client's TLS is not what these tests are about.
        disabledCommands: ['STARTTLS'],
        allowInsecureAuth: true,
        onAuth(auth, _session, callback) {
          if (!sink.refuseAuth && auth.username === user && auth.password === password)
            return callback(null, { user });
          callback(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
        },
        onRcptTo(address, _session, callback) {
          if (sink.refuseRecipients.has(address.address)) {
            return callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
          }
          callback();
        },
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            sink.received.push(
              parseMail(
                Buffer.concat(chunks).toString('utf8'),
                session.envelope.rcptTo.map((r) => r.address),
              ),
            );
            callback();
          });
        },
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, '127.0.0.1', () => resolve());
      });
    },
    async stop() {
      const closing = server;
      server = undefined;
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
  await sink.start();
  return sink;
}

function parseMail(raw: string, envelopeTo: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = raw.slice(split + 4);
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  return {
    envelopeTo,
    headers,
    subject: headers.get('subject') ?? '',
    to: (headers.get('to') ?? '').split(',').map((address) => address.trim()),
    text: decodeBody(body, encoding).replace(/\r\n/g, '\n'),
  };
}

function decodeBody(body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  if (encoding !== 'quoted-printable') return body;
  const bytes = body
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
