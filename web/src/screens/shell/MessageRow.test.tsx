import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { Message } from '../../api/types';
import { MessageRow, type MessageRowProps } from './MessageRow';

const message: Message = {
  id: '100',
  channel_id: '10',
  guild_id: '1',
  author: { id: '7', username: 'mina', display_name: 'Mina' },
  content: 'hello **there**',
  created_at: '2026-03-04T05:06:07Z',
};

function renderRow(overrides: Partial<MessageRowProps> = {}) {
  const props: MessageRowProps = {
    message,
    grouped: false,
    repliedTo: undefined,
    canEdit: true,
    canDelete: true,
    editing: false,
    onReply: vi.fn(),
    onStartEdit: vi.fn(),
    onEndEdit: vi.fn(),
    onSaveEdit: vi.fn(),
    onDelete: vi.fn(),
    ...overrides,
  };
  view = render(rowWith(props));
  return props;
}

let view: ReturnType<typeof render>;

const rowWith = (props: MessageRowProps) => (
  <>
    <MessageRow {...props} />
    <button type="button">elsewhere</button>
  </>
);

const toolbar = () => screen.queryByRole('toolbar', { name: 'Message actions' });

describe('MessageRow', () => {
  it('shows its actions only while the pointer is over it', () => {
    renderRow();
    expect(toolbar()).toBeNull();
    fireEvent.mouseEnter(screen.getByRole('article', { name: 'Mina' }));
    expect(toolbar()).not.toBeNull();
    fireEvent.mouseLeave(screen.getByRole('article', { name: 'Mina' }));
    expect(toolbar()).toBeNull();
  });

  it('is reachable by keyboard: focusing the message shows its actions, and they stay while the focus is on them', () => {
    const props = renderRow();
    const article = screen.getByRole('article', { name: 'Mina' });
    expect(article.tabIndex).toBe(0);
    act(() => article.focus());
    const reply = screen.getByRole('button', { name: 'Reply' });
    act(() => reply.focus());
    expect(toolbar()).not.toBeNull();
    fireEvent.click(reply);
    expect(props.onReply).toHaveBeenCalledWith(message);
    act(() => screen.getByRole('button', { name: 'elsewhere' }).focus());
    expect(toolbar()).toBeNull();
  });

  it('offers edit and delete only when allowed', () => {
    renderRow({ canEdit: false, canDelete: false });
    act(() => screen.getByRole('article', { name: 'Mina' }).focus());
    expect(screen.getByRole('button', { name: 'Reply' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });

  it('shows the edit box instead of the actions while editing, and no actions once it is closed', () => {
    const props = renderRow({ editing: true });
    expect(screen.getByRole('textbox', { name: 'Editing message' })).toBe(document.activeElement);
    expect(toolbar()).toBeNull();
    // Saving or cancelling removes the focused edit box: nothing holds the focus in the message now.
    view.rerender(rowWith({ ...props, editing: false }));
    expect(toolbar()).toBeNull();
  });
});
