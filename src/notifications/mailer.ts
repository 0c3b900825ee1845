import type { Agent } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SmtpTlsMode } from '../config/app-config.js';

/** A complete SMTP setup: where to send from and how to log in. */
export interface SmtpServer {
  host: string;
  port: number;
  tls: SmtpTlsMode;
  user?: string;
  password?: string;
  from: string;
}

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

/** Sends one message; rejects with the server's answer when it refuses. */
export interface Mailer {
  send(server: SmtpServer, message: MailMessage): Promise<void>;
}

/**
 * SMTP through nodemailer, one connection per message (notifications are rare). nodemailer is
 * imported with the first message, not at start-up (~650 KiB of source, ~2 MiB of heap).
 */
export class NodemailerMailer implements Mailer {
  async send(server: SmtpServer, message: MailMessage): Promise<void> {
    const { default: nodemailer } = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: server.host,
      port: server.port,
      secure: server.tls === 'tls',
      requireTLS: server.tls === 'starttls',
      ignoreTLS: server.tls === 'none',
      auth: server.user ? { user: server.user, pass: server.password ?? '' } : undefined,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
    try {
      await transport.sendMail({
        from: server.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } finally {
      transport.close();
    }
  }
}

/** JSON POST to a task's webhook. */
export interface WebhookClient {
  /** `restricted`: the owner is no admin, so the outbound address policy applies. */
  post(url: string, body: unknown, opts?: { restricted?: boolean }): Promise<void>;
}

/** Chooses the agent of a restricted request (one that refuses non-public addresses). */
export interface OutboundAgents {
  agentFor(url: string, options?: { timeoutMs?: number }): Agent;
}

/** A webhook has this long to answer, headers and body. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Bytes of a webhook's answer read before the connection is dropped (the answer is unused). */
export const WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * node:http rather than fetch: fetch takes no http.Agent, and the agent is where the address
 * policy checks every connection after DNS resolution. Redirects are not followed (a redirect
 * to an internal address is the classic way around a check); errors name the status only,
 * never the remote body.
 */
export class HttpWebhookClient implements WebhookClient {
  constructor(private readonly agents: OutboundAgents) {}

  post(url: string, body: unknown, opts: { restricted?: boolean } = {}): Promise<void> {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return Promise.reject(new Error('the webhook URL is not http(s)'));
    }
    const payload = Buffer.from(JSON.stringify(body));
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      const req = send(u, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(payload.length),
          'user-agent': 'cloud-backup-engine',
        },
        agent: opts.restricted
          ? this.agents.agentFor(url, { timeoutMs: WEBHOOK_TIMEOUT_MS })
          : undefined,
        timeout: WEBHOOK_TIMEOUT_MS,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      req.on('timeout', () =>
        req.destroy(new Error(`the webhook did not answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', (e: Error) =>
        reject(
          new Error(
            e.name === 'AbortError'
              ? `the webhook did not answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
              : /not allowed/.test(e.message)
                ? 'the webhook address is private, loopback or link-local (ask an admin: OUTBOUND_ALLOW)'
                : `the webhook could not be reached (${(e as NodeJS.ErrnoException).code ?? e.message})`,
          ),
        ),
      );
      req.on('response', (res) => {
        let seen = 0;
        res.on('data', (c: Buffer) => {
          seen += c.length;
          if (seen > WEBHOOK_MAX_RESPONSE_BYTES) res.destroy();
        });
        const done = () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else if (status >= 300 && status < 400)
            reject(
              new Error(
                `the webhook answered a redirect (HTTP ${status}); redirects are not followed`,
              ),
            );
          else reject(new Error(`the webhook answered HTTP ${status}`));
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => undefined);
      });
      req.end(payload);
    });
  }
}
