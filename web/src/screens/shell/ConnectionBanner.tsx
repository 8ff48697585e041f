// Tells the user when live updates are not flowing: offline (with the countdown to the next
// attempt and a button to try now) or reconnecting.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { gateway } from '../../gateway/connection';
import { useGatewayStatus } from '../../gateway/useGateway';

export function ConnectionBanner() {
  const { t } = useTranslation();
  const { status, retryAt } = useGatewayStatus();
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (status !== 'offline') return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [status]);

  if (status === 'ready' || status === 'idle' || status === 'unauthorized') return null;
  const offline = status === 'offline';
  const seconds = retryAt ? Math.max(1, Math.ceil((retryAt - now) / 1000)) : 1;
  return (
    <div className={`connection-banner ${offline ? 'connection-banner-offline' : ''}`} role="status">
      <span>{offline ? t('gateway.offline', { seconds }) : status === 'connecting' ? t('gateway.connecting') : t('gateway.reconnecting')}</span>
      {offline && (
        <button type="button" className="banner-button" onClick={() => gateway.retryNow()}>
          {t('gateway.retryNow')}
        </button>
      )}
    </div>
  );
}
