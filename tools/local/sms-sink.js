#!/usr/bin/env node
// The local stand-in for an SMS provider behind components/sms.yaml (bindings.http): keeps every POSTed message in
// memory and in <dir>/messages.jsonl, and lists them at GET /messages, newest last. Usage: sms-sink.js <port> <dir>
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
    const entry = { received: new Date().toISOString(), path: req.url, idempotencyKey: req.headers['idempotency-key'] || '', ...message };
    messages.push(entry);
    fs.appendFileSync(log, JSON.stringify(entry) + '\n');
    console.log(`SMS to ${entry.to}: ${entry.body}`);
    res.writeHead(202, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: entry.id }));
  });
}).listen(port, '127.0.0.1');
