import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GatewaySnapshot } from '../../gateway/GatewayClient';
import { bannerDelayMs, ConnectionBanner } from './ConnectionBanner';

let snapshot: GatewaySnapshot;
vi.mock('../../gateway/useGateway', () => ({ useGatewayStatus: () => snapshot }));
vi.mock('../../gateway/connection', () => ({ gateway: { retryNow: vi.fn() } }));

const state = (status: GatewaySnapshot['status'], retryAt: number | null = null): GatewaySnapshot => ({
  status,
  sessionId: null,
  seq: 0,
  reconnectAttempt: 1,
  retryAt,
});

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('ConnectionBanner', () => {
  it('shows nothing for a connect that finishes quickly', () => {
    snapshot = state('connecting');
    const view = render(<ConnectionBanner />);
    act(() => vi.advanceTimersByTime(bannerDelayMs - 100));
    expect(screen.queryByRole('status')).toBeNull();
    snapshot = state('ready');
    view.rerender(<ConnectionBanner />);
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('says live updates are paused when the network is up but the gateway is not', () => {
    snapshot = state('offline', 5000);
    render(<ConnectionBanner />);
    act(() => vi.advanceTimersByTime(bannerDelayMs));
    expect(screen.getByRole('status').textContent).toContain('Live updates are paused. Retrying in 4 s');
    expect(screen.getByRole('button', { name: 'Reconnect now' })).toBeTruthy();
  });

  it('says the browser is offline when it is', () => {
    vi.stubGlobal('navigator', { ...navigator, onLine: false });
    snapshot = state('offline', 3000);
    render(<ConnectionBanner />);
    act(() => vi.advanceTimersByTime(bannerDelayMs));
    expect(screen.getByRole('status').textContent).toContain('You are offline');
  });
});
