// Channels and categories: create, rename (with topic and category), reorder (drag and drop, or
// move up and down from the keyboard), delete. Moves are sent at once and shown before the
// server answers; a refusal puts them back.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type DragEvent, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/endpoints';
import { errorMessage } from '../../api/errors';
import type { Channel, ChannelKind, RequestOf, Snowflake } from '../../api/types';
import { channelTree } from '../../chat/channelTree';
import { queryKeys } from '../../chat/queryKeys';
import { Icon, type IconName } from '../../ui/Icon';
import { useChannels } from '../shell/useChatQueries';
import { dropChannel, putChannel } from './cache';
import { applyPlacements, dropPlacements, endPosition, moveChannel, shownParent, siblingsOf, type DropEdge, type Placement } from './channelOrder';
import { ConfirmAction } from './ConfirmAction';
import type { SettingsProps } from './GuildSettings';

const kindIcon: Record<ChannelKind, IconName> = { text: 'hash', voice: 'speaker', category: 'folder' };
const kinds: ChannelKind[] = ['text', 'voice', 'category'];

function CategorySelect({ categories, value, onChange, name }: { categories: Channel[]; value: string; onChange: (value: string) => void; name: string }) {
  const { t } = useTranslation();
  return (
    <label className="field">
      <span className="field-label">{t('guildSettings.channels.category')}</span>
      <select className="input" name={name} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">{t('guildSettings.channels.noCategory')}</option>
        {categories.map((category) => (
          <option key={category.id} value={category.id}>
            {category.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function CreateChannel({ guildId, channels }: { guildId: Snowflake; channels: Channel[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<ChannelKind>('text');
  const [parent, setParent] = useState('');
  const categories = channels.filter((channel) => channel.kind === 'category').sort((a, b) => a.position - b.position);
  const create = useMutation({
    mutationFn: (request: RequestOf<'create_channel'>) => api.createChannel(guildId, request),
    onSuccess: (channel) => {
      putChannel(queryClient, channel);
      setName('');
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    const parentId = kind === 'category' || !parent ? null : parent;
    create.mutate({ name: trimmed, kind, parent_id: parentId, position: Math.min(10_000, endPosition(channels, kind, parentId)) });
  };
  return (
    <form className="form settings-block create-channel" onSubmit={submit} aria-labelledby="create-channel-title">
      <h3 id="create-channel-title">{t('guildSettings.channels.create')}</h3>
      <div className="settings-grid">
        <label className="field">
          <span className="field-label">{t('guildSettings.channels.name')}</span>
          <input
            className="input"
            name="channel_name"
            value={name}
            maxLength={100}
            required
            onChange={(event) => {
              setName(event.target.value);
              create.reset();
            }}
          />
        </label>
        <label className="field">
          <span className="field-label">{t('guildSettings.channels.kind')}</span>
          <select className="input" name="channel_kind" value={kind} onChange={(event) => setKind(event.target.value as ChannelKind)}>
            {kinds.map((option) => (
              <option key={option} value={option}>
                {t(`guildSettings.channels.kinds.${option}`)}
              </option>
            ))}
          </select>
        </label>
        {kind !== 'category' && categories.length > 0 && <CategorySelect categories={categories} value={parent} onChange={setParent} name="channel_parent" />}
      </div>
      {create.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, create.error)}
        </p>
      )}
      <div className="dialog-actions">
        {create.isSuccess && (
          <span className="saved-note" role="status">
            {t('common.saved')}
          </span>
        )}
        <button type="submit" className="button button-primary" disabled={create.isPending || !name.trim()}>
          {t('common.create')}
        </button>
      </div>
    </form>
  );
}

function EditChannel({ channel, channels, onDone }: { channel: Channel; channels: Channel[]; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [name, setName] = useState(channel.name);
  const [topic, setTopic] = useState(channel.topic ?? '');
  const currentParent = shownParent(channels, channel) ?? '';
  const [parent, setParent] = useState<string>(currentParent);
  const categories = channels.filter((c) => c.kind === 'category').sort((a, b) => a.position - b.position);
  const save = useMutation({
    mutationFn: () => {
      const request: RequestOf<'update_channel'> = {};
      if (name.trim() !== channel.name) request.name = name.trim();
      if (channel.kind === 'text' && topic.trim() !== (channel.topic ?? '')) request.topic = topic.trim() || null;
      if (channel.kind !== 'category' && parent !== currentParent) {
        request.parent_id = parent || null;
        // Last in its new place, rather than wherever its old number happens to fall.
        request.position = Math.min(10_000, endPosition(channels, channel.kind, parent || null, channel.id));
      }
      return Object.keys(request).length > 0 ? api.updateChannel(channel.id, request) : Promise.resolve(channel);
    },
    onSuccess: (updated) => {
      putChannel(queryClient, updated);
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) save.mutate();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    // Escape cancels the edit, not the whole settings dialog.
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onDone();
    }
  };
  return (
    <form className="form channel-edit" onSubmit={submit} onKeyDown={onKeyDown} aria-label={t('guildSettings.channels.edit', { name: channel.name })}>
      <label className="field">
        <span className="field-label">{t('guildSettings.channels.name')}</span>
        <input className="input" name="edit_channel_name" value={name} maxLength={100} required autoFocus onChange={(event) => setName(event.target.value)} />
      </label>
      {channel.kind === 'text' && (
        <label className="field">
          <span className="field-label">{t('guildSettings.channels.topic')}</span>
          <input className="input" name="edit_channel_topic" value={topic} maxLength={1024} onChange={(event) => setTopic(event.target.value)} />
        </label>
      )}
      {channel.kind !== 'category' && <CategorySelect categories={categories} value={parent} onChange={setParent} name="edit_channel_parent" />}
      {save.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, save.error)}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button button-secondary" onClick={onDone}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="button button-primary" disabled={save.isPending || !name.trim()}>
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}

interface RowActions {
  editing: Snowflake | null;
  setEditing: (id: Snowflake | null) => void;
  move: (channel: Channel, direction: -1 | 1) => void;
  /** The row being dragged: the drop targets need it while dragging, when the drag data is unreadable. */
  dragging: Snowflake | null;
  setDragging: (id: Snowflake | null) => void;
  place: (placements: Placement[]) => void;
  remove: (channel: Channel) => void;
  moving: boolean;
}

/** A channel dragged over a category goes inside it; otherwise the pointer's half of the row says. */
function dropEdge(event: DragEvent<HTMLElement>, target: Channel, dragged: Channel | undefined): DropEdge {
  if (target.kind === 'category' && dragged && dragged.kind !== 'category') return 'inside';
  const box = event.currentTarget.getBoundingClientRect();
  return event.clientY < box.top + box.height / 2 ? 'before' : 'after';
}

function ChannelRow({ channel, channels, actions, children }: { channel: Channel; channels: Channel[]; actions: RowActions; children?: ReactNode }) {
  const { t } = useTranslation();
  const siblings = siblingsOf(channels, channel);
  const index = siblings.findIndex((c) => c.id === channel.id);
  const name = channel.name;
  const [dropAt, setDropAt] = useState<DropEdge | null>(null);
  const placementsFor = (event: DragEvent<HTMLElement>) => {
    if (!actions.dragging) return null;
    const dragged = channels.find((c) => c.id === actions.dragging);
    return dropPlacements(channels, actions.dragging, channel.id, dropEdge(event, channel, dragged));
  };
  return (
    <li className={`settings-channel ${channel.kind === 'category' ? 'settings-channel-category' : ''}`}>
      <div
        className={`settings-row ${dropAt ? `settings-row-drop-${dropAt}` : ''} ${actions.dragging === channel.id ? 'settings-row-dragging' : ''}`}
        data-channel-row={channel.id}
        draggable={!actions.moving}
        onDragStart={(event) => {
          event.stopPropagation();
          event.dataTransfer.effectAllowed = 'move';
          event.dataTransfer.setData('text/plain', name);
          actions.setDragging(channel.id);
        }}
        onDragEnd={() => actions.setDragging(null)}
        onDragOver={(event) => {
          if (!placementsFor(event)) {
            setDropAt(null);
            return;
          }
          // Accepting the drop is done by cancelling dragover.
          event.preventDefault();
          event.dataTransfer.dropEffect = 'move';
          setDropAt(dropEdge(event, channel, channels.find((c) => c.id === actions.dragging)));
        }}
        onDragLeave={() => setDropAt(null)}
        onDrop={(event) => {
          event.preventDefault();
          setDropAt(null);
          const placements = placementsFor(event);
          actions.setDragging(null);
          if (placements) actions.place(placements);
        }}
      >
        <Icon name="grip" size={18} />
        <Icon name={kindIcon[channel.kind]} size={18} />
        <span className="settings-row-name">{name}</span>
        <span className="settings-row-actions">
          <button
            type="button"
            className="icon-button"
            id={`move-up-${channel.id}`}
            aria-label={t('guildSettings.channels.moveUp', { name })}
            title={t('guildSettings.channels.moveUp', { name })}
            disabled={index <= 0 || actions.moving}
            onClick={() => actions.move(channel, -1)}
          >
            <Icon name="arrowUp" size={18} />
          </button>
          <button
            type="button"
            className="icon-button"
            id={`move-down-${channel.id}`}
            aria-label={t('guildSettings.channels.moveDown', { name })}
            title={t('guildSettings.channels.moveDown', { name })}
            disabled={index < 0 || index >= siblings.length - 1 || actions.moving}
            onClick={() => actions.move(channel, 1)}
          >
            <Icon name="arrowDown" size={18} />
          </button>
          <button
            type="button"
            className={`icon-button ${actions.editing === channel.id ? 'icon-button-active' : ''}`}
            id={`edit-${channel.id}`}
            aria-label={t('guildSettings.channels.edit', { name })}
            title={t('guildSettings.channels.edit', { name })}
            aria-expanded={actions.editing === channel.id}
            onClick={() => actions.setEditing(actions.editing === channel.id ? null : channel.id)}
          >
            <Icon name="edit" size={18} />
          </button>
          <button
            type="button"
            className="icon-button icon-button-danger"
            aria-label={t('guildSettings.channels.delete', { name })}
            title={t('guildSettings.channels.delete', { name })}
            onClick={() => actions.remove(channel)}
          >
            <Icon name="trash" size={18} />
          </button>
        </span>
      </div>
      {actions.editing === channel.id && (
        <EditChannel
          channel={channel}
          channels={channels}
          onDone={() => {
            actions.setEditing(null);
            document.getElementById(`edit-${channel.id}`)?.focus();
          }}
        />
      )}
      {children}
    </li>
  );
}

export function ChannelSettings({ guild }: SettingsProps) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const channels = useChannels(guild.id).data ?? [];
  const [editing, setEditing] = useState<Snowflake | null>(null);
  const [dragging, setDragging] = useState<Snowflake | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  // Where the keyboard focus goes once a moved row is in its new place.
  const [refocus, setRefocus] = useState<{ id: Snowflake; direction: -1 | 1 } | null>(null);
  const reorder = useMutation({
    mutationFn: (placements: Placement[]) => api.reorderChannels(guild.id, placements),
    onMutate: (placements) => {
      const before = queryClient.getQueryData<Channel[]>(queryKeys.channels(guild.id));
      if (before) queryClient.setQueryData(queryKeys.channels(guild.id), applyPlacements(before, placements));
      return { before };
    },
    onSuccess: (all) => queryClient.setQueryData(queryKeys.channels(guild.id), all),
    onError: (_error, _placements, context) => {
      if (context?.before) queryClient.setQueryData(queryKeys.channels(guild.id), context.before);
    },
  });

  useEffect(() => {
    if (!refocus || reorder.isPending) return;
    const wanted = document.getElementById(`move-${refocus.direction < 0 ? 'up' : 'down'}-${refocus.id}`) as HTMLButtonElement | null;
    const other = document.getElementById(`move-${refocus.direction < 0 ? 'down' : 'up'}-${refocus.id}`) as HTMLButtonElement | null;
    (wanted && !wanted.disabled ? wanted : other)?.focus();
    setRefocus(null);
  }, [refocus, reorder.isPending, channels]);

  const actions: RowActions = {
    editing,
    setEditing,
    moving: reorder.isPending,
    move: (channel, direction) => {
      const placements = moveChannel(channels, channel.id, direction);
      if (!placements) return;
      setRefocus({ id: channel.id, direction });
      reorder.mutate(placements);
    },
    dragging,
    setDragging,
    place: (placements) => reorder.mutate(placements),
    remove: setDeleting,
  };
  const sections = channelTree(channels);
  const loose = sections.filter((section) => !section.category).flatMap((section) => section.channels);
  return (
    <>
      <CreateChannel guildId={guild.id} channels={channels} />
      <section className="settings-block" aria-labelledby="channel-list-title">
        <h3 id="channel-list-title">{t('guildSettings.tabs.channels')}</h3>
        <p className="field-hint">{t('guildSettings.channels.hint')}</p>
        {reorder.isError && (
          <p className="form-error" role="alert">
            {errorMessage(t, reorder.error)}
          </p>
        )}
        {channels.length === 0 && <p className="field-hint">{t('guildSettings.channels.empty')}</p>}
        <ul className="settings-list settings-channels">
          {loose.length > 0 && (
            <li className="settings-channel-group">
              <span className="settings-group-title">{t('guildSettings.channels.uncategorised')}</span>
              <ul className="settings-list">
                {loose.map((channel) => (
                  <ChannelRow key={channel.id} channel={channel} channels={channels} actions={actions} />
                ))}
              </ul>
            </li>
          )}
          {sections.map(
            (section) =>
              section.category && (
                <ChannelRow key={section.category.id} channel={section.category} channels={channels} actions={actions}>
                  {section.channels.length > 0 && (
                    <ul className="settings-list settings-children">
                      {section.channels.map((channel) => (
                        <ChannelRow key={channel.id} channel={channel} channels={channels} actions={actions} />
                      ))}
                    </ul>
                  )}
                </ChannelRow>
              ),
          )}
        </ul>
      </section>
      {deleting && (
        <ConfirmAction
          title={t('guildSettings.channels.deleteTitle', { name: deleting.name })}
          description={deleting.kind === 'category' ? t('guildSettings.channels.deleteCategoryConfirm') : t('guildSettings.channels.deleteConfirm')}
          confirmLabel={t('common.delete')}
          action={() => api.deleteChannel(deleting.id).then(() => dropChannel(queryClient, guild.id, deleting.id))}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}
