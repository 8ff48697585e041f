// Tells the user when live updates are not flowing: offline (the browser has no network),
// the live connection failing while the network is up (with the countdown to the next attempt
// and a button to try now), or reconnecting. Short connects do not flash a banner.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { gateway } from '../../gateway/connection';
import { useGatewayStatus } from '../../gateway/useGateway';

/** A connect or resume that finishes sooner than this shows no banner at all. */
export const bannerDelayMs = 1_500;

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine !== false);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine !== false);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  return online;
}

export function ConnectionBanner() {
  const { t } = useTranslation();
  const { status, retryAt } = useGatewayStatus();
  const online = useOnline();
  const [now, setNow] = useState(() => Date.now());
  const [settled, setSettled] = useState(false);
  const quiet = status === 'ready' || status === 'idle' || status === 'unauthorized';

  // Only a state that lasts gets a banner; a healthy state resets the delay.
  useEffect(() => {
    if (quiet) {
      setSettled(false);
      return;
    }
    const timer = setTimeout(() => setSettled(true), bannerDelayMs);
    return () => clearTimeout(timer);
  }, [quiet]);

  useEffect(() => {
    if (status !== 'offline') return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [status, retryAt]);

  if (quiet || !settled) return null;
  const waiting = status === 'offline';
  const seconds = retryAt ? Math.max(1, Math.ceil((retryAt - now) / 1000)) : 1;
  const text = waiting
    ? online
      ? t('gateway.unreachable', { seconds })
      : t('gateway.offline', { seconds })
    : status === 'connecting' || status === 'identifying'
      ? t('gateway.connecting')
      : t('gateway.reconnecting');
  return (
    <div className={`connection-banner ${waiting && !online ? 'connection-banner-offline' : ''}`} role="status">
      <span className="connection-banner-text">{text}</span>
      {waiting && (
        <button type="button" className="banner-button" onClick={() => gateway.retryNow()}>
          {t('gateway.retryNow')}
        </button>
      )}
    </div>
  );
}
