// The seed's chat stack, built the way the seed built it, as the peer madang is measured
// against: one Node.js process, Express for REST, Socket.IO rooms with default settings for
// real time, a pg.Pool, and a JWT checked with jsonwebtoken when a socket connects. A message
// sent over the socket is persisted to PostgreSQL, then broadcast to its channel's room and
// acknowledged with the stored message, in the same shape as madang's REST `Message`.
//
// Environment: PORT (default 9400), DATABASE_URL (postgres://…), JWT_SECRET.

'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const express = require('express');
const jwt = require('jsonwebtoken');
const { Pool } = require('pg');
const { Server } = require('socket.io');

const port = Number(process.env.PORT || 9400);
const secret = process.env.JWT_SECRET;
if (!secret || !process.env.DATABASE_URL) {
  console.error('DATABASE_URL and JWT_SECRET are required');
  process.exit(2);
}
const pool = new Pool({ connectionString: process.env.DATABASE_URL });

function verifyToken(token) {
  const claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
  return { id: String(claims.sub), username: String(claims.username) };
}

function messageView(row, author) {
  return {
    id: String(row.id),
    channel_id: String(row.channel_id),
    guild_id: String(row.guild_id),
    author: { id: author.id, username: author.username, display_name: author.display_name ?? null },
    content: row.content,
    ...(row.nonce == null ? {} : { nonce: row.nonce }),
    reply_to: row.reply_to == null ? null : String(row.reply_to),
    created_at: row.created_at.toISOString(),
    edited_at: row.edited_at == null ? null : row.edited_at.toISOString(),
  };
}

const app = express();
app.use(express.json());

app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));

function requireUser(req, res, next) {
  const header = req.get('authorization') || '';
  try {
    req.user = verifyToken(header.replace(/^Bearer /, ''));
    next();
  } catch {
    res.status(401).json({ error: { code: 'unauthorized', message: 'invalid token' } });
  }
}

// A page of history, newest first, like madang's GET /api/channels/{id}/messages.
app.get('/api/channels/:channelId/messages', requireUser, async (req, res) => {
  const limit = Math.min(Math.max(Number(req.query.limit || 50), 1), 100);
  const before = req.query.before || '9223372036854775807';
  try {
    const member = await pool.query(
      'SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2',
      [req.params.channelId, req.user.id],
    );
    if (member.rowCount === 0) {
      res.status(404).json({ error: { code: 'not_found', message: 'no such channel' } });
      return;
    }
    const { rows } = await pool.query(
      `SELECT m.*, u.username, u.display_name FROM messages m JOIN users u ON u.id = m.author_id
       WHERE m.channel_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3`,
      [req.params.channelId, before, limit],
    );
    res.json(rows.map((row) => messageView(row, { id: String(row.author_id), username: row.username, display_name: row.display_name })));
  } catch (error) {
    console.error(error);
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  }
});

const server = http.createServer(app);
const io = new Server(server);

io.use((socket, next) => {
  try {
    socket.data.user = verifyToken(socket.handshake.auth.token);
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

io.on('connection', (socket) => {
  const user = socket.data.user;

  socket.on('channel:join', async (channelId, ack) => {
    try {
      const { rows } = await pool.query(
        `SELECT c.guild_id FROM channel_members m JOIN channels c ON c.id = m.channel_id
         WHERE m.channel_id = $1 AND m.user_id = $2`,
        [channelId, user.id],
      );
      if (rows.length === 0) {
        ack?.({ error: 'not_found' });
        return;
      }
      socket.data.guilds = { ...socket.data.guilds, [channelId]: String(rows[0].guild_id) };
      socket.join(`channel:${channelId}`);
      ack?.({ ok: true });
    } catch (error) {
      console.error(error);
      ack?.({ error: 'internal' });
    }
  });

  socket.on('message:create', async (request, ack) => {
    const channelId = String(request?.channel_id);
    const guildId = socket.data.guilds?.[channelId];
    if (guildId === undefined || typeof request.content !== 'string' || request.content.length === 0) {
      ack?.({ error: 'not_found' });
      return;
    }
    try {
      const { rows } = await pool.query(
        `INSERT INTO messages (channel_id, guild_id, author_id, content, nonce)
         VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [channelId, guildId, user.id, request.content, request.nonce ?? null],
      );
      const message = messageView(rows[0], { id: user.id, username: user.username });
      io.to(`channel:${channelId}`).emit('message:create', message);
      ack?.(message);
    } catch (error) {
      console.error(error);
      ack?.({ error: 'internal' });
    }
  });
});

pool
  .query(fs.readFileSync(path.join(__dirname, 'schema.sql'), 'utf8'))
  .then(() => {
    server.listen(port, '127.0.0.1', () => console.log(`socket.io peer listening on 127.0.0.1:${port}`));
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
