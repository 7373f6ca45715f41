#!/usr/bin/env node
// The local stand-in for the HTTP providers bindings.http posts to: the SMS gateway of components/sms.yaml (/sms) and
// the webhook receivers of components/webhook.yaml (/webhooks/...). Keeps every POSTed JSON body with its path and the
// headers that identify it (and the raw text) in memory and in <dir>/messages.jsonl, and lists them at GET /messages, newest last.
// Usage: http-sink.js <port> <dir>
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const [port, dir] = [Number(process.argv[2] || 1090), process.argv[3] || '.'];
const log = path.join(dir, 'messages.jsonl');
const messages = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map(JSON.parse) : [];
http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/messages') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify(messages));
  }
  if (req.method !== 'POST') { res.writeHead(405); return res.end(); }
  let body = '';
  req.on('data', chunk => { body += chunk; if (body.length > 65536) req.destroy(); });
  req.on('end', () => {
    let message;
    try { message = JSON.parse(body); } catch { res.writeHead(400); return res.end('not JSON'); }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name === 'idempotency-key' || name.startsWith('webhook-')));
    // raw: the bytes as they came, which is what a webhook signature covers.
    const entry = { received: new Date().toISOString(), path: req.url, headers, body: message, raw: body };
    messages.push(entry);
    fs.appendFileSync(log, JSON.stringify(entry) + '\n');
    console.log(req.url === '/sms' ? `SMS to ${message.to}: ${message.body}` : `Webhook ${req.url}: ${message.type} ${message.id}`);
    res.writeHead(202, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: message.id }));
  });
}).listen(port, '127.0.0.1');
