// Small inline SVG icons (no icon font, no network; fonts differ in which symbols they have).

export type IconName = 'first' | 'prev' | 'play' | 'pause' | 'next' | 'last' | 'sun' | 'moon' | 'gear' | 'stop' | 'bolt' | 'close';

const PATHS: Record<IconName, string> = {
  first: 'M4 3h2v10H4zM13 3v10L6.5 8z',
  prev: 'M11 3v10L4.5 8z',
  play: 'M5 3l8 5-8 5z',
  pause: 'M4 3h3v10H4zM9 3h3v10H9z',
  next: 'M5 3v10l6.5-5z',
  last: 'M10 3h2v10h-2zM3 3v10l6.5-5z',
  sun: 'M8 4.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7zM7.3 0h1.4v2.4H7.3zM7.3 13.6h1.4V16H7.3zM0 7.3h2.4v1.4H0zM13.6 7.3H16v1.4h-2.4zM2.1 3.1l1-1 1.7 1.7-1 1zM11.2 12.2l1-1 1.7 1.7-1 1zM2.1 12.9l1.7-1.7 1 1-1.7 1.7zM11.2 3.8l1.7-1.7 1 1-1.7 1.7z',
  moon: 'M10.5 1.5A6.5 6.5 0 1 0 14.5 11 5.5 5.5 0 0 1 10.5 1.5z',
  gear: 'M6.8 0h2.4l.4 2.1 1.3.6 1.8-1.2 1.7 1.7-1.2 1.8.6 1.3 2.2.4v2.4l-2.2.4-.6 1.3 1.2 1.8-1.7 1.7-1.8-1.2-1.3.6-.4 2.2H6.8l-.4-2.2-1.3-.6-1.8 1.2-1.7-1.7 1.2-1.8-.6-1.3L0 9.2V6.8l2.2-.4.6-1.3-1.2-1.8 1.7-1.7 1.8 1.2 1.3-.6zM8 5.2a2.8 2.8 0 1 0 0 5.6 2.8 2.8 0 0 0 0-5.6z',
  stop: 'M3.5 3.5h9v9h-9z',
  bolt: 'M9.5 0L3 9h4l-1 7 7-9.5H8.8z',
  close: 'M3.4 2l4.6 4.6L12.6 2 14 3.4 9.4 8l4.6 4.6-1.4 1.4L8 9.4 3.4 14 2 12.6 6.6 8 2 3.4z',
};

export function Icon({ name, size = 14 }: { name: IconName; size?: number }) {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} fill="currentColor" fillRule="evenodd" />
    </svg>
  );
}
