import nodemailer from 'nodemailer';
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

/** SMTP through nodemailer, one connection per message (notifications are rare). */
export class NodemailerMailer implements Mailer {
  async send(server: SmtpServer, message: MailMessage): Promise<void> {
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
  post(url: string, body: unknown): Promise<void>;
}

export class FetchWebhookClient implements WebhookClient {
  async post(url: string, body: unknown): Promise<void> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'cloud-backup-engine' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`the webhook answered HTTP ${res.status}`);
  }
}
