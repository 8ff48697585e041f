// Two people use Madang in two browsers against a real server: register, make a guild and an
// invite, join through the invite link, chat both ways, edit and delete, reply from the
// keyboard, scroll up through older history, run the guild's settings, restart the server,
// switch to Korean, work at 375 px, log out and in again.
// Steps run in order and share the two browsers; after a failure the rest are skipped.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  a11yFindings,
  checkA11y,
  describeViolations,
  log,
  openBrowser,
  password,
  registerThroughForm,
  screenshotDir,
  startServer,
  story,
  waitForOtherSide,
} from './harness.mjs';

const tag = Date.now().toString(36).slice(-6);
const alice = { email: `alice-${tag}@example.com`, username: `alice_${tag}`, display: 'Alice Kim' };
const jun = { email: `jun-${tag}@example.com`, username: `jun_${tag}`, display: 'Jun Park' };

let server;
/** A owns the guild (dark theme); B joins through the invite (light theme). */
let A;
let B;
let inviteLink;
const seriousA11y = [];

/** The story's steps: later ones are skipped once one fails. */
const told = story(() => [A, B].filter(Boolean));
const { step, shot } = told;

before(async () => {
  server = await startServer();
  [A, B] = await Promise.all([openBrowser('A', { colorScheme: 'dark' }), openBrowser('B', { colorScheme: 'light' })]);
});

after(async () => {
  await Promise.all([A?.close(), B?.close()]);
  if (told.broken && server) log(`server output:\n${server.output().slice(-4000)}`);
  await server?.close();
  const notes = [...(A?.notes ?? []), ...(B?.notes ?? [])];
  if (notes.length) log(`console notes:\n  ${[...new Set(notes)].join('\n  ')}`);
  const minor = a11yFindings.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length) log(`axe, moderate or minor:\n  ${minor.map((v) => `${v.screen}: ${v.impact} ${v.id}: ${v.nodes[0]}`).join('\n  ')}`);
  log(`screenshots in ${screenshotDir}: ${told.shots.join(', ')}`);
});

/** axe on the current screen: serious and critical violations fail the step. */
async function a11y(user, screen) {
  const serious = await checkA11y(user, screen);
  seriousA11y.push(...serious.map((v) => ({ screen, ...v })));
  assert.equal(serious.length, 0, `axe found serious or critical violations on ${screen}:\n${describeViolations(serious)}`);
}

const composer = (user) => user.page.locator('textarea.composer-input:not(.edit-input)');
const messageText = (user, text) => user.page.locator('.message-list .message:not(.message-pending) .message-content', { hasText: text });

/** Sends a message and waits until the server has it (no longer pending); `shown`: its rendered text. */
async function send(user, text, shown = text) {
  await composer(user).fill(text);
  await composer(user).press('Enter');
  await messageText(user, shown).waitFor();
}

const settingsDialog = (user) => user.page.locator('dialog[open].guild-settings-dialog');

async function openGuildSettings(user) {
  await user.page.locator('.guild-settings-button').click();
  await settingsDialog(user).waitFor();
}

async function closeDialog(user, dialog) {
  await user.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}

step('A registers from the login screen', async () => {
  const { page } = A;
  await page.goto(`${server.base}/`);
  await page.waitForURL(/\/login/);
  await page.locator('input[name=login]').waitFor();
  await a11y(A, 'login');
  await shot(A, '01-login');
  await page.locator('a[href^="/register"]').click();
  await page.locator('input[name=email]').waitFor();
  await a11y(A, 'register');
  await shot(A, '02-register');
  await registerThroughForm(page, alice);
  await page.locator('.empty-home').waitFor();
  await shot(A, '03-empty-home');
});

step('A creates a guild and writes in #general', async () => {
  const { page } = A;
  await page.locator('.empty-home .button-primary').click();
  const dialog = page.locator('dialog[open]');
  await dialog.locator('input[name=name]').fill('Study Group');
  await dialog.locator('button[type=submit]').click();
  await composer(A).waitFor();
  await send(A, 'Hello **everyone**, welcome!', 'Hello everyone, welcome!');
  await A.page.locator('.message-content strong', { hasText: 'everyone' }).waitFor();
  await send(A, 'This message will be deleted');
  await send(A, 'This message will be edited');
  await a11y(A, 'app shell');
  await shot(A, '04-guild');
});

