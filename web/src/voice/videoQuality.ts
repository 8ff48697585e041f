// How much of each remote video the app wants: the simulcast layer that fills the tile it is
// shown in (docs/protocol.md, "Video quality"). Tiles are watched with one ResizeObserver, and
// a size counts only once it has settled, so dragging a window edge sends nothing until the
// drag ends, and then only the tiles whose wanted layer changed are told to the server.
import type { VideoQuality } from './protocol';

/** The lower layers of a 1280×720 camera (VoiceClient sends quarter, half and full size). */
const quarterLayer = { width: 320, height: 180 };
const halfLayer = { width: 640, height: 360 };

/**
 * The quality a tile of `width`×`height` CSS pixels needs on a screen with `pixelRatio` device
 * pixels per CSS pixel: the smallest layer that covers it, and nothing for an empty tile.
 */
export function qualityForTile(width: number, height: number, pixelRatio: number): VideoQuality {
  const deviceWidth = width * pixelRatio;
  const deviceHeight = height * pixelRatio;
  if (deviceWidth <= 0 || deviceHeight <= 0) return 'off';
  const fits = (layer: { width: number; height: number }) => deviceWidth <= layer.width && deviceHeight <= layer.height;
  if (fits(quarterLayer)) return 'low';
  if (fits(halfLayer)) return 'medium';
  return 'high';
}

/** How long a tile's size must stay unchanged before it counts. */
export const settleMs = 300;

/** Watches the tiles of remote videos and tells `want` the quality each needs once it settles. */
export class TileQualities {
  /** Sizes that changed since the last flush, by the m-line of the video in the tile. */
  private readonly pending = new Map<string, { width: number; height: number }>();
  private readonly mids = new Map<Element, string>();
  private observer: ResizeObserver | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly want: (mid: string, quality: VideoQuality) => void,
    private readonly pixelRatio: () => number = () => globalThis.devicePixelRatio || 1,
  ) {}

  /** Watches `element`, which shows the remote video on `mid`; returns the function that stops. */
  observe(element: Element, mid: string): () => void {
    this.observer ??= new ResizeObserver((entries) => {
      for (const entry of entries) {
        const observed = this.mids.get(entry.target);
        if (observed !== undefined) this.resized(observed, entry.contentRect.width, entry.contentRect.height);
      }
    });
    this.mids.set(element, mid);
    this.observer.observe(element);
    return () => {
      this.observer?.unobserve(element);
      this.mids.delete(element);
      this.forget(mid);
    };
  }

  /** The tile showing `mid` is now `width`×`height` CSS pixels. */
  resized(mid: string, width: number, height: number): void {
    this.pending.set(mid, { width, height });
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), settleMs);
  }

  /** The tile is gone (its video hidden, or the track ended): its unsettled size no longer counts. */
  forget(mid: string): void {
    this.pending.delete(mid);
  }

  private flush(): void {
    this.timer = null;
    const ratio = this.pixelRatio();
    for (const [mid, { width, height }] of this.pending) this.want(mid, qualityForTile(width, height, ratio));
    this.pending.clear();
  }
}
