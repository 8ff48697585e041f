// Tile size → the layer asked for, and the settling that keeps resizes from flooding the gateway.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { qualityForTile, settleMs, TileQualities } from './videoQuality';

describe('qualityForTile', () => {
  it('picks the smallest layer of a 1280×720 camera that covers the tile in device pixels', () => {
    expect(qualityForTile(240, 135, 1)).toBe('low');
    expect(qualityForTile(320, 180, 1)).toBe('low');
    expect(qualityForTile(321, 180, 1)).toBe('medium');
    expect(qualityForTile(640, 360, 1)).toBe('medium');
    expect(qualityForTile(960, 540, 1)).toBe('high');
    // A phone's 300-pixel-wide tile on a 3× screen needs the full layer.
    expect(qualityForTile(300, 169, 3)).toBe('high');
    expect(qualityForTile(300, 169, 2)).toBe('medium');
  });

  it('wants nothing for a tile with no area', () => {
    expect(qualityForTile(0, 0, 1)).toBe('off');
    expect(qualityForTile(320, 0, 2)).toBe('off');
  });
});

describe('TileQualities', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('tells one wish per tile once its size has settled, not one per resize event', () => {
    const wishes: [string, string][] = [];
    const tiles = new TileQualities((mid, quality) => wishes.push([mid, quality]), () => 1);
    // A window edge dragged: many sizes in quick succession, for two tiles.
    for (let width = 900; width >= 300; width -= 50) {
      tiles.resized('2', width, (width * 9) / 16);
      tiles.resized('3', width / 2, (width * 9) / 32);
      vi.advanceTimersByTime(16);
    }
    expect(wishes).toEqual([]);
    vi.advanceTimersByTime(settleMs);
    expect(wishes).toEqual([
      ['2', 'low'],
      ['3', 'low'],
    ]);
    vi.advanceTimersByTime(10 * settleMs);
    expect(wishes).toHaveLength(2);

    tiles.resized('2', 1000, 562);
    vi.advanceTimersByTime(settleMs);
    expect(wishes.at(-1)).toEqual(['2', 'high']);
  });

  it('drops the unsettled size of a tile that went away', () => {
    const wishes: [string, string][] = [];
    const tiles = new TileQualities((mid, quality) => wishes.push([mid, quality]), () => 1);
    tiles.resized('2', 800, 450);
    tiles.forget('2');
    vi.advanceTimersByTime(settleMs);
    expect(wishes).toEqual([]);
  });
});