step('A makes an invite link', async () => {
  const { page } = A;
  await page.getByRole('button', { name: 'Invite people' }).click();
  const dialog = page.locator('dialog[open].invite-dialog');
  const input = dialog.locator('.copy-row input');
  await page.waitForFunction(() => document.querySelector('dialog[open] .copy-row input')?.value.includes('/invite/'));
  inviteLink = await input.inputValue();
  assert.match(inviteLink, /^http:\/\/127\.0\.0\.1:\d+\/invite\/[A-Za-z0-9_-]+$/);
  await a11y(A, 'invite dialog');
  await shot(A, '05-invite-dialog');
  await closeDialog(A, dialog);
});

step('B opens the invite logged out, registers, comes back and joins', async () => {
  const { page } = B;
  await page.goto(inviteLink);
  await page.locator('.invite-card h1', { hasText: 'Study Group' }).waitFor();
  await a11y(B, 'invite preview');
  await shot(B, '06-invite-preview');
  await page.locator('.invite-auth a.button-primary').click();
  await page.waitForURL(/\/register/);
  await registerThroughForm(page, jun);
  await page.waitForURL(/\/invite\//);
  await page.locator('.invite-card button.button-primary').click();
  await composer(B).waitFor();
  await messageText(B, 'This message will be edited').waitFor();
  assert.equal(await page.locator('.sidebar-title').innerText(), 'Study Group');
  // Presence on both sides at once, without either changing status.
  await page.locator('.member-list .member:not(.member-offline)', { hasText: alice.display }).waitFor();
  await waitForOtherSide(A, A.page.locator('.member-list .member:not(.member-offline)', { hasText: jun.display }), 'B online');
  await a11y(B, 'app shell (light)');
  await shot(B, '07-joined');
});

step('B writes; A sees it', async () => {
  await send(B, 'Hi Alice, Jun here 👋');
  await waitForOtherSide(A, messageText(A, 'Jun here'), "B's message");
});

step('edits and a delete show on the other side', async () => {
  // A edits its last message with ↑ and deletes an earlier one.
  await composer(A).click();
  await composer(A).press('ArrowUp');
  const edit = A.page.locator('.edit-input');
  await edit.fill('This message was edited');
  await edit.press('Enter');
  await messageText(A, 'This message was edited').waitFor();
  const doomed = A.page.locator('.message-list .message', { hasText: 'This message will be deleted' });
  await doomed.hover();
  await doomed.getByRole('button', { name: 'Delete' }).click();
  await A.page.locator('dialog[open] .button-danger').click();
  await doomed.waitFor({ state: 'detached' });
  // B edits its own message too.
  await composer(B).click();
  await composer(B).press('ArrowUp');
  await B.page.locator('.edit-input').fill('Hi Alice, Jun here (edited)');
  await B.page.locator('.edit-input').press('Enter');
  await messageText(B, 'Jun here (edited)').waitFor();

  await Promise.all([
    waitForOtherSide(B, messageText(B, 'This message was edited'), "A's edit"),
    waitForOtherSide(B, messageText(B, 'This message will be deleted'), "A's delete", { state: 'detached' }),
    waitForOtherSide(A, messageText(A, 'Jun here (edited)'), "B's edit"),
  ]);
  await shot(B, '08-edited-and-deleted');
});

step('A replies to B with the keyboard: the message, then its toolbar, are in the tab order', async () => {
  const { page } = A;
  await composer(A).click();
  // Shift+Tab from the composer reaches the newest message; its toolbar appears on focus.
  for (let presses = 0; presses < 5 && !(await page.evaluate(() => document.activeElement?.matches('.message-list article.message'))); presses++) {
    await page.keyboard.press('Shift+Tab');
  }
  const newest = page.locator('.message-list article.message:focus');
  await newest.locator('.message-content', { hasText: 'Jun here (edited)' }).waitFor();
  await newest.getByRole('toolbar').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Reply');
  await page.keyboard.press('Enter');
  await page.locator('.composer-reply', { hasText: 'Replying to Jun Park' }).waitFor();
  await send(A, 'Nice to meet you, Jun');
  const reply = page.locator('.message-list article.message', { hasText: 'Nice to meet you, Jun' });
  await reply.locator('.message-reply-ref', { hasText: 'Jun Park' }).waitFor();
  await waitForOtherSide(B, B.page.locator('.message-list .message-reply-ref', { hasText: 'Jun here (edited)' }), "A's reply");
});

step('A scrolls up through older history: each page loads above, and the message in view stays in view', async () => {
  const { page } = A;
  const [, channelId] = /\/channels\/\d+\/(\d+)/.exec(page.url());
  const login = await fetch(`${server.base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.base },
    body: JSON.stringify({ login: alice.username, password }),
  });
  const { access_token: token } = await login.json();
  // Rows of different heights (a line, a code block, a wrapped quote), as real history has.
  const shapes = [(i) => `history ${i}`, (i) => `history ${i}\n\`\`\`\nfn main() {}\n\`\`\``, (i) => `history ${i}\n> ${'a quoted line that wraps '.repeat(8)}`];
  for (let i = 1; i <= 170; i++) {
    const posted = await fetch(`${server.base}/api/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.base, authorization: `Bearer ${token}` },
      body: JSON.stringify({ content: shapes[i % shapes.length](i) }),
    });
    assert.equal(posted.status, 201, await posted.text());
  }
  // Opened afresh, the channel shows its newest page (history 121–170); older pages load on the way up.
  await page.reload();
  await messageText(A, 'history 170').waitFor();
  for (const [oldestShown, older] of [['history 121', 'history 120'], ['history 71', 'history 70']]) {
    const problem = await page.evaluate(
      async ({ oldestShown, older }) => {
        const find = (text) =>
          [...document.querySelectorAll('.message-list .message-content .md-paragraph:first-child')].find((line) => line.textContent === text);
        const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
        const scroller = document.querySelector('.message-list .virtuoso');
        // At the top of what is loaded, the next page is fetched and put above.
        scroller.scrollTop = 0;
        let before = null;
        const deadline = performance.now() + 10_000;
        while (!find(older)) {
          if (performance.now() > deadline) return `${older} never loaded`;
          before = find(oldestShown)?.getBoundingClientRect().top ?? before;
          await frame();
        }
        // Virtuoso measures the new rows and corrects the position over the next frames.
        for (let i = 0; i < 10; i++) await frame();
        const view = scroller.getBoundingClientRect();
        const after = find(oldestShown)?.getBoundingClientRect();
        if (!after || before === null) return `${oldestShown} is not rendered any more`;
        // It may shift a little (it loses its day separator and name once a message of the same
        // author and day is above it), but the reader does not lose their place.
        return after.top < view.top || after.bottom > view.bottom ? `${oldestShown} went out of view (top ${before} → ${after.top})` : null;
      },
      { oldestShown, older },
    );
    assert.equal(problem, null);
  }
  await page.getByRole('button', { name: 'Jump to present' }).click();
  await messageText(A, 'history 170').waitFor();
  await page.getByRole('button', { name: 'Jump to present' }).waitFor({ state: 'detached' });
});

step('A runs the guild settings: rename, channels, invites, members', async () => {
  const { page } = A;
  await openGuildSettings(A);
  const dialog = settingsDialog(A);
  await a11y(A, 'guild settings: overview');
  await shot(A, '09-settings-overview');
  const name = dialog.locator('input[name=guild_name]');
  await name.fill('Study Club');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByText('Saved').waitFor();
  await page.locator('.sidebar-title', { hasText: 'Study Club' }).waitFor();

  await dialog.getByRole('tab', { name: 'Channels' }).click();
  await dialog.locator('input[name=channel_name]').fill('announcements');
  await dialog.locator('.create-channel button[type=submit]').click();
  const row = dialog.locator('.settings-channel', { hasText: 'announcements' });
  await row.waitFor();
  await page.locator('.channel-list .channel-link', { hasText: 'announcements' }).waitFor();
  // Reorder with the keyboard: the new channel moves above #general and keeps the focus.
  const up = dialog.getByRole('button', { name: 'Move announcements up' });
  await up.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => {
    const names = [...document.querySelectorAll('.channel-list .channel-link .channel-name')].map((n) => n.textContent);
    return names.indexOf('announcements') === 0;
  });
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label')?.includes('announcements'));
  // …and back with the mouse: #general dragged onto the top half of #announcements.
  const channelRow = (name) => dialog.locator('[data-channel-row]', { has: page.locator('.settings-row-name', { hasText: new RegExp(`^${name}$`) }) });
  await channelRow('general').dragTo(channelRow('announcements'), { targetPosition: { x: 60, y: 4 } });
  await page.waitForFunction(() => {
    const names = [...document.querySelectorAll('.channel-list .channel-link .channel-name')].map((n) => n.textContent);
    return names.indexOf('general') === 0 && names.indexOf('announcements') === 1;
  });
  await a11y(A, 'guild settings: channels');
  await shot(A, '10-settings-channels');

  await dialog.getByRole('tab', { name: 'Invites' }).click();
  const invite = dialog.locator('.settings-invite', { hasText: inviteLink.split('/invite/')[1] });
  await invite.waitFor();
  assert.match(await invite.innerText(), /1 \(no limit\)/);
  await a11y(A, 'guild settings: invites');
  await shot(A, '10b-settings-invites');

  await dialog.getByRole('tab', { name: 'Members' }).click();
  const junRow = dialog.locator('.settings-member', { hasText: jun.display });
  await junRow.getByRole('button', { name: 'Kick' }).waitFor();
  await junRow.getByRole('button', { name: 'Make admin' }).waitFor();
  await a11y(A, 'guild settings: members');
  await shot(A, '11-settings-members');
  await closeDialog(A, dialog);
});

step('B, a plain member, sees the new name and can only leave', async () => {
  // The guild list is refreshed on load or focus while there are no live updates.
  await B.page.reload();
  await waitForOtherSide(B, B.page.locator('.sidebar-title', { hasText: 'Study Club' }), 'the new guild name');
  await B.page.locator('.channel-list .channel-link', { hasText: 'announcements' }).waitFor();
  await openGuildSettings(B);
  const dialog = settingsDialog(B);
  assert.deepEqual(await dialog.getByRole('tab').allInnerTexts(), ['Overview', 'Invites']);
  await dialog.getByRole('button', { name: 'Leave server' }).waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Delete server' }).count(), 0);
  await a11y(B, 'guild settings as a member (light)');
  await shot(B, '12-settings-member');
  await closeDialog(B, dialog);
});

step('the server restarts and both clients carry on', async () => {
  await server.restart();
  await send(A, 'Still here after the restart');
  await waitForOtherSide(B, messageText(B, 'Still here after the restart'), "A's message after the restart");
  await send(B, 'Me too');
  await waitForOtherSide(A, messageText(A, 'Me too'), "B's message after the restart");
});

step('A switches to Korean', async () => {
  const { page } = A;
  await page.locator('.user-panel button').click();
  const dialog = page.locator('dialog[open].settings-dialog');
  await dialog.locator('select').first().selectOption('ko');
  await dialog.getByRole('heading', { name: '사용자 설정' }).waitFor();
  await a11y(A, 'user settings (Korean)');
  await shot(A, '13-user-settings-ko');
  await closeDialog(A, dialog);
  await page.getByRole('button', { name: '서버 설정' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'ko');
  await a11y(A, 'app shell (Korean)');
  await shot(A, '14-app-ko');
});

step('375 px wide: chat, drawer and settings', async () => {
  await B.page.setViewportSize({ width: 375, height: 740 });
  await composer(B).waitFor();
  await shot(B, '15-mobile-chat');
  await B.page.locator('.drawer-toggle').click();
  await B.page.locator('.guild-settings-button').click();
  await settingsDialog(B).waitFor();
  await shot(B, '16-mobile-settings-member');
  await closeDialog(B, settingsDialog(B));

  await A.page.setViewportSize({ width: 375, height: 740 });
  await A.page.locator('.drawer-toggle').click();
  await openGuildSettings(A);
  await settingsDialog(A).getByRole('tab', { name: '채널' }).click();
  await settingsDialog(A).locator('.settings-channel').first().waitFor();
  const overflow = await A.page.evaluate(() => document.querySelector('dialog[open]').scrollWidth - document.querySelector('dialog[open]').clientWidth);
  assert.ok(overflow <= 0, `the settings dialog scrolls sideways at 375 px (${overflow} px)`);
  await a11y(A, 'guild settings at 375 px (Korean)');
  await shot(A, '17-mobile-settings-channels-ko');
  await settingsDialog(A).getByRole('tab', { name: '멤버' }).click();
  await settingsDialog(A).locator('.settings-member').first().waitFor();
  await shot(A, '18-mobile-settings-members-ko');
  await closeDialog(A, settingsDialog(A));
  await Promise.all([A.page.setViewportSize({ width: 1280, height: 800 }), B.page.setViewportSize({ width: 1280, height: 800 })]);
});

step('A bans B with a reason, then lifts the ban', async () => {
  await openGuildSettings(A);
  const dialog = settingsDialog(A);
  await dialog.getByRole('tab', { name: '멤버' }).click();
  await dialog.locator('.settings-member', { hasText: jun.display }).getByRole('button', { name: '차단' }).click();
  const confirm = A.page.locator('dialog[open].confirm-dialog');
  await confirm.locator('textarea[name=ban_reason]').fill('testing bans');
  await confirm.locator('button[type=submit]').click();
  await confirm.waitFor({ state: 'detached' });
  await dialog.locator('.settings-member', { hasText: jun.display }).waitFor({ state: 'detached' });
  await dialog.getByRole('tab', { name: '차단' }).click();
  const ban = dialog.locator('.settings-ban', { hasText: jun.display });
  await ban.getByText('testing bans').waitFor();
  await a11y(A, 'guild settings: bans (Korean)');
  await shot(A, '19-settings-bans-ko');
  // B is out: after a reload the guild is gone.
  await B.page.reload();
  await waitForOtherSide(B, B.page.locator('.empty-home'), 'that the guild is gone');
  await ban.getByRole('button', { name: `${jun.display}님 차단 해제` }).click();
  await ban.waitFor({ state: 'detached' });
  await closeDialog(A, dialog);
});

step('A logs out and logs in again', async () => {
  const { page } = A;
  await page.locator('.user-panel button').click();
  await page.locator('dialog[open].settings-dialog .button-danger').click();
  await page.waitForURL(/\/login/);
  await page.locator('input[name=login]').fill(alice.username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('form button[type=submit]').click();
  await composer(A).waitFor();
  assert.equal(await page.locator('.sidebar-title').innerText(), 'Study Club');
  // The text channel, not the voice channel "General" (a link too, which joins the call).
  await page.locator('.channel-list a.channel-link', { hasText: /^general$/ }).click();
  await messageText(A, 'Me too').waitFor();
  await shot(A, '20-logged-in-again-ko');
});

/** B joins the guild again through the (unlimited) invite link, already logged in. */
async function rejoin() {
  await B.page.goto(inviteLink);
  await B.page.locator('.invite-card button.button-primary').click();
  await composer(B).waitFor();
  await A.page.locator('.member-list', { hasText: jun.display }).waitFor();
}

step('A kicks B, and B sees the guild go at once', async () => {
  await rejoin();
  await openGuildSettings(A);
  const dialog = settingsDialog(A);
  await dialog.getByRole('tab', { name: '멤버' }).click();
  await dialog.locator('.settings-member', { hasText: jun.display }).getByRole('button', { name: '내보내기' }).click();
  const confirm = A.page.locator('dialog[open].confirm-dialog');
  await confirm.locator('button[type=submit]').click();
  await confirm.waitFor({ state: 'detached' });
  await dialog.locator('.settings-member', { hasText: jun.display }).waitFor({ state: 'detached' });
  await closeDialog(A, dialog);
  // No reload: the removal arrives over the gateway.
  await waitForOtherSide(B, B.page.locator('.empty-home'), 'that B was kicked');
});

step('A hands the guild to B, and B deletes it for everyone', async () => {
  await rejoin();
  await openGuildSettings(A);
  const dialog = settingsDialog(A);
  await dialog.getByRole('tab', { name: '멤버' }).click();
  await dialog.locator('.settings-member', { hasText: jun.display }).getByRole('button', { name: '소유권 넘기기' }).click();
  const confirm = A.page.locator('dialog[open].confirm-dialog');
  await confirm.locator('button[type=submit]').click();
  await confirm.waitFor({ state: 'detached' });
  // A is an admin now: the delete button is gone from A's overview.
  await dialog.getByRole('tab', { name: '일반' }).click();
  await dialog.getByRole('button', { name: '서버 나가기' }).waitFor();
  assert.equal(await dialog.getByRole('button', { name: '서버 삭제' }).count(), 0);
  await closeDialog(A, dialog);

  await waitForOtherSide(B, B.page.locator('.guild-settings-button'), 'the guild for its new owner');
  await openGuildSettings(B);
  const owned = settingsDialog(B);
  await owned.getByRole('button', { name: 'Delete server' }).click();
  const deleteConfirm = B.page.locator('dialog[open].confirm-dialog');
  const submit = deleteConfirm.locator('button[type=submit]');
  assert.equal(await submit.isDisabled(), true, 'delete is enabled before the name is typed');
  await deleteConfirm.locator('input[name=confirm_name]').fill('Study Club');
  await submit.click();
  await B.page.locator('.empty-home').waitFor();
  await waitForOtherSide(A, A.page.locator('.empty-home'), 'that the guild was deleted');
  await shot(A, '21-guild-deleted-ko');
});

