// Three people in one voice channel, each in their own Chromium with fake camera and
// microphone, against a real server and its SFU over real WebRTC (ICE, DTLS, SRTP on
// loopback): everyone decodes everyone else's audio and video, each gets the simulcast layer its
// tile needs, a hidden video is not sent at all, a mute stops that person's audio at the
// others, a screen share shows as its own tile, and leaving removes the tiles at once.
// What each browser receives is read from its RTCPeerConnection's getStats(), matched to
// people through the media elements the app renders for them.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  checkA11y,
  describeViolations,
  freeUdpPort,
  log,
  openBrowser,
  registerThroughForm,
  screenshotDir,
  startServer,
  story,
} from './harness.mjs';

const tag = Date.now().toString(36).slice(-6);
const people = {
  A: { email: `mina-${tag}@example.com`, username: `mina_${tag}`, display: 'Mina Seo' },
  B: { email: `hoon-${tag}@example.com`, username: `hoon_${tag}`, display: 'Hoon Lee' },
  C: { email: `yuna-${tag}@example.com`, username: `yuna_${tag}`, display: 'Yuna Cho' },
};
/** How long media may take to start flowing or stop (ICE + DTLS + a keyframe on two busy cores). */
const mediaTimeoutMs = 20_000;

// Fake capture devices stand in for the camera and microphone (a test pattern and a beep), and
// the browser picks the entire (virtual) screen for getDisplayMedia without a prompt.
const mediaArgs = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--auto-select-desktop-capture-source=Entire screen',
  // The SFU announces a loopback address in this test.
  '--allow-loopback-in-peer-connection',
];

/**
 * Installed in every page before the app loads; test instrumentation only, the app is unchanged:
 * - keeps each RTCPeerConnection the app makes, so the test can read its statistics;
 * - caps capture at `camera` (width, height) and 320×180 (screen) at 15 fps, so three browsers
 *   that each encode and decode several streams fit on two CPU cores.
 * - samples the call's receiving statistics every 200 ms into `window.voiceReceived`: per
 *   person, what this browser got from them; and into `window.inboundByTrack`, by track id, so
 *   a video whose tile is hidden can still be followed. (`waitForFunction` predicates must be
 *   synchronous: a predicate returning a promise would count as true at once.)
 */
function instrument({ camera: [cameraWidth, cameraHeight] }) {
  window.peerConnections = [];
  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      super(...args);
      window.peerConnections.push(this);
    }
  };
  const media = navigator.mediaDevices;
  const getUserMedia = media.getUserMedia.bind(media);
  const getDisplayMedia = media.getDisplayMedia.bind(media);
  const small = (video, width, height) => ({ ...(typeof video === 'object' ? video : {}), width: { max: width }, height: { max: height }, frameRate: { max: 15 } });
  media.getUserMedia = (constraints) => getUserMedia(constraints?.video ? { ...constraints, video: small(constraints.video, cameraWidth, cameraHeight) } : constraints);
  media.getDisplayMedia = (constraints) => getDisplayMedia({ ...constraints, video: small(constraints?.video, 320, 180) });

  const collect = async () => {
    const pc = window.peerConnections.at(-1);
    if (!pc || pc.connectionState === 'closed') return {};
    const inbound = new Map();
    (await pc.getStats()).forEach((stat) => {
      if (stat.type === 'inbound-rtp') inbound.set(stat.trackIdentifier, stat);
    });
    window.inboundByTrack = Object.fromEntries(
      [...inbound].map(([id, stat]) => [id, { packets: stat.packetsReceived ?? 0, frames: stat.framesDecoded ?? 0 }]),
    );
    const received = {};
    const note = (userId, kind, element) => {
      const track = element.srcObject?.getTracks()[0];
      const stat = track && inbound.get(track.id);
      received[userId] ??= {};
      received[userId][kind] = stat
        ? { packets: stat.packetsReceived ?? 0, frames: stat.framesDecoded ?? 0, samples: stat.totalSamplesReceived ?? 0, width: stat.frameWidth ?? 0 }
        : null;
    };
    for (const audio of document.querySelectorAll('audio[data-user-id]')) note(audio.dataset.userId, 'audio', audio);
    for (const video of document.querySelectorAll('.voice-tile[data-user-id] video')) {
      const tile = video.closest('.voice-tile');
      note(tile.dataset.userId, tile.dataset.kind === 'screen' ? 'screen' : 'camera', video);
    }
    return received;
  };
  window.voiceReceived = {};
  setInterval(async () => {
    window.voiceReceived = await collect();
  }, 200);
}

