// Reads the mail the app wrote with EMAIL_BACKEND=file: one .eml file per message.
// Just enough MIME to read what a person would: headers (with RFC 2047 encoded words),
// multipart bodies, quoted-printable (soft line breaks `=\r\n`, `=3D`) and base64.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function splitHead(raw) {
  const match = /\r?\n\r?\n/.exec(raw);
  if (!match) return { head: raw, body: '' };
  return { head: raw.slice(0, match.index), body: raw.slice(match.index + match[0].length) };
}

function parseHeaders(head) {
  const headers = {};
  // Unfold continuation lines first.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Decodes quoted-printable text (as UTF-8). */
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Decodes RFC 2047 encoded words (`=?utf-8?q?...?=`, `=?utf-8?b?...?=`) in a header value. */
export function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bqBQ])\?([^?]*)\?=/g, (_, _charset, enc, text) => {
      if (enc.toLowerCase() === 'b') return Buffer.from(text, 'base64').toString('utf8');
      return decodeQuotedPrintable(text.replace(/_/g, ' '));
    });
}

function decodeBody(body, encoding) {
  switch ((encoding || '').toLowerCase()) {
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

/** A MIME parameter (`filename`, `name`) of a header value, unquoted and decoded. */
function headerParam(value, name) {
  const match = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value || '');
  return match ? decodeHeader(match[1] ?? match[2]) : '';
}

/**
 * Collects the text parts of a MIME entity, depth first, and every part that is neither
 * text nor multipart, or is marked `Content-Disposition: attachment`, as an attachment
 * { filename, contentType, contentId, data (Buffer) }.
 */
function collectParts(raw, out) {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const type = (headers['content-type'] || 'text/plain').toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] || '');
  const disposition = headers['content-disposition'] || '';
  if (!type.startsWith('multipart/') && (!type.startsWith('text/') || /^\s*attachment/i.test(disposition))) {
    const encoding = (headers['content-transfer-encoding'] || '').toLowerCase();
    const data = encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : Buffer.from(encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : body, 'utf8');
    out.attachments.push({
      filename: headerParam(disposition, 'filename') || headerParam(headers['content-type'], 'name'),
      contentType: type.split(';')[0].trim(),
      contentId: (headers['content-id'] || '').replace(/^<|>$/g, ''),
      data,
    });
  }
  if (type.startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary[1]}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      collectParts(part.replace(/^\r?\n/, ''), out);
    }
  } else if (type.startsWith('text/html')) {
    out.html += decodeBody(body, headers['content-transfer-encoding']);
  } else if (type.startsWith('text/')) {
    out.text += decodeBody(body, headers['content-transfer-encoding']);
  }
  return headers;
}

/** Parses one .eml file into { file, subject, to, from, text, html, attachments, raw }. */
export function parseEml(file) {
  const raw = readFileSync(file, 'utf8');
  const out = { text: '', html: '', attachments: [] };
  const headers = collectParts(raw, out);
  return {
    file,
    subject: decodeHeader(headers.subject || ''),
    to: decodeHeader(headers.to || ''),
    from: decodeHeader(headers.from || ''),
    text: out.text,
    html: out.html,
    attachments: out.attachments,
    raw,
  };
}

/** Every message in the folder, newest first. */
export function listMail(mailDir) {
  let names = [];
  try {
    names = readdirSync(mailDir).filter((n) => n.endsWith('.eml'));
  } catch {
    return [];
  }
  return names
    .map((n) => ({ path: join(mailDir, n), mtime: statSync(join(mailDir, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)
    .map((f) => parseEml(f.path));
}

/**
 * Waits for the newest message to `to` whose subject matches, and returns it.
 * Mail may be sent by the background job a moment after the page answered.
 */
export async function waitForMail(mailDir, { to, subject, timeoutMs = 15_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = listMail(mailDir).find((m) =>
      (!to || m.to.toLowerCase().includes(to.toLowerCase())) &&
      (!subject || (subject instanceof RegExp ? subject.test(m.subject) : m.subject.includes(subject))));
    if (found) return found;
    if (Date.now() > deadline) {
      const seen = listMail(mailDir).map((m) => `  to=${m.to} subject=${m.subject}`).join('\n') || '  (none)';
      throw new Error(`no mail to ${to ?? 'anyone'} with subject ${subject} within ${timeoutMs} ms; mail seen:\n${seen}`);
    }
    await sleep(200);
  }
}

/** The first link in a message (text part, else HTML) that starts with `prefix`. */
export function findLink(message, prefix) {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${escaped}[^\\s"'<>]*`);
  const hit = re.exec(message.text) || re.exec(message.html);
  if (!hit) throw new Error(`no link starting with ${prefix} in mail "${message.subject}":\n${message.text || message.html}`);
  return hit[0].replace(/&amp;/g, '&');
}

/**
 * The one attachment of a message whose content type is `contentType` (e.g. `image/png`):
 * { filename, contentType, contentId, data (Buffer) }. Fails, listing what the message
 * carries, when there is none or more than one.
 */
export function attachmentOf(message, contentType) {
  const found = message.attachments.filter((a) => a.contentType === contentType.toLowerCase());
  if (found.length !== 1) {
    const seen = message.attachments.map((a) => `${a.contentType} "${a.filename}" (${a.data.length} bytes)`).join(', ') || 'none';
    throw new Error(`expected one ${contentType} attachment in mail "${message.subject}", found ${found.length}; attachments: ${seen}`);
  }
  return found[0];
}
