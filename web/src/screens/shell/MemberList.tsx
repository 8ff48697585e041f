// The guild's members grouped by role, each with a presence dot.
import { useTranslation } from 'react-i18next';
import type { Member, MemberRole } from '../../api/types';
import { useSession } from '../../auth/session';
import { useLive } from '../../chat/live';
import { Avatar } from '../../ui/Avatar';

const roleOrder: MemberRole[] = ['owner', 'admin', 'member'];

/** `onClose`: the list overlays the messages (narrow screens), and Escape closes it. */
export function MemberList({ members, onClose }: { members: Member[] | undefined; onClose?: (() => void) | undefined }) {
  const { t } = useTranslation();
  const presence = useLive((state) => state.presence);
  const meId = useSession((state) => state.user?.id);
  return (
    <aside
      className="member-list"
      aria-label={t('members.list')}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && onClose) onClose();
      }}
    >
      {roleOrder.map((role) => {
        const ofRole = (members ?? [])
          .filter((member) => member.role === role)
          .sort((a, b) => (a.user.display_name || a.user.username).localeCompare(b.user.display_name || b.user.username));
        if (ofRole.length === 0) return null;
        return (
          <section key={role} className="member-section">
            <h3 className="member-section-title">
              {t(`members.${role}`)} — {ofRole.length}
            </h3>
            <ul>
              {ofRole.map((member) => {
                const name = member.user.display_name || member.user.username;
                // You are here, whatever the gateway has said so far.
                const status = presence[member.user.id] ?? (member.user.id === meId ? 'online' : 'offline');
                return (
                  <li key={member.user.id} className={`member ${status === 'offline' ? 'member-offline' : ''}`}>
                    <Avatar id={member.user.id} name={name} size={32} status={status} />
                    <span className="member-name">{name}</span>
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
    </aside>
  );
}