/**
 * `MADANG_E2E_VOICE_FRAMES=1`: prints each voice signalling frame a browser sends or receives
 * (op, the SDP's m-lines, the track mapping), to see the order of offers and answers.
 */
function printVoiceFrames(user) {
  const show = (direction) => ({ payload }) => {
    if (typeof payload !== 'string' || !payload.includes('"op":"voice_')) return;
    const frame = JSON.parse(payload);
    const sdp = frame.d?.offer?.sdp ?? frame.d?.answer?.sdp ?? '';
    const mlines = sdp.match(/^m=\w+/gm)?.join(' ') ?? '';
    const tracks = frame.d?.tracks ? JSON.stringify(frame.d.tracks) : '';
    log(`${user.name} ${direction} ${frame.op} ${mlines} ${tracks}`);
  };
  user.page.on('websocket', (socket) => {
    socket.on('framesent', show('sent'));
    socket.on('framereceived', show('received'));
  });
}

let server;
const users = {};
let inviteLink;

/** The story's steps: later ones are skipped once one fails. */
const told = story(() => Object.values(users), { prefix: 'voice-', timeout: 60_000 });
const { step, shot } = told;

before(async () => {
  const udpPort = await freeUdpPort();
  server = await startServer({
    env: { MADANG_VOICE__ENABLED: 'true', MADANG_VOICE__UDP_BIND: `127.0.0.1:${udpPort}` },
  });
  const opened = await Promise.all([
    openBrowser('A', { args: mediaArgs }),
    openBrowser('B', { args: mediaArgs, colorScheme: 'light' }),
    // C uses a phone: a small window (the channel list is behind the menu button) on a 2× screen.
    openBrowser('C', { args: mediaArgs, viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 }),
  ]);
  for (const user of opened) {
    // B's camera is large enough for Chromium to send two simulcast layers (at 640×480:
    // 320×240 and 640×480; libwebrtc drops the quarter layer below 960×540 and sends one layer
    // at 160×120), the others' small enough to keep the CPU load down.
    const camera = user.name === 'B' ? [640, 480] : [160, 120];
    await user.context.addInitScript(instrument, { camera });
    if (process.env.MADANG_E2E_VOICE_FRAMES === '1') printVoiceFrames(user);
    users[user.name] = user;
  }
});

after(async () => {
  await Promise.all(Object.values(users).map((user) => user.close()));
  if (told.broken && server) log(`server output:\n${server.output().slice(-4000)}`);
  await server?.close();
  const notes = Object.values(users).flatMap((user) => user.notes);
  if (notes.length) log(`console notes:\n  ${[...new Set(notes)].join('\n  ')}`);
  log(`screenshots in ${screenshotDir}: ${told.shots.join(', ')}`);
});

const others = (name) => Object.keys(users).filter((other) => other !== name);
const tile = (user, of, kind = 'participant') => user.page.locator(`.voice-tile[data-kind=${kind}][data-user-id="${users[of].id}"]`);

