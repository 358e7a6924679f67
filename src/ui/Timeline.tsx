// Scrub through every recorded step: a slider plus start / back / play-pause / forward / live.
// Keyboard: the slider takes ←/→/Home/End/PageUp/PageDown; Space or K anywhere in the
// timeline plays/pauses, J/L step back/forward.

import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Icon } from './Icon';

export interface TimelineProps {
  frame: number;
  /** Last recorded step (frames are 0..maxFrame). */
  maxFrame: number;
  /** The view follows new steps as they arrive. */
  following: boolean;
  running: boolean;
  onFrame: (frame: number) => void;
  /** Jump to the newest step and keep following it. */
  onFollow: () => void;
  testPrefix?: string;
}

const PLAY_MS = 140;

export function Timeline({ frame, maxFrame, following, running, onFrame, onFollow, testPrefix = '' }: TimelineProps) {
  const [playing, setPlaying] = useState(false);
  const frameRef = useRef(frame);
  frameRef.current = frame;

  useEffect(() => {
    if (!playing) return;
    const id = setInterval(() => {
      const next = frameRef.current + 1;
      if (next > maxFrame) {
        setPlaying(false);
        return;
      }
      onFrame(next);
    }, PLAY_MS);
    return () => clearInterval(id);
  }, [playing, maxFrame, onFrame]);

  const go = (f: number) => {
    setPlaying(false);
    onFrame(Math.max(0, Math.min(maxFrame, f)));
  };
  const togglePlay = () => {
    if (playing) return setPlaying(false);
    if (frame >= maxFrame) onFrame(0);
    setPlaying(true);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const key = e.key.toLowerCase();
    const onSlider = (e.target as HTMLElement).tagName === 'INPUT';
    if (key === ' ' || key === 'k') {
      if ((e.target as HTMLElement).tagName === 'BUTTON' && key === ' ') return; // the button's own click
      e.preventDefault();
      togglePlay();
    } else if (key === 'j' || (!onSlider && key === 'arrowleft')) {
      e.preventDefault();
      go(frame - 1);
    } else if (key === 'l' || (!onSlider && key === 'arrowright')) {
      e.preventDefault();
      go(frame + 1);
    }
  };

  const disabled = maxFrame === 0;
  return (
    <div className="timeline" role="group" aria-label="Timeline" onKeyDown={onKeyDown} data-testid={`${testPrefix}timeline`}>
      <button type="button" className="icon-button" onClick={() => go(0)} disabled={disabled || frame === 0} aria-label="First step" title="First step (Home)">
        <Icon name="first" />
      </button>
      <button type="button" className="icon-button" onClick={() => go(frame - 1)} disabled={disabled || frame === 0} aria-label="Previous step" title="Previous step (J)">
        <Icon name="prev" />
      </button>
      <button
        type="button"
        className="icon-button play"
        onClick={togglePlay}
        disabled={disabled}
        aria-label={playing ? 'Pause' : 'Play'}
        aria-pressed={playing}
        title={playing ? 'Pause (K)' : 'Play (K)'}
        data-testid={`${testPrefix}timeline-play`}
      >
        <Icon name={playing ? 'pause' : 'play'} />
      </button>
      <button type="button" className="icon-button" onClick={() => go(frame + 1)} disabled={disabled || frame >= maxFrame} aria-label="Next step" title="Next step (L)">
        <Icon name="next" />
      </button>
      <input
        type="range"
        className="timeline-slider"
        min={0}
        max={Math.max(0, maxFrame)}
        step={1}
        value={Math.min(frame, maxFrame)}
        disabled={disabled}
        onChange={(e) => go(Number(e.target.value))}
        aria-label="Step"
        aria-valuetext={`step ${frame} of ${maxFrame}`}
        data-testid={`${testPrefix}timeline-slider`}
      />
      <button
        type="button"
        className={`live-button${following ? ' is-live' : ''}`}
        onClick={() => {
          setPlaying(false);
          onFollow();
        }}
        disabled={disabled && !running}
        aria-pressed={following}
        title={running ? 'Follow the newest step' : 'Jump to the last step (End)'}
      >
        {running ? 'live' : 'end'}
      </button>
    </div>
  );
}