/** Waits until `user` decodes `what` from each of `from` (`what`: 'audio', 'camera' or 'screen'). */
async function waitForMedia(user, from, what) {
  const started = Date.now();
  const ids = from.map((name) => users[name].id);
  await user.page.waitForFunction(
    ([ids, what]) => {
      const received = window.voiceReceived;
      return ids.every((id) => {
        const stat = received[id]?.[what];
        return stat && (what === 'audio' ? stat.samples > 0 : stat.frames > 0);
      });
    },
    [ids, what],
    { polling: 250, timeout: mediaTimeoutMs },
  ).catch(async (error) => {
    log(`${user.name} got no ${what} from all of ${from.join(', ')}; received: ${JSON.stringify(await user.page.evaluate(() => window.voiceReceived))}`);
    throw error;
  });
  const received = await user.page.evaluate(() => window.voiceReceived);
  const counts = from.map((name) => {
    const stat = received[users[name].id][what];
    return `${name} ${what === 'audio' ? `${stat.samples} samples` : `${stat.frames} frames`}`;
  });
  log(`${user.name} decodes ${what} after ${((Date.now() - started) / 1000).toFixed(1)} s: ${counts.join(', ')}`);
}

/** The audio packets `user` has received from `from` so far. */
async function audioPackets(user, from) {
  const received = await user.page.evaluate(() => window.voiceReceived);
  return received[users[from].id]?.audio?.packets ?? null;
}

/**
 * Waits until no audio packet from `from` has reached `user` for `quietMs` (polled; the wait ends
 * as soon as the count has stood still that long).
 */
async function waitForAudioSilence(user, from, quietMs = 1_500) {
  await user.page.waitForFunction(
    ([id, quietMs]) => {
      const packets = window.voiceReceived[id]?.audio?.packets;
      if (packets === undefined) return false;
      const now = performance.now();
      const last = (window.silence ??= {})[id];
      if (!last || last.packets !== packets) {
        window.silence[id] = { packets, since: now };
        return false;
      }
      return now - last.since >= quietMs;
    },
    [users[from].id, quietMs],
    { polling: 250, timeout: mediaTimeoutMs },
  );
  await user.page.evaluate((id) => delete window.silence[id], users[from].id);
}

step('three people register and join one guild through an invite', async () => {
  const { A } = users;
  await A.page.goto(`${server.base}/register`);
  await registerThroughForm(A.page, people.A);
  await A.page.locator('.empty-home .button-primary').click();
  const dialog = A.page.locator('dialog[open]');
  await dialog.locator('input[name=name]').fill('Voice Club');
  await dialog.locator('button[type=submit]').click();
  await A.page.locator('textarea.composer-input').waitFor();
  await A.page.getByRole('button', { name: 'Invite people' }).click();
  await A.page.waitForFunction(() => document.querySelector('dialog[open] .copy-row input')?.value.includes('/invite/'));
  inviteLink = await A.page.locator('dialog[open] .copy-row input').inputValue();
  await A.page.keyboard.press('Escape');

  await Promise.all(
    ['B', 'C'].map(async (name) => {
      const { page } = users[name];
      await page.goto(inviteLink);
      await page.locator('.invite-auth a.button-primary').click();
      await page.waitForURL(/\/register/);
      await registerThroughForm(page, people[name]);
      await page.waitForURL(/\/invite\//);
      await page.locator('.invite-card button.button-primary').click();
      await page.locator('textarea.composer-input').waitFor();
    }),
  );
});

step('everyone joins the voice channel from the sidebar and turns the camera on', async () => {
  await Promise.all(
    Object.values(users).map(async (user) => {
      const { page } = user;
      if (user.name === 'C') await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByRole('link', { name: 'Join voice channel General' }).click();
      await page.locator('.voice-view[data-voice-status=connected]').waitFor({ timeout: mediaTimeoutMs });
      user.id = await page.locator('.voice-tile[data-kind=participant]', { hasText: '(you)' }).getAttribute('data-user-id');
      await page.getByRole('button', { name: 'Turn on camera' }).click();
      await page.getByRole('button', { name: 'Turn off camera' }).waitFor();
    }),
  );
  // The sidebar lists all three under the channel, for everyone.
  for (const user of Object.values(users)) {
    if (user.name === 'C') continue; // the drawer is closed on the phone
    await user.page.locator('.voice-users .voice-user').nth(2).waitFor();
  }
});

step('each browser decodes the other two people’s audio and video', async () => {
  await Promise.all(
    Object.values(users).flatMap((user) => [waitForMedia(user, others(user.name), 'audio'), waitForMedia(user, others(user.name), 'camera')]),
  );
  for (const user of Object.values(users)) {
    for (const other of others(user.name)) await tile(user, other).locator('video').waitFor();
  }
  // The camera goes out as three simulcast layers, each with a bitrate cap.
  const encodings = await users.A.page.evaluate(() =>
    window.peerConnections
      .at(-1)
      .getSenders()
      .find((sender) => sender.track?.kind === 'video')
      .getParameters()
      .encodings.map(({ rid, maxBitrate }) => ({ rid, capped: maxBitrate > 0 })),
  );
  assert.deepEqual(encodings, [
    { rid: 'q', capped: true },
    { rid: 'h', capped: true },
    { rid: 'f', capped: true },
  ]);
  await shot(users.A, 'voice-01-three-cameras');
  await shot(users.C, 'voice-02-three-cameras-375px');
  const serious = await checkA11y(users.A, 'voice channel');
  assert.equal(serious.length, 0, `axe found serious or critical violations in the call:\n${describeViolations(serious)}`);
});

step('each tile gets the layer its size needs: C’s phone (2× screen) a larger one of B’s camera than A’s small desktop tile', async () => {
  const { A, B, C } = users;
  const widthOfB = (user) => user.page.evaluate((id) => window.voiceReceived[id]?.camera?.width ?? 0, B.id);
  // Each browser's wish follows its own tiles; the picture sizes are compared in one poll.
  // C's larger layer also needs the SFU's bandwidth estimate toward C to grow past it, which
  // three browsers on two busy cores can hold back for a while.
  const started = Date.now();
  let widths = [0, 0];
  while (!(widths[0] > 0 && widths[1] > widths[0])) {
    assert.ok(Date.now() - started < 2 * mediaTimeoutMs, `B's camera is ${widths[0]} px wide at A and ${widths[1]} px at C`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    widths = await Promise.all([widthOfB(A), widthOfB(C)]);
  }
  const layers = await B.page.evaluate(async () => {
    const sent = [];
    (await window.peerConnections.at(-1).getStats()).forEach((stat) => {
      if (stat.type === 'outbound-rtp' && stat.kind === 'video') sent.push(`${stat.rid} ${stat.frameWidth ?? 0}×${stat.frameHeight ?? 0} ${stat.bytesSent} B`);
    });
    return sent.sort().join(', ');
  });
  const tileSize = (user) => tile(user, 'B').evaluate((element) => `${element.clientWidth}×${element.clientHeight} CSS px at ${window.devicePixelRatio}×`);
  log(`B sends ${layers}; A (tile ${await tileSize(A)}) gets ${widths[0]} px wide, C (tile ${await tileSize(C)}) ${widths[1]} px`);
});

step('C mutes: C’s audio stops at A and B, and they see C muted; unmuting brings it back', async () => {
  const { C } = users;
  await C.page.getByRole('button', { name: 'Mute', exact: true }).click();
  await Promise.all(['A', 'B'].map((name) => tile(users[name], 'C').locator('[data-flag=mute]').waitFor()));
  await Promise.all(['A', 'B'].map((name) => waitForAudioSilence(users[name], 'C')));
  // A and B still hear each other meanwhile.
  const before = await audioPackets(users.A, 'B');
  await users.A.page.waitForFunction(
    ([id, before]) => (window.voiceReceived[id]?.audio?.packets ?? 0) > before,
    [users.B.id, before],
    { polling: 250, timeout: mediaTimeoutMs },
  );
  log('C muted: no audio from C reaches A or B');

  const muted = await audioPackets(users.A, 'C');
  await C.page.getByRole('button', { name: 'Unmute' }).click();
  await users.A.page.waitForFunction(
    ([id, muted]) => (window.voiceReceived[id]?.audio?.packets ?? 0) > muted,
    [users.C.id, muted],
    { polling: 250, timeout: mediaTimeoutMs },
  );
  await tile(users.A, 'C').locator('[data-flag=mute]').waitFor({ state: 'detached' });
});

step('B shares the screen: A and C get a second video tile from B, and the call controls stay in view', async () => {
  await users.B.page.getByRole('button', { name: 'Share your screen' }).click();
  await users.B.page.getByRole('button', { name: 'Stop sharing your screen' }).waitFor();
  await Promise.all(['A', 'C'].map((name) => waitForMedia(users[name], ['B'], 'screen')));
  for (const name of ['A', 'C']) {
    await tile(users[name], 'B', 'screen').locator('video').waitFor();
    await tile(users[name], 'B').locator('video').waitFor();
  }
  // The tiles now overflow the view; they scroll without overlapping, the controls do not.
  for (const user of Object.values(users)) {
    const controls = await user.page.getByRole('group', { name: 'Call controls' }).boundingBox();
    const { height } = user.page.viewportSize();
    assert.ok(controls && controls.y >= 0 && controls.y + controls.height <= height, `${user.name}'s call controls are in view: ${JSON.stringify(controls)} in ${height} px`);
    const tiles = await user.page.locator('.voice-tile').evaluateAll((elements) => elements.map((element) => element.getBoundingClientRect().toJSON()));
    const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    const overlapping = tiles.flatMap((a, i) => tiles.slice(i + 1).filter((b) => overlap(a, b)).map((b) => [a, b]));
    assert.deepEqual(overlapping, [], `${user.name}'s tiles do not overlap`);
  }
  await shot(users.A, 'voice-03-screen-share');
});

step('C leaves: C’s tiles and audio go away at A and B', async () => {
  const left = Date.now();
  await users.C.page.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Disconnect' }).click();
  await users.C.page.locator('.voice-view[data-voice-status=idle]').waitFor();
  await Promise.all(
    ['A', 'B'].flatMap((name) => [
      tile(users[name], 'C').waitFor({ state: 'detached', timeout: 5_000 }),
      users[name].page.locator(`audio[data-user-id="${users.C.id}"]`).waitFor({ state: 'detached', timeout: 5_000 }),
      users[name].page.locator(`.voice-user[data-user-id="${users.C.id}"]`).waitFor({ state: 'detached', timeout: 5_000 }),
    ]),
  );
  log(`C's tiles were gone at A and B ${((Date.now() - left) / 1000).toFixed(1)} s after C left`);
  // A and B still get each other's media.
  await waitForMedia(users.A, ['B'], 'camera');
  await shot(users.A, 'voice-04-after-leave');
});

step('A’s browser comes back online: an ICE restart, and media keeps flowing', async () => {
  const { A } = users;
  const ufrag = () => A.page.evaluate(() => /a=ice-ufrag:(\S+)/.exec(window.peerConnections.at(-1).localDescription.sdp)?.[1]);
  const before = await ufrag();
  const frames = (await A.page.evaluate(() => window.voiceReceived))[users.B.id].camera.frames;
  await A.page.evaluate(() => window.dispatchEvent(new Event('online')));
  await A.page.waitForFunction(
    (before) => {
      const pc = window.peerConnections.at(-1);
      return pc.signalingState === 'stable' && /a=ice-ufrag:(\S+)/.exec(pc.localDescription.sdp)?.[1] !== before;
    },
    before,
    { timeout: mediaTimeoutMs },
  );
  assert.notEqual(await ufrag(), before);
  await A.page.waitForFunction(
    ([id, frames]) => (window.voiceReceived[id]?.camera?.frames ?? 0) > frames + 5,
    [users.B.id, frames],
    { polling: 250, timeout: mediaTimeoutMs },
  );
});

step('with the keyboard, A turns B down and hides B’s video (in A’s browser only)', async () => {
  const { A, B } = users;
  const menuButton = tile(A, 'B').getByRole('button', { name: `Options for ${people.B.display}` });
  await menuButton.focus();
  await A.page.keyboard.press('Enter');
  const volume = A.page.getByRole('group', { name: `Options for ${people.B.display}` }).getByRole('slider', { name: 'Volume' });
  await A.page.waitForFunction(() => document.activeElement?.getAttribute('type') === 'range');
  await A.page.keyboard.press('Home');
  await A.page.waitForFunction((id) => document.querySelector(`audio[data-user-id="${id}"]`)?.volume === 0, users.B.id);
  assert.equal(await volume.inputValue(), '0');
  await A.page.keyboard.press('Tab');
  const cameraTrack = await tile(A, 'B').locator('video').evaluate((video) => video.srcObject.getTracks()[0].id);
  await A.page.keyboard.press('Enter');
  await tile(A, 'B').locator('video').waitFor({ state: 'detached' });
  // Hidden means not sent: B's camera packets stop reaching A.
  await A.page.waitForFunction(
    ([track, quietMs]) => {
      const packets = window.inboundByTrack?.[track]?.packets;
      if (packets === undefined) return false;
      const now = performance.now();
      if (window.hiddenSince?.packets !== packets) {
        window.hiddenSince = { packets, at: now };
        return false;
      }
      return now - window.hiddenSince.at >= quietMs;
    },
    [cameraTrack, 1_500],
    { polling: 250, timeout: mediaTimeoutMs },
  );
  const hiddenFrames = await A.page.evaluate((track) => window.inboundByTrack[track].frames, cameraTrack);
  log('A hid B’s video: no packets of B’s camera reach A');
  await A.page.keyboard.press('Enter');
  await tile(A, 'B').locator('video').waitFor();
  await A.page.waitForFunction(
    ([track, frames]) => (window.inboundByTrack?.[track]?.frames ?? 0) > frames + 5,
    [cameraTrack, hiddenFrames],
    { polling: 250, timeout: mediaTimeoutMs },
  );
  await A.page.keyboard.press('Escape');
  await A.page.waitForFunction(() => document.activeElement?.classList.contains('voice-tile-more'));
  // Nothing changed for B, whose own view still has a camera on.
  await B.page.getByRole('button', { name: 'Turn off camera' }).waitFor();
});

step('B turns the camera off: A sees B’s avatar again; the device settings list the fake devices', async () => {
  const { A, B } = users;
  await B.page.getByRole('button', { name: 'Turn off camera' }).click();
  await tile(A, 'B').locator('video').waitFor({ state: 'detached' });
  await tile(A, 'B').locator('.avatar').waitFor();

  await B.page.getByRole('button', { name: 'Voice and video settings' }).click();
  const dialog = B.page.locator('dialog[open]');
  const microphones = dialog.getByRole('combobox', { name: 'Microphone' });
  await B.page.waitForFunction(() => document.querySelectorAll('dialog[open] select')[0]?.options.length > 1);
  assert.ok((await microphones.locator('option').count()) > 1, 'the fake microphone is listed');
  const serious = await checkA11y(B, 'voice settings');
  assert.equal(serious.length, 0, `axe found serious or critical violations in the voice settings:\n${describeViolations(serious)}`);
  await B.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

step('A (the owner) mutes B for everyone, then disconnects B from voice', async () => {
  const { A, B } = users;
  const menuButton = tile(A, 'B').getByRole('button', { name: `Options for ${people.B.display}` });
  await menuButton.click();
  const menu = A.page.getByRole('group', { name: `Options for ${people.B.display}` });
  await menu.getByRole('button', { name: 'Mute for everyone' }).click();
  await Promise.all([
    tile(B, 'B').locator('[data-flag=server]').waitFor(),
    tile(A, 'B').locator('[data-flag=server]').waitFor(),
    waitForAudioSilence(A, 'B'),
  ]);
  log('B is muted by the owner: no audio from B reaches A');

  await menuButton.click();
  await menu.getByRole('button', { name: 'Disconnect from voice' }).click();
  await B.page.locator('.voice-view[data-voice-status=idle]').waitFor({ timeout: 5_000 });
  await B.page.getByRole('alert').filter({ hasText: 'You were disconnected from voice.' }).waitFor();
  await tile(A, 'B').waitFor({ state: 'detached', timeout: 5_000 });
});
